from __future__ import annotations

from fastapi import APIRouter, Response, status
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from api.commands import start_case
from api.deps import PolicyDep, TaskQueueDep, TemporalDep, UpdateTimeoutDep
from api.problems import not_answered
from domain.models import DetentionNotice, NoticeReceipt

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.post(
    "/detention-started",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": NoticeReceipt, "description": "A repeat of a notice already received"}},
)
async def detention_started(
    notice: DetentionNotice,
    response: Response,
    temporal: TemporalDep,
    policy: PolicyDep,
    task_queue: TaskQueueDep,
    timeout: UpdateTimeoutDep,
) -> NoticeReceipt:
    """The prison service's day-one notice: starts the case, exactly once."""
    try:
        receipt = await start_case(temporal, notice, policy=policy, task_queue=task_queue, timeout=timeout)
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise not_answered(timeout) from err
    if not receipt.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/cases/{receipt.case_id}"
    return receipt
