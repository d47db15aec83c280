"""The re-integration message box of the justice information exchange.

From it come the day-one notice (start of detention), the end-of-detention notice, the
shareable D&R plan (art. 18a Pbw), risk information (art. 18b Pbw), and the justice
information service's notices to the mayor (BIJ) with what changes after them. It is read in
order with a cursor; every message has an id that never changes, so a page read twice
(a retried poll) gives the same messages, and whoever acts on them dedupes by id.

A message whose content cannot be understood is not an error of the poll: it comes back
in ``unreadable`` with the reason, to be kept aside for an operator, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from temporalio import activity

from activities.partners.errors import as_activity_errors
from activities.partners.http import Answer, PartnerClient, shape_errors
from domain.mayoral import MayoralEvent, MayoralNotice, NoticeId
from domain.models import DetentionId, DetentionNotice, RiskInformation, SharedPlan

# ---------------------------------------------------------------------------
# On the wire


class BoxMessage(Answer):
    id: str
    sequence: int
    type: str
    sent_at: datetime
    content_type: str = "application/json"
    content: str


class MessagePage(Answer):
    messages: list[BoxMessage]
    next_cursor: str | None = None
    more: bool = False


class MessageBoxClient(PartnerClient):
    partner = "message_box"

    async def read(self, *, after: str | None = None, limit: int = 50, wait: float = 0) -> MessagePage:
        """The messages after the cursor, oldest first; ``wait`` seconds of long poll."""
        params: dict[str, str | int | float] = {"limit": limit, "wait": wait}
        if after:
            params["after"] = after
        page = await self._call("GET", "messages", MessagePage, params=params, timeout=self.timeout + wait)
        assert page is not None
        return page


# ---------------------------------------------------------------------------
# What the messages say


class _Content(BaseModel):
    model_config = ConfigDict(extra="forbid")


ReleaseReason = Literal["sentence_served", "conditional_release", "court_order", "transferred_abroad", "other"]


class EndOfDetention(_Content):
    detention_id: DetentionId
    release_date: date
    reason: ReleaseReason = "other"


class MayoralNoticeChange(_Content):
    """What changed after a notice to the mayor: its date, a cancelled leave, the return,
    re-detention."""

    notice_id: NoticeId
    event: MayoralEvent


class _Received(BaseModel):
    message_id: str
    sequence: int
    sent_at: datetime


class DetentionStarted(_Received):
    type: Literal["detention_started"] = "detention_started"
    content: DetentionNotice


class DetentionEnded(_Received):
    type: Literal["detention_ended"] = "detention_ended"
    content: EndOfDetention


class PlanShared(_Received):
    type: Literal["reintegration_plan"] = "reintegration_plan"
    content: SharedPlan


class RiskShared(_Received):
    type: Literal["risk_information"] = "risk_information"
    content: RiskInformation


class MayoralNoticeReceived(_Received):
    type: Literal["mayoral_notice"] = "mayoral_notice"
    content: MayoralNotice


class MayoralNoticeChanged(_Received):
    type: Literal["mayoral_notice_event"] = "mayoral_notice_event"
    content: MayoralNoticeChange


JusticeMessage = Annotated[
    DetentionStarted | DetentionEnded | PlanShared | RiskShared | MayoralNoticeReceived | MayoralNoticeChanged,
    Field(discriminator="type"),
]
_CONTENT: dict[str, type[BaseModel]] = {
    "detention_started": DetentionNotice,
    "detention_ended": EndOfDetention,
    "reintegration_plan": SharedPlan,
    "risk_information": RiskInformation,
    "mayoral_notice": MayoralNotice,
    "mayoral_notice_event": MayoralNoticeChange,
}
_MESSAGE = TypeAdapter(JusticeMessage)


class UnreadableMessage(BaseModel):
    """A message kept aside: its id and why it could not be understood (no content)."""

    message_id: str
    sequence: int
    type: str
    sent_at: datetime
    reason: str


class UnreadableContent(ValueError):
    pass


def understand(message: BoxMessage) -> JusticeMessage:
    """What a message says, or ``UnreadableContent`` with the reason (never the content)."""
    model = _CONTENT.get(message.type)
    if model is None:
        raise UnreadableContent(f"unknown message type {message.type[:40]!r}")
    if message.content_type != "application/json":
        raise UnreadableContent(f"content type {message.content_type[:60]!r} is not JSON")
    try:
        content = model.model_validate_json(message.content)
    except ValidationError as err:
        if any(e["type"] == "json_invalid" for e in err.errors()):
            raise UnreadableContent("content is not valid JSON") from None
        raise UnreadableContent(f"content not as agreed: {shape_errors(err)}") from None
    return _MESSAGE.validate_python(
        {
            "type": message.type,
            "message_id": message.id,
            "sequence": message.sequence,
            "sent_at": message.sent_at,
            "content": content,
        }
    )


# ---------------------------------------------------------------------------
# The activity


class FetchMessages(BaseModel):
    cursor: str | None = Field(default=None, description="the `next_cursor` of the fetch before; none: from the start")
    limit: int = Field(default=50, ge=1, le=1000)
    wait_seconds: float = Field(default=20, ge=0, description="long poll: how long the box may hold the request")


class FetchedMessages(BaseModel):
    messages: list[JusticeMessage] = []
    unreadable: list[UnreadableMessage] = []
    next_cursor: str | None = None
    more: bool = False


def read_page(page: MessagePage) -> FetchedMessages:
    fetched = FetchedMessages(next_cursor=page.next_cursor, more=page.more)
    for message in page.messages:
        try:
            fetched.messages.append(understand(message))
        except UnreadableContent as err:
            fetched.unreadable.append(
                UnreadableMessage(
                    message_id=message.id,
                    sequence=message.sequence,
                    type=message.type[:40],
                    sent_at=message.sent_at,
                    reason=str(err),
                )
            )
    return fetched


class MessageBoxActivities:
    def __init__(self, client: MessageBoxClient, *, heartbeat_every: float = 5.0) -> None:
        self._client, self._heartbeat_every = client, heartbeat_every

    @activity.defn
    async def fetch_justice_messages(self, request: FetchMessages) -> FetchedMessages:
        """One long poll of the message box from the cursor. Heartbeats while the box holds
        the request, so a lost worker is noticed and a cancellation arrives."""
        poll = asyncio.create_task(
            self._client.read(after=request.cursor, limit=request.limit, wait=request.wait_seconds)
        )
        try:
            while True:
                activity.heartbeat(request.cursor)
                done, _ = await asyncio.wait({poll}, timeout=self._heartbeat_every)
                if done:
                    break
        finally:
            if not poll.done():
                poll.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poll
        with as_activity_errors():
            page = poll.result()
        return read_page(page)
