"""The intake of the justice message box: a scheduled run reads the box from where the
last one stopped and acts on what it finds."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.intake import IntakeActivities, IntakeReport
    from activities.partners.message_box import FetchMessages, MessageBoxActivities
    from activities.partners.options import MESSAGE_BOX_POLL


class IntakeInput(BaseModel):
    page_size: int = 50
    # A run reads at most this many pages; the next scheduled run goes on from there.
    max_pages: int = 20
    wait_seconds: float = 0


TAKE_IN = {
    "start_to_close_timeout": timedelta(minutes=5),
    "heartbeat_timeout": timedelta(minutes=1),
    # Starting a case waits for its worker; a page is retried until it is through.
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1)),
}


@workflow.defn
class MessageBoxIntakeWorkflow:
    @workflow.run
    async def run(self, input: IntakeInput) -> IntakeReport:
        report = IntakeReport()
        cursor = await workflow.execute_activity_method(
            IntakeActivities.read_intake_cursor, start_to_close_timeout=timedelta(seconds=30)
        )
        for _ in range(input.max_pages):
            fetched = await workflow.execute_activity_method(
                MessageBoxActivities.fetch_justice_messages,
                FetchMessages(cursor=cursor, limit=input.page_size, wait_seconds=input.wait_seconds),
                **MESSAGE_BOX_POLL.kwargs(),
            )
            # The cursor moves only after the page has been acted on: a crash in between
            # reads the page again, and the message ids make that harmless.
            report = report.add(
                await workflow.execute_activity_method(IntakeActivities.take_in_messages, fetched, **TAKE_IN)
            )
            cursor = fetched.next_cursor or cursor
            if not fetched.more:
                break
        workflow.logger.info("message box intake: %s", report.model_dump())
        return report
