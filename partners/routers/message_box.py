"""The re-integration message box of the justice information exchange.

The prison service's systems put messages in it: the day-one notice, the end-of-detention
notice, the shareable D&R plan (art. 18a Pbw), risk information (art. 18b Pbw), and the
justice information service's notices to the mayor (BIJ) with their changes. The
municipality reads them in order with a cursor. Each message keeps its id and place
forever, so reading a page twice gives the same messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from partners.deps import SimDep, problem
from partners.state import CursorError, StoredMessage, decode_cursor, encode_cursor

router = APIRouter(prefix="/messagebox", tags=["justice message box"])

MessageType = Literal[
    "detention_started",
    "detention_ended",
    "reintegration_plan",
    "risk_information",
    # The BIJ: the justice information service's notices to the mayor, and what follows them.
    "mayoral_notice",
    "mayoral_notice_event",
]


class BoxMessage(BaseModel):
    id: str
    sequence: int
    type: str
    sent_at: datetime
    content_type: str = "application/json"
    content: str

    @classmethod
    def of(cls, message: StoredMessage) -> BoxMessage:
        return cls(
            id=message.id,
            sequence=message.sequence,
            type=message.type,
            sent_at=message.sent_at,
            content=message.content,
        )


class MessagePage(BaseModel):
    messages: list[BoxMessage]
    next_cursor: str | None
    more: bool


@router.get("/messages", response_model=MessagePage)
async def read_messages(
    sim: SimDep,
    after: str | None = Query(default=None, description="the `next_cursor` of the page before; none: from the start"),
    limit: int = Query(default=50, ge=1, le=1000),
    wait: float = Query(default=0, ge=0, description="seconds to hold the request until a message arrives"),
):
    """Messages after the cursor, oldest first; with `wait`, a long poll."""
    try:
        sequence = decode_cursor(after) if after else 0
    except CursorError as err:
        return problem(400, "Bad Request", str(err), invalidParams=[{"name": "after", "code": "cursor"}])
    behaviour = sim.config.message_box
    await sim.message_box.wait_after(sequence, min(wait, behaviour.max_wait))
    page = sim.message_box.after(sequence, min(limit, behaviour.max_page))
    last = page[-1].sequence if page else sequence
    return MessagePage(
        messages=[BoxMessage.of(m) for m in page],
        next_cursor=encode_cursor(last) if last else None,
        more=len(sim.message_box.messages) > last,
    )
