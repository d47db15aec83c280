"""Dependencies of the routes: one Temporal client per process, the settings, the clock,
the caller, and the cases and mayoral notices within its reach."""

# No `from __future__ import annotations`: the dependencies made in `case_in_reach` name
# its argument in their annotations, which FastAPI must be able to evaluate.

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request, params
from sqlmodel import Session
from temporalio.client import Client

from api.problems import Problem, case_not_found
from api.security import Action, Principal, allowed
from domain.mayoral import NOTICE_ID_PATTERN
from domain.models import CASE_ID_PATTERN, local_date
from domain.policy import Policy
from store import notices, queries


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


def release(session: Session) -> None:
    """Give the request's database connection back before the request waits on Temporal.

    A session holds its connection until it closes, and a request may wait seconds for a
    case to answer: with as many requests in flight as the pool has connections, every
    other request (and, in one process, the worker's projection writes) would wait for
    one. The session takes a connection again if the request reads once more."""
    session.close()


def _temporal(request: Request) -> Client:
    return request.app.state.temporal


def _policy(request: Request) -> Policy:
    return request.app.state.policy


def _task_queue(request: Request) -> str:
    return request.app.state.task_queue


def _update_timeout(request: Request) -> timedelta:
    return request.app.state.update_timeout


def now() -> datetime:
    """The time of the request, in UTC. A dependency of its own, so that a test can set the
    clock (``app.dependency_overrides[now]``)."""
    return datetime.now(UTC)


def _today(moment: Annotated[datetime, Depends(now)]) -> date:
    # The Dutch date: after midnight in the Netherlands, UTC is still on the day before.
    return local_date(moment)


def _case_id(case_id: str) -> str:
    if not CASE_ID_PATTERN.match(case_id):
        raise case_not_found(case_id)
    return case_id


TemporalDep = Annotated[Client, Depends(_temporal)]
SessionDep = Annotated[Session, Depends(_session)]
PolicyDep = Annotated[Policy, Depends(_policy)]
TaskQueueDep = Annotated[str, Depends(_task_queue)]
UpdateTimeoutDep = Annotated[timedelta, Depends(_update_timeout)]
TodayDep = Annotated[date, Depends(_today)]
CaseIdDep = Annotated[str, Depends(_case_id)]


def granted_scope(request: Request, principal: Principal, municipality: str | None) -> list[str] | None:
    """The municipalities a list or a count may cover: those asked for, within those
    granted (None: all). Another municipality's cases or notices are not there, not even
    as a count."""
    granted = principal.scope
    scope: list[str] | None
    if municipality is not None:
        scope = [municipality] if granted is None or municipality in granted else []
    else:
        scope = granted
    request.state.audit.target = f"municipalities={','.join(scope) if scope is not None else '*'}"
    return scope


@dataclass(frozen=True)
class CaseInReach:
    case_id: str
    principal: Principal


def case_in_reach(action: Action) -> params.Depends:
    """A dependency on the case of the path, if the caller may perform `action` and the
    case is within its reach: ``Annotated[CaseInReach, case_in_reach(action)]``. A case of
    another municipality answers exactly as one that does not exist (404), and is logged
    as refused."""

    def dependency(
        request: Request, principal: Annotated[Principal, allowed(action)], case_id: CaseIdDep, session: SessionDep
    ) -> CaseInReach:
        note = request.state.audit
        note.case_id = case_id
        row = queries.case_row(session, case_id=case_id)
        if row is None or not principal.grants(row.municipality):
            note.refused = row is not None
            raise case_not_found(case_id)
        release(session)
        return CaseInReach(case_id=case_id, principal=principal)

    return params.Depends(dependency)


def notice_not_found(workflow_id: str) -> Problem:
    return Problem(404, f"no mayoral notice {workflow_id!r}", type_="urn:reentry:problem:notice-not-found")


@dataclass(frozen=True)
class NoticeInReach:
    workflow_id: str
    principal: Principal


def notice_in_reach(action: Action) -> params.Depends:
    """As ``case_in_reach``, for a mayoral notice: ``Annotated[NoticeInReach,
    notice_in_reach(action)]``. Another municipality's notice, or one erased, answers as
    one that does not exist (404)."""

    def dependency(
        request: Request, principal: Annotated[Principal, allowed(action)], notice_id: str, session: SessionDep
    ) -> NoticeInReach:
        note = request.state.audit
        note.case_id = notice_id
        if not NOTICE_ID_PATTERN.match(notice_id):
            raise notice_not_found(notice_id)
        row = notices.notice_row(session, workflow_id=notice_id)
        if row is None or not principal.grants(row.municipality):
            note.refused = row is not None
            raise notice_not_found(notice_id)
        release(session)
        return NoticeInReach(workflow_id=notice_id, principal=principal)

    return params.Depends(dependency)
