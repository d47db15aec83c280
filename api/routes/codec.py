"""Temporal's codec server protocol: the Web UI and the ``temporal`` CLI send the encrypted
payloads they show to ``/codec/decode`` and get them back readable (``/codec/encode`` for
what they send, such as a signal typed into the UI). Bodies are ``Payloads`` in protobuf
JSON, ``{"payloads": [{"metadata": {...}, "data": "<base64>"}]}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from api.problems import PROBLEM_RESPONSES, Problem
from api.security import Action, Principal, allowed
from core.codec import DecryptionError

PREFIX = "/codec"


Namespace = Annotated[
    str | None, Header(description="The Temporal namespace the payloads belong to (the Web UI sends it).")
]


def _codec(request: Request) -> PayloadCodec:
    codec = request.app.state.codec
    if codec is None:
        raise Problem(503, "this process's Temporal client has no payload codec")
    return codec


CodecDep = Annotated[PayloadCodec, Depends(_codec)]

router = APIRouter(prefix=PREFIX, tags=["codec"], responses=PROBLEM_RESPONSES)

_PAYLOADS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "payloads": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "data": {"type": "string", "format": "byte"},
                                },
                            },
                        }
                    },
                }
            }
        },
    }
}


async def _apply(request: Request, convert: Callable[[Sequence[Payload]], Awaitable[list[Payload]]]) -> Response:
    try:
        payloads = json_format.Parse(await request.body(), Payloads())
    except (json_format.ParseError, UnicodeDecodeError) as err:
        raise Problem(400, "the body is not Temporal Payloads in protobuf JSON") from err
    try:
        converted = await convert(payloads.payloads)
    except DecryptionError as err:
        # The message names key ids only, never key material or payload contents.
        raise Problem(400, str(err), type_="urn:reentry:problem:payload-not-decrypted") from err
    body = json_format.MessageToJson(Payloads(payloads=converted), indent=None)
    return Response(body, media_type="application/json")


# Decrypted payloads hold residents' BSNs, names and criminal-justice data: only the
# administrators who run Temporal may have them decrypted, and every call is audited.
@router.post("/encode", openapi_extra=_PAYLOADS_BODY)
async def encode(
    request: Request,
    _: Annotated[Principal, allowed(Action.ENCODE_PAYLOADS)],
    codec: CodecDep,
    x_namespace: Namespace = None,
) -> Response:
    """Encrypt payloads with the current key."""
    request.state.audit.target = f"namespace={x_namespace}" if x_namespace else None
    return await _apply(request, codec.encode)


@router.post("/decode", openapi_extra=_PAYLOADS_BODY)
async def decode(
    request: Request,
    _: Annotated[Principal, allowed(Action.DECODE_PAYLOADS)],
    codec: CodecDep,
    x_namespace: Namespace = None,
) -> Response:
    """Decrypt payloads; payloads that were never encrypted come back unchanged."""
    request.state.audit.target = f"namespace={x_namespace}" if x_namespace else None
    return await _apply(request, codec.decode)


class CodecCors:
    """CORS for the codec endpoints only: the Web UI calls them from its own origin in the
    staff member's browser. The rest of the API is not for browsers on other origins."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            # The UI can be set to send the staff member's credentials along.
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
