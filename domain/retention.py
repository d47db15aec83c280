"""Retention: when personal data must go, and what a retention pass is told and answers.

Two terms (bewaartermijnen), both configurable:

- a **closed case** is erased a term after it closed (default two years): its Temporal
  runs are deleted and its read-model row keeps only the anonymous facts the dashboard
  counts;
- the **offence data** a mayoral notice (BIJ, Bestuurlijke Informatievoorziening
  Justitiabelen) is built from, a final conviction for a violent or sexual offence,
  is erased at the latest six months after the actual release, also from a case that
  still runs.

Terms count Dutch calendar days, months and years (``P6M`` is six calendar months, not
180 days). Pure: no I/O, no clock; the retention workflow passes ``workflow.now()``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from domain.models import DetentionNotice, OffenceCategory, as_datetime, local_date

# A final conviction for one of these makes a case one the mayor hears of before release.
MAYORAL_OFFENCES = frozenset({OffenceCategory.VIOLENT, OffenceCategory.SEXUAL})

RETENTION_ACTOR = "retention"

_TERM = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class Term:
    """A retention term in calendar years, months and days."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str | int) -> Term:
        """An ISO 8601 period of dates (``P2Y``, ``P6M``, ``P26W``, ``P90D``, ``P1Y6M``) or
        a number of days."""
        text = str(text).strip().upper()
        if text.isdigit():
            return cls(days=int(text))
        match = _TERM.match(text)
        if match is None:
            raise ValueError("a term is an ISO 8601 period such as P2Y, P6M, P26W or P90D, or a number of days")
        years, months, weeks, days = (int(part or 0) for part in match.groups())
        return cls(years=years, months=months, days=weeks * 7 + days)

    def __str__(self) -> str:
        parts = [f"{n}{unit}" for n, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if n]
        return "P" + ("".join(parts) or "0D")

    def after(self, day: date) -> date:
        """The day the term ends for something that happened on ``day``. A month that is
        too short ends the term on its last day (31 August + 6 months: 28 February)."""
        months = day.year * 12 + day.month - 1 + self.years * 12 + self.months
        year, month = divmod(months, 12)
        end = date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
        return end + timedelta(days=self.days)

    def latest_start(self, today: date) -> date:
        """The last day whose term has ended by ``today``: ``after(d) <= today`` exactly for
        ``d <= latest_start(today)`` (``after`` never decreases)."""
        months = today.year * 12 + today.month - 1 - self.years * 12 - self.months
        year, month = divmod(months, 12)
        start = date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))
        start -= timedelta(days=self.days)
        # Month ends fold several days onto one: step to the last of them.
        while self.after(start + timedelta(days=1)) <= today:
            start += timedelta(days=1)
        while self.after(start) > today:
            start -= timedelta(days=1)
        return start


def _canonical_term(text: str) -> str:
    return str(Term.parse(text))


TermText = Annotated[str, AfterValidator(_canonical_term)]


def qualifies_for_mayoral_notice(notice: DetentionNotice) -> bool:
    """A final conviction for a violent or sexual offence."""
    return notice.conviction_final is True and notice.offence_category in MAYORAL_OFFENCES


@dataclass(frozen=True)
class Cutoffs:
    """What a pass at one moment erases."""

    closed_before: datetime
    """Closed cases closed before this instant: their term has ended."""
    released_on_or_before: date
    """Qualifying cases released on or before this day: their offence data goes."""


def cutoffs(now: datetime, *, closed_term: Term, mayoral_term: Term) -> Cutoffs:
    """A case closed on Dutch day ``d`` is erased from day ``closed_term.after(d)``; the
    offence data of a case released on day ``r`` from day ``mayoral_term.after(r)``."""
    today = local_date(now)
    return Cutoffs(
        closed_before=as_datetime(closed_term.latest_start(today) + timedelta(days=1)),
        released_on_or_before=mayoral_term.latest_start(today),
    )


# ---------------------------------------------------------------------------
# The case workflow's erasure update


class EraseOffenceInput(BaseModel):
    actor: str = RETENTION_ACTOR


class OffenceErasure(BaseModel):
    """What the case answers: ``continuing_as_new`` when the run that answered still
    carries the offence data and is about to hand over to a new run without it."""

    case_id: str
    run_id: str
    continuing_as_new: bool


# ---------------------------------------------------------------------------
# The retention workflow and its activities


class RetentionStage(BaseModel):
    """Which kind of erasure a pass is at, and after which case id."""

    kind: Literal["closed_cases", "offences", "mayoral_notices"] = "closed_cases"
    after: str | None = None


class RetentionReport(BaseModel):
    """What a pass did. Counts and pseudonymous case ids only."""

    as_of: datetime
    closed_term: str
    mayoral_term: str
    closed_before: datetime
    released_on_or_before: date
    cases_erased: int = 0
    offences_erased: int = 0
    # Mayoral notices (BIJ) whose term ended after the return, or after the leave.
    notices_erased: int = 0
    runs_deleted: int = 0
    failed: list[str] = []


class RetentionProgress(BaseModel):
    stage: RetentionStage
    report: RetentionReport


class RetentionInput(BaseModel):
    """A retention pass; the schedule starts one with the terms from the settings."""

    closed_term: TermText = "P2Y"
    mayoral_term: TermText = "P6M"
    batch_size: int = Field(default=100, ge=1, le=1000)
    # Set only when a long pass continues as new: where it was and what it did so far.
    progress: RetentionProgress | None = None


class FindDueCases(BaseModel):
    """A keyset page of the case ids due for one kind of erasure."""

    closed_before: datetime | None = None
    released_on_or_before: date | None = None
    after: str | None = None
    limit: int = 100


class DueCases(BaseModel):
    case_ids: list[str]
    next_after: str | None = None


class CaseRef(BaseModel):
    case_id: str


class CaseRuns(BaseModel):
    """Runs of a case workflow to delete, newest first."""

    case_id: str
    run_ids: list[str] = []


class ScrubInput(BaseModel):
    case_id: str
    erased_at: datetime
