"""Recommended timeouts and retry policies per partner call, for the workflows to use::

    await workflow.execute_activity_method(
        IncomeActivities.submit_benefit_application, request, **INCOME_SUBMIT.kwargs()
    )

Every call has a start-to-close timeout a little above the client's own deadline (so
the client's clear ``PartnerTimeout`` comes first) and a schedule-to-close timeout
that says how long the case may wait for that partner in all. Retries back off
exponentially; a request the partner rejects as wrong is never retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

from activities.partners.errors import NON_RETRYABLE_ERROR_TYPES


@dataclass(frozen=True)
class ActivityOptions:
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
    schedule_to_close_timeout: timedelta | None = None
    heartbeat_timeout: timedelta | None = None

    def kwargs(self) -> dict[str, Any]:
        """As keyword arguments of ``workflow.execute_activity``."""
        options: dict[str, Any] = {
            "start_to_close_timeout": self.start_to_close_timeout,
            "retry_policy": self.retry_policy,
        }
        if self.schedule_to_close_timeout is not None:
            options["schedule_to_close_timeout"] = self.schedule_to_close_timeout
        if self.heartbeat_timeout is not None:
            options["heartbeat_timeout"] = self.heartbeat_timeout
        return options


def _backoff(initial: timedelta, maximum: timedelta) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=initial,
        backoff_coefficient=2.0,
        maximum_interval=maximum,
        non_retryable_error_types=NON_RETRYABLE_ERROR_TYPES,
    )


SECOND, MINUTE, HOUR, DAY = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# The message box, polled by a schedule: a failed poll is made good by the next one, so
# give up within minutes. The long poll heartbeats; a worker lost mid-poll is noticed
# within the heartbeat timeout instead of at the end of the call.
MESSAGE_BOX_POLL = ActivityOptions(
    start_to_close_timeout=2 * MINUTE,
    heartbeat_timeout=20 * SECOND,
    schedule_to_close_timeout=10 * MINUTE,
    retry_policy=_backoff(5 * SECOND, MINUTE),
)

# The population register: a quick lookup whose outages are usually short; the case can
# wait a day for a registration to be confirmed before someone has to look.
POPULATION_REGISTER_LOOKUP = ActivityOptions(
    start_to_close_timeout=30 * SECOND,
    schedule_to_close_timeout=DAY,
    retry_policy=_backoff(2 * SECOND, 10 * MINUTE),
)

# The income system: the application starts the 4-week advance and 8-week decision
# clocks, so keep trying through a night or weekend of maintenance.
INCOME_SUBMIT = ActivityOptions(
    start_to_close_timeout=MINUTE,
    schedule_to_close_timeout=3 * DAY,
    retry_policy=_backoff(5 * SECOND, 30 * MINUTE),
)

# Reading an application's status is repeated anyway (daily, until decided).
INCOME_READ = ActivityOptions(
    start_to_close_timeout=30 * SECOND,
    schedule_to_close_timeout=HOUR,
    retry_policy=_backoff(5 * SECOND, 5 * MINUTE),
)

# Civil affairs: an ID document is the first link of the income chain.
CIVIL_AFFAIRS_BOOK = ActivityOptions(
    start_to_close_timeout=MINUTE,
    schedule_to_close_timeout=DAY,
    retry_policy=_backoff(5 * SECOND, 15 * MINUTE),
)

CIVIL_AFFAIRS_READ = ActivityOptions(
    start_to_close_timeout=30 * SECOND,
    schedule_to_close_timeout=HOUR,
    retry_policy=_backoff(5 * SECOND, 5 * MINUTE),
)

# Probation's advice feeds the plan; it is read again at the next plan meeting anyway.
PROBATION_READ = ActivityOptions(
    start_to_close_timeout=30 * SECOND,
    schedule_to_close_timeout=DAY,
    retry_policy=_backoff(5 * SECOND, 15 * MINUTE),
)

# Reminders and escalations: late is better than never, but a day late they are stale
# (the next rung of the ladder will have been sent by then).
NOTIFICATION_DELIVERY = ActivityOptions(
    start_to_close_timeout=MINUTE,
    schedule_to_close_timeout=DAY,
    retry_policy=_backoff(10 * SECOND, 10 * MINUTE),
)
