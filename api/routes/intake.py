"""What the intake of the justice message box kept aside, for the operators who run it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import SessionDep
from api.pages import Cursor, Limit, ReadModelItem, read_page
from api.problems import PROBLEM_RESPONSES
from api.security import Action, Principal, allowed
from store.intake import held_page

router = APIRouter(prefix="/v1/intake", tags=["intake"], responses=PROBLEM_RESPONSES)


class HeldMessage(ReadModelItem):
    message_id: str
    sequence: int
    type: str
    sent_at: datetime
    received_at: datetime
    outcome: str
    reason: str | None
    case_id: str | None


class HeldPage(BaseModel):
    items: list[HeldMessage]
    next_cursor: str | None


@router.get("/held")
def held_messages(
    _: Annotated[Principal, allowed(Action.READ_INTAKE)], session: SessionDep, cursor: Cursor = None, limit: Limit = 50
) -> HeldPage:
    """Messages of the message box that were kept aside: not understood, or naming a
    detention without a case. Ids and reasons only; the message box keeps the content."""
    rows, next_cursor = read_page(held_page, session=session, cursor=cursor, limit=limit)
    return HeldPage(items=[HeldMessage.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)
