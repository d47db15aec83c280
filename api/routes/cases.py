from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api import idempotency
from api.deps import CaseInReach, PolicyDep, SessionDep, TemporalDep, UpdateTimeoutDep, case_in_reach, release
from api.problems import (
    CASE_PROBLEM_RESPONSES,
    PURPOSE_PROBLEM_RESPONSES,
    Problem,
    case_closed,
    case_not_found,
)
from api.schemas import CaseView, CompleteTaskBody, PersonCase, ResidentName, Residents
from api.security import PARTNER_EVENTS, Action, Principal, Role, allowed
from api.updates import answered, case_state, run_update
from domain.models import (
    CASE_ID_PATTERN,
    AssignTaskInput,
    CaseEvent,
    CaseSummary,
    ClaimTaskInput,
    CompleteTaskInput,
    RecordEventInput,
    RiskSeen,
    Task,
    TaskAssignment,
)
from store import notices, queries
from workflows.case import CaseWorkflow

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=CASE_PROBLEM_RESPONSES)

TaskKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="a task's key, e.g. id_document")]


UpdateInput = TypeVar("UpdateInput")
UpdateResult = TypeVar("UpdateResult")


async def _update(
    request: Request,
    temporal: Client,
    timeout: timedelta,
    case_id: str,
    update: UpdateMethodMultiParam[[CaseWorkflow, UpdateInput], UpdateResult],
    arg: UpdateInput,
) -> UpdateResult:
    handle = temporal.get_workflow_handle_for(CaseWorkflow.run, case_id)
    return await run_update(
        handle,
        update,
        arg,
        timeout=timeout,
        closed=case_closed(case_id),
        missing=case_not_found(case_id),
        update_id=idempotency.update_id(request),
    )


CaseReader = Annotated[CaseInReach, case_in_reach(Action.READ_CASE)]
TaskCompleter = Annotated[CaseInReach, case_in_reach(Action.COMPLETE_TASK)]
TaskClaimer = Annotated[CaseInReach, case_in_reach(Action.CLAIM_TASK)]
TaskAssigner = Annotated[CaseInReach, case_in_reach(Action.ASSIGN_TASK)]
EventRecorder = Annotated[CaseInReach, case_in_reach(Action.RECORD_EVENT)]


MAX_RESIDENTS = 50


@router.get("/residents", responses={404: PURPOSE_PROBLEM_RESPONSES[404]})
async def residents(
    request: Request,
    principal: Annotated[Principal, allowed(Action.READ_CASE)],
    temporal: TemporalDep,
    session: SessionDep,
    timeout: UpdateTimeoutDep,
    case_id: Annotated[list[str], Query(min_length=1, max_length=MAX_RESIDENTS)],
) -> Residents:
    """Whom each case is about, by name only (no BSN, no birth date), read from the cases
    themselves: what a list that names its residents needs, in one call. A case not
    there, or not within reach, is left out, the two alike. Audited as a read of each
    case."""
    wanted = sorted({c for c in case_id if CASE_ID_PATTERN.match(c)})
    known = queries.case_municipalities(session, case_ids=wanted)
    release(session)
    note = request.state.audit
    note.target = "given_names,surname"
    note.cases = [(c, not principal.grants(m)) for c, m in sorted(known.items())]
    in_reach = [c for c, refused in note.cases if not refused]

    async def one(case: str) -> ResidentName | None:
        try:
            handle = temporal.get_workflow_handle_for(CaseWorkflow.run, case)
            resident = await handle.query(CaseWorkflow.resident, rpc_timeout=timeout)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        if not principal.grants(resident.municipality):
            # The read model lagged behind a hand-over: the case has the last word.
            return None
        return ResidentName(case_id=case, given_names=resident.given_names, surname=resident.surname)

    named = await answered(asyncio.gather(*(one(c) for c in in_reach)), timeout)
    found = {r.case_id for r in named if r is not None}
    note.cases = [(c, refused or c not in found) for c, refused in note.cases]
    return Residents(residents=[r for r in named if r is not None])


@router.get("/{case_id}")
async def get_case(
    request: Request,
    case: CaseReader,
    temporal: TemporalDep,
    session: SessionDep,
    policy: PolicyDep,
    timeout: UpdateTimeoutDep,
) -> CaseView:
    """A case, for casework: the person, the screening, the tasks, the history."""
    state = await case_state(temporal, case.case_id, timeout)
    if not case.principal.grants(state.responsible_municipality):
        # The read model lagged behind a hand-over: the case itself has the last word.
        request.state.audit.refused = True
        raise case_not_found(case.case_id)
    view = CaseView.from_state(state)
    view.same_person = [
        PersonCase.model_validate(row, from_attributes=True)
        for row in queries.cases_of_person(
            session,
            person_keys=request.app.state.person_keys.every(state.notice.person.bsn),
            municipalities=case.principal.scope,
            but=case.case_id,
        )
    ]
    if policy.mayoral is not None and policy.mayoral.casework_sees_notice:
        view.mayoral_notice_exists = notices.notice_exists(session, detention_id=state.notice.detention_id)
    request.state.audit.target = ",".join(type(view).model_fields)
    return view


@router.post("/{case_id}/tasks/{task_key}/complete")
async def complete_task(
    request: Request,
    case: TaskCompleter,
    task_key: TaskKey,
    body: CompleteTaskBody,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> Task:
    """Complete a task, with the outcome its kind asks for."""
    request.state.audit.target = task_key
    update = CompleteTaskInput(task_key=task_key, actor=case.principal.user, outcome=body.outcome)
    return await _update(request, temporal, timeout, case.case_id, CaseWorkflow.complete_task, update)


@router.post("/{case_id}/tasks/{task_key}/claim")
async def claim_task(
    request: Request, case: TaskClaimer, task_key: TaskKey, temporal: TemporalDep, timeout: UpdateTimeoutDep
) -> Task:
    """Take a task on as its assignee."""
    request.state.audit.target = task_key
    update = ClaimTaskInput(task_key=task_key, actor=case.principal.user)
    return await _update(request, temporal, timeout, case.case_id, CaseWorkflow.claim_task, update)


@router.post("/{case_id}/tasks/{task_key}/assign")
async def assign_task(
    request: Request,
    case: TaskAssigner,
    task_key: TaskKey,
    body: TaskAssignment,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> Task:
    """Give a task to a person, a team, or both."""
    request.state.audit.target = task_key
    update = AssignTaskInput(task_key=task_key, actor=case.principal.user, assignee=body.assignee, team=body.team)
    return await _update(request, temporal, timeout, case.case_id, CaseWorkflow.assign_task, update)


@router.post("/{case_id}/events")
async def record_event(
    request: Request,
    case: EventRecorder,
    event: CaseEvent,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> CaseSummary:
    """Record an event from outside: screening, plan, release date, release, leave, move, consent, closure."""
    request.state.audit.target = event.type
    principal = case.principal
    if not principal.casework and Role.PARTNER_SYSTEM in principal.roles and event.type not in PARTNER_EVENTS:
        request.state.audit.refused = True
        raise Problem(
            403,
            f"a partner system reports only {', '.join(sorted(PARTNER_EVENTS))}; {event.type} is a caseworker's",
            type_="urn:reentry:problem:forbidden",
        )
    if isinstance(event, RiskSeen) and Role.COORDINATOR not in principal.roles:
        request.state.audit.refused = True
        raise Problem(403, "a coordinator marks risk information as seen", type_="urn:reentry:problem:forbidden")
    update = RecordEventInput(actor=principal.user, event=event)
    return await _update(request, temporal, timeout, case.case_id, CaseWorkflow.record_event, update)
