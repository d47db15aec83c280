"""The intake of the justice message box on a Temporal Schedule."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import Engine
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

from activities.intake import IntakeActivities
from core.settings import Settings
from workflows.intake import IntakeInput, MessageBoxIntakeWorkflow

SCHEDULE_ID = "reentry-message-box-intake"
WORKFLOW_ID = "reentry-message-box-intake"


def intake_activities(settings: Settings, engine: Engine, client: Client) -> IntakeActivities:
    return IntakeActivities(
        engine,
        client,
        policy=settings.loaded_policy,
        task_queue=settings.task_queue,
        timeout=timedelta(seconds=settings.update_timeout),
    )


def intake_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MessageBoxIntakeWorkflow.run, IntakeInput(), id=WORKFLOW_ID, task_queue=settings.task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=settings.intake_every)]),
        # One reader at a time: the cursor is the intake's, and a run picks up where the last stopped.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=settings.intake_every),
    )


async def ensure_intake_schedule(client: Client, settings: Settings) -> None:
    """Create the intake schedule, or bring it in line with the settings (a paused one stays
    paused); with the intake switched off, pause it."""
    schedule = intake_schedule(settings)
    schedule.state.paused = not settings.intake_enabled
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        def follow_settings(current: ScheduleUpdateInput) -> ScheduleUpdate:
            state = current.description.schedule.state
            if not settings.intake_enabled:
                state = dataclasses.replace(state, paused=True, note="switched off by REENTRY_INTAKE_ENABLED")
            return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=state))

        await client.get_schedule_handle(SCHEDULE_ID).update(follow_settings)
