"""Typed client calls into Temporal that more than one part of the product makes: a case
is started by the API (a day-one notice the prison service posts) and by the message-box
intake (``activities.intake``), and by the tests the same way.

Typed references to the workflow (``CaseWorkflow.run``, ``CaseWorkflow.receive_notice``),
never names: hence the one import of ``workflows`` here.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.mayoral import MayoralNotice, StartNoticeInput
from domain.mayoral import NoticeReceipt as MayoralNoticeReceipt
from domain.models import DetentionNotice, NoticeReceipt, StartCaseInput
from domain.policy import Policy
from workflows.case import CaseWorkflow
from workflows.mayoral import MayoralNoticeWorkflow


async def start_case(
    client: Client,
    notice: DetentionNotice,
    *,
    policy: Policy,
    task_queue: str,
    timeout: timedelta | None = None,
) -> NoticeReceipt:
    """Start the case of a day-one notice, exactly once.

    Update-with-start: a first notice starts the workflow, a repeat reaches the running
    case (which answers that it was not new). A repeat for a case that has already
    closed starts nothing either: the id may not be reused.
    """
    operation = WithStartWorkflowOperation(
        CaseWorkflow.run,
        StartCaseInput(notice=notice, policy=policy),
        id=notice.case_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    try:
        return await client.execute_update_with_start_workflow(
            CaseWorkflow.receive_notice, notice, start_workflow_operation=operation, rpc_timeout=timeout
        )
    except (WorkflowAlreadyStartedError, RPCError) as err:
        # The time-skipping test server reports a closed id as a plain ALREADY_EXISTS,
        # without the details from which the SDK makes a WorkflowAlreadyStartedError.
        if isinstance(err, RPCError) and err.status != RPCStatusCode.ALREADY_EXISTS:
            raise
    # The start operation holds the same error: take it, so it is not reported as lost.
    with contextlib.suppress(WorkflowAlreadyStartedError, RPCError):
        await operation.workflow_handle()
    return NoticeReceipt(case_id=notice.case_id, created=False)


class NoMayoralTrack(Exception):
    """The policy has no mayoral section: this installation takes no BIJ notices."""


async def start_notice(
    client: Client,
    notice: MayoralNotice,
    *,
    policy: Policy,
    task_queue: str,
    timeout: timedelta | None = None,
) -> MayoralNoticeReceipt:
    """Start the mayor's track of a BIJ notice, exactly once, as ``start_case`` does a case."""
    if policy.mayoral is None:
        raise NoMayoralTrack(f"policy {policy.version} has no mayoral section")
    operation = WithStartWorkflowOperation(
        MayoralNoticeWorkflow.run,
        StartNoticeInput(notice=notice, policy=policy.mayoral, policy_version=policy.version),
        id=notice.workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    try:
        return await client.execute_update_with_start_workflow(
            MayoralNoticeWorkflow.receive_notice, notice, start_workflow_operation=operation, rpc_timeout=timeout
        )
    except (WorkflowAlreadyStartedError, RPCError) as err:
        if isinstance(err, RPCError) and err.status != RPCStatusCode.ALREADY_EXISTS:
            raise
    with contextlib.suppress(WorkflowAlreadyStartedError, RPCError):
        await operation.workflow_handle()
    return MayoralNoticeReceipt(notice_id=notice.notice_id, created=False)
