"""The signature on commands into a case (``core.signing``), without a server: what it
binds, and that no update of reentry's workflows escapes the check."""

from __future__ import annotations

from temporalio.workflow import _Definition

from core.codec import Keyring, new_key_line
from core.signing import HEADER, CommandSigner
from domain.models import ClaimTaskInput
from tests.helpers import TEST_KEY_LINE, TEST_KEYRING
from worker.temporal import WORKFLOWS

CLAIM = [ClaimTaskInput(task_key="contact_prison", actor="caroline")]


def test_every_update_has_a_validator_where_the_signature_is_checked():
    # Temporal runs the interceptor's validator only where the workflow defines one.
    unchecked = [
        f"{workflow.__name__}.{name}"
        for workflow in WORKFLOWS
        for name, update in _Definition.from_class(workflow).updates.items()
        if update.validator is None
    ]
    assert unchecked == []
    assert all(not _Definition.from_class(workflow).signals for workflow in WORKFLOWS), "a signal cannot be refused"


def test_a_signature_fits_its_own_command_only():
    signer = CommandSigner(TEST_KEYRING)
    header = {HEADER: signer.sign("case-1", "claim_task", "u-1", CLAIM)}
    assert signer.verify(header, "case-1", "claim_task", "u-1", CLAIM)
    mallory = [ClaimTaskInput(task_key="contact_prison", actor="mallory")]
    assert not signer.verify(header, "case-1", "claim_task", "u-1", mallory)
    assert not signer.verify(header, "case-2", "claim_task", "u-1", CLAIM)
    assert not signer.verify(header, "case-1", "complete_task", "u-1", CLAIM)
    assert not signer.verify(header, "case-1", "claim_task", "u-2", CLAIM)
    assert not signer.verify({}, "case-1", "claim_task", "u-1", CLAIM)


def test_only_a_key_of_the_ring_signs_and_a_rotated_ring_still_checks():
    stranger = CommandSigner(Keyring.parse(new_key_line("mallory")))
    forged = {HEADER: stranger.sign("case-1", "claim_task", "u-1", CLAIM)}
    assert not CommandSigner(TEST_KEYRING).verify(forged, "case-1", "claim_task", "u-1", CLAIM)

    signed = {HEADER: CommandSigner(TEST_KEYRING).sign("case-1", "claim_task", "u-1", CLAIM)}
    rotated = Keyring.parse(f"{new_key_line('2031-a')}\n{TEST_KEY_LINE}", current="2031-a")
    assert CommandSigner(rotated).verify(signed, "case-1", "claim_task", "u-1", CLAIM)


def test_a_mangled_header_is_no_signature():
    signer = CommandSigner(TEST_KEYRING)
    header = signer.sign("case-1", "claim_task", "u-1", CLAIM)
    for data in (b"", b"null", b"[]", b'{"key": 1, "mac": 2}', b'{"key": "other", "mac": "00"}'):
        mangled = type(header)(metadata=header.metadata, data=data)
        assert not signer.verify({HEADER: mangled}, "case-1", "claim_task", "u-1", CLAIM)
