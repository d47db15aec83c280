"""Counters the activities keep, for the Prometheus endpoint of their process.

Each worker process counts what its own activities did, from its start; Prometheus adds
them up across workers (``sum(rate(...))``). Labels are codes and kinds, never anything
about a person.
"""

from __future__ import annotations

from prometheus_client import Counter

ESCALATIONS_SENT = Counter(
    "reentry_escalations_sent",
    "Reminders and escalations about tasks delivered, per municipality, rung of the ladder and channel",
    ["municipality", "level", "channel"],
)

PARTNER_CALL_ERRORS = Counter(
    "reentry_partner_call_errors",
    "Calls to partner systems that failed, per partner and kind of error (each attempt counts)",
    ["partner", "kind"],
)
