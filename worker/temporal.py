"""One way to build the worker: every workflow and every activity of the product, on a
client from ``core.temporal.connect`` (whose data converter, tracing and metrics the
worker inherits)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities import NotificationActivities, ProjectionActivities
from activities.intake import IntakeActivities
from activities.links import CaseLinkActivities
from activities.retention import RetentionActivities
from core.pseudonyms import person_keys_of
from domain.policy import load_policy
from workflows.case import CaseWorkflow
from workflows.intake import MessageBoxIntakeWorkflow
from workflows.mayoral import MayoralNoticeWorkflow
from workflows.retention import RetentionWorkflow

logger = logging.getLogger("reentry.worker")

WORKFLOWS = [CaseWorkflow, MayoralNoticeWorkflow, RetentionWorkflow, MessageBoxIntakeWorkflow]


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    partners: Sequence[Callable[..., Any]] = (),
    *,
    retention: RetentionActivities | None = None,
    intake: IntakeActivities | None = None,
    notifications: NotificationActivities | None = None,
    cached_cases: int = 1000,
    workflow_tasks: int = 100,
    concurrent_activities: int = 100,
) -> Worker:
    """The worker; ``partners``: the partner activities (``worker.partners``), if any."""
    notifications = notifications or NotificationActivities()
    person_keys = person_keys_of(client)
    projection = ProjectionActivities(engine, person_keys)
    links = CaseLinkActivities(client, engine, person_keys)
    retention = retention or RetentionActivities(engine, client)
    intake = intake or IntakeActivities(
        engine, client, policy=load_policy(None), task_queue=task_queue, timeout=timedelta(seconds=30)
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            notifications.send_notification,
            notifications.announce_case_closed,
            projection.project_case,
            projection.project_notice,
            *partners,
            retention.find_cases_to_erase,
            retention.find_offences_to_erase,
            retention.erase_offence_in_case,
            retention.case_runs,
            retention.delete_case_runs,
            retention.scrub_offence,
            retention.scrub_case,
            retention.find_notices_to_erase,
            retention.erase_notice_in_temporal,
            retention.scrub_notice,
            intake.read_intake_cursor,
            intake.take_in_messages,
            links.link_next_case,
            links.claim_previous_case,
        ],
        # The projection writer uses a blocking database driver: it runs in threads.
        activity_executor=ThreadPoolExecutor(max_workers=concurrent_activities),
        max_cached_workflows=cached_cases,
        max_concurrent_workflow_tasks=workflow_tasks,
        max_concurrent_activities=concurrent_activities,
    )
