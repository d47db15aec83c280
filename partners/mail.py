"""A real SMTP server that keeps what it receives: where reminders and escalations by
e-mail arrive on one machine (``reentry partners``) and in the tests.

Like a real one, it refuses a mailbox it does not know: an address whose local part
starts with ``unknown`` is refused for good (550), one that starts with ``full`` for now
(452, try again later).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy

from aiosmtpd.smtp import SMTP, Envelope, Session

from partners.state import ReceivedMail


class _Keep:
    def __init__(self, inbox: list[ReceivedMail], now: Callable[[], datetime]) -> None:
        self.inbox, self.now = inbox, now

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        local = address.split("@")[0].lower()
        if local.startswith("unknown"):
            return "550 5.1.1 mailbox unknown"
        if local.startswith("full"):
            return "452 4.2.2 mailbox full, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        body = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
        self.inbox.append(
            ReceivedMail(
                mail_from=envelope.mail_from or "",
                to=list(envelope.rcpt_tos),
                subject=str(message.get("Subject", "")).strip(),
                message_id=message.get("Message-ID"),
                body=body.get_content().replace("\r\n", "\n") if body is not None else "",
                received_at=self.now(),
            )
        )
        return "250 OK: queued"


async def start_mail_server(
    inbox: list[ReceivedMail], *, host: str = "127.0.0.1", port: int = 0, now: Callable[[], datetime] | None = None
) -> asyncio.Server:
    """An SMTP server on this event loop; ``port=0`` takes a free port (see
    ``server.sockets[0].getsockname()``). Close it with ``server.close()``."""
    # aiosmtpd logs every line of the conversation, addresses included.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    handler = _Keep(inbox, now or (lambda: datetime.now(UTC)))
    return await loop.create_server(lambda: SMTP(handler, hostname="reentry-partners", loop=loop), host, port)
