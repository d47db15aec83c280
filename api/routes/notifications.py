from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from temporalio.client import WorkflowUpdateFailedError

from api.deps import PolicyDep, SessionDep, TaskQueueDep, TemporalDep, UpdateTimeoutDep, release
from api.problems import PROBLEM_RESPONSES, from_update_failure
from api.schemas import NoticeBody
from api.security import Action, Principal, allowed
from api.updates import answered
from core.commands import start_case
from domain.models import NoticeReceipt
from store import queries

router = APIRouter(prefix="/v1/notifications", tags=["notifications"], responses=PROBLEM_RESPONSES)


@router.post(
    "/detention-started",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": NoticeReceipt, "description": "A repeat of a notice already received"}},
)
async def detention_started(
    request: Request,
    principal: Annotated[Principal, allowed(Action.RECEIVE_NOTICE)],
    notice: NoticeBody,
    response: Response,
    temporal: TemporalDep,
    policy: PolicyDep,
    task_queue: TaskQueueDep,
    timeout: UpdateTimeoutDep,
    session: SessionDep,
) -> NoticeReceipt:
    """The prison service's day-one notice: starts the case, exactly once."""
    request.state.audit.case_id = notice.case_id
    existing = queries.case_row(session, case_id=notice.case_id)
    principal.sends_for(notice.municipality, existing=existing.municipality if existing else None)
    release(session)
    try:
        receipt = await answered(
            start_case(temporal, notice, policy=policy, task_queue=task_queue, timeout=timeout), timeout
        )
    except WorkflowUpdateFailedError as err:
        # Sent before about another person: a 409, and the case unchanged.
        raise from_update_failure(err) from err
    if not receipt.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/cases/{receipt.case_id}"
    return receipt
