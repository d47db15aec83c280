"""The audit log, for auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import SessionDep
from api.pages import Cursor, Limit, ReadModelItem, read_page
from api.problems import PROBLEM_RESPONSES
from api.security import Action, Principal, allowed
from store.audit import audit_page

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=PROBLEM_RESPONSES)


class AuditEntry(ReadModelItem):
    id: int
    at: datetime
    request_id: str
    user_id: str | None
    roles: str | None
    action: str
    case_id: str | None
    target: str | None
    outcome: str
    status: int


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


@router.get("")
def read_audit_log(
    _: Annotated[Principal, allowed(Action.READ_AUDIT)],
    session: SessionDep,
    user: Annotated[str | None, Query(max_length=100, description="a user id or partner system")] = None,
    case_id: Annotated[str | None, Query(max_length=80)] = None,
    action: Action | None = None,
    outcome: Literal["allowed", "refused"] | None = None,
    since: Annotated[datetime | None, Query(description="from this moment on (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="before this moment")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AuditPage:
    """Who read or changed which case data, and when: newest first, filtered, a page at a time."""
    rows, next_cursor = read_page(
        audit_page,
        session=session,
        user_id=user,
        case_id=case_id,
        action=action.value if action else None,
        outcome=outcome,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return AuditPage(items=[AuditEntry.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)
