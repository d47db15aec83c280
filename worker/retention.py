"""The retention pass on a Temporal Schedule, and a pass at once (``reentry retention run``)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from pydantic import TypeAdapter
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from core.settings import Settings
from domain.retention import RetentionReport
from workflows.retention import RetentionWorkflow

SCHEDULE_ID = "reentry-retention"
# Scheduled runs get the scheduled time appended to this id.
WORKFLOW_ID = "reentry-retention"
DUTCH_TIME = "Europe/Amsterdam"


def schedule_spec(text: str) -> ScheduleSpec:
    """A cron expression in Dutch time (``0 3 * * *``: 03:00 every day), or an ISO 8601
    interval (``PT12H``)."""
    if text.upper().startswith("P"):
        every = TypeAdapter(timedelta).validate_python(text)
        if every <= timedelta(0):
            raise ValueError("the retention interval must be positive")
        return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)])
    return ScheduleSpec(cron_expressions=[text], time_zone_name=DUTCH_TIME)


def retention_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run, settings.retention, id=WORKFLOW_ID, task_queue=settings.task_queue
        ),
        spec=schedule_spec(settings.retention_schedule),
        # One pass at a time; after an outage, one pass catches up rather than one per day missed.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_retention_schedule(client: Client, settings: Settings) -> None:
    """Create the retention schedule, or bring an existing one in line with the settings.

    Idempotent: every worker does this when it starts. A schedule an operator has paused
    stays paused.
    """
    schedule = retention_schedule(settings)
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        def follow_settings(current: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=current.description.schedule.state))

        await client.get_schedule_handle(SCHEDULE_ID).update(follow_settings)


async def run_retention_now(client: Client, settings: Settings) -> RetentionReport:
    """One pass now, with the settings' terms; a worker must be running to do it."""
    return await client.execute_workflow(
        RetentionWorkflow.run,
        settings.retention,
        id=f"{WORKFLOW_ID}-now-{uuid.uuid4().hex[:12]}",
        task_queue=settings.task_queue,
    )
