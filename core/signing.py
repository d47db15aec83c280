"""Commands into a case carry reentry's signature, so that the Temporal frontend is no side
door: whoever can reach its port, but holds no key, changes nothing.

Every update and signal that a reentry client sends (the API, the worker's intake,
retention and case links, the command line) carries a header, ``reentry-signature``: an
HMAC-SHA256 over the workflow id, the update's name, the update's id and its arguments,
with a key derived from the current codec key (``core.codec``). Only the processes that can read a case's
payloads hold it: the API and the workers.

The worker checks it before anything else: an update without a valid signature is
rejected in its validator, so it leaves no trace in the history (Temporal does not record a
rejected update); a signal without one is ignored (reentry's workflows take no signals).
A signature names the update's id, so a signature copied onto another command does not
fit it, and the same command sent again under its own id is the same update, which
Temporal answers once.

What a signature does not cover: starting a workflow, terminating one, or reading the
(encrypted) history. Keep the frontend inside the cluster, behind mutual TLS and the
cluster's authorizer (docs/operations.md, "Temporal's frontend").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import to_jsonable_python
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Interceptor as ClientInterceptor,
)
from temporalio.client import (
    OutboundInterceptor as ClientOutbound,
)
from temporalio.client import (
    SignalWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    WorkflowUpdateHandle,
)
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleSignalInput,
    HandleUpdateInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)
from temporalio.worker import (
    Interceptor as WorkerInterceptor,
)

from core.codec import Keyring

HEADER = "reentry-signature"
# The error type of a refused command, as the caller sees it.
UNSIGNED = "CommandNotSigned"
_VERSION = "reentry-command-v1"
_DERIVATION = b"reentry command signing v1"


class CommandSigner:
    """Signs and checks commands with keys derived from a codec keyring: the current key
    signs, every key in the ring checks (a signature outlives a key's rotation)."""

    def __init__(self, keyring: Keyring) -> None:
        self._keys = keyring.derive(_DERIVATION)
        self._current = keyring.current

    @staticmethod
    def _message(workflow_id: str, name: str, command_id: str, args: Sequence[Any]) -> bytes:
        body = json.dumps(to_jsonable_python(list(args)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "\n".join((_VERSION, workflow_id, name, command_id, body)).encode()

    def _mac(self, key_id: str, message: bytes) -> str:
        return hmac.new(self._keys[key_id], message, hashlib.sha256).hexdigest()

    def sign(self, workflow_id: str, name: str, command_id: str, args: Sequence[Any]) -> Payload:
        mac = self._mac(self._current, self._message(workflow_id, name, command_id, args))
        return Payload(
            metadata={"encoding": b"json/plain"},
            data=json.dumps({"key": self._current, "mac": mac}).encode(),
        )

    def verify(
        self, headers: Mapping[str, Payload], workflow_id: str, name: str, command_id: str, args: Sequence[Any]
    ) -> bool:
        header = headers.get(HEADER)
        if header is None:
            return False
        try:
            signature = json.loads(header.data)
            key_id, mac = signature["key"], signature["mac"]
        except (ValueError, TypeError, KeyError):
            return False
        if not isinstance(key_id, str) or not isinstance(mac, str) or key_id not in self._keys:
            return False
        return hmac.compare_digest(mac, self._mac(key_id, self._message(workflow_id, name, command_id, args)))


class CommandSigning(ClientInterceptor, WorkerInterceptor):
    """On a client: signs every update and signal it sends. On a worker made from that
    client (or given it): refuses what is not signed."""

    def __init__(self, keyring: Keyring) -> None:
        self.signer = CommandSigner(keyring)
        signer = self.signer

        class _Inbound(_SignedInbound):
            _signer = signer

        self._inbound = _Inbound

    def intercept_client(self, next: ClientOutbound) -> ClientOutbound:
        return _SigningClientOutbound(next, self.signer)

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return self._inbound


class _SigningClientOutbound(ClientOutbound):
    def __init__(self, next: ClientOutbound, signer: CommandSigner) -> None:
        super().__init__(next)
        self._signer = signer

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        input.update_id = input.update_id or str(uuid.uuid4())
        signature = self._signer.sign(input.id, input.update, input.update_id, input.args)
        input.headers = {**input.headers, HEADER: signature}
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: StartWorkflowUpdateWithStartInput
    ) -> WorkflowUpdateHandle[Any]:
        update = input.update_workflow_input
        update.update_id = update.update_id or str(uuid.uuid4())
        signature = self._signer.sign(input.start_workflow_input.id, update.update, update.update_id, update.args)
        update.headers = {**update.headers, HEADER: signature}
        return await super().start_update_with_start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        input.headers = {**input.headers, HEADER: self._signer.sign(input.id, input.signal, "", input.args)}
        await super().signal_workflow(input)


def _refusal() -> ApplicationError:
    return ApplicationError(
        "refused: this command does not carry reentry's signature; send it through reentry's API",
        type=UNSIGNED,
        non_retryable=True,
    )


class _SignedInbound(WorkflowInboundInterceptor):
    """Inside the workflow: deterministic, since the check reads nothing but the command and
    keys that stay in the ring as long as the payloads they sign must be read."""

    _signer: CommandSigner

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        # Temporal runs a validator only where the workflow defines one: every update of
        # reentry's workflows has one (tests/core/test_signing.py holds them to it). Not
        # run on replay, so a history recorded before a key's rotation replays.
        if not self._signer.verify(input.headers, workflow.info().workflow_id, input.update, input.id, input.args):
            raise _refusal()
        super().handle_update_validator(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        # Checked on replay too, so that a signal ignored once is ignored again.
        if not self._signer.verify(input.headers, workflow.info().workflow_id, input.signal, "", input.args):
            workflow.logger.warning("a signal %s without reentry's signature was ignored", input.signal)
            return
        await super().handle_signal(input)
