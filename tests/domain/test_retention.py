"""Retention terms count Dutch calendar days, months and years."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from core.settings import Settings
from domain.models import as_datetime
from domain.retention import RetentionInput, Term, cutoffs, qualifies_for_mayoral_notice
from tests.helpers import notice


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("P2Y", Term(years=2)),
        ("P6M", Term(months=6)),
        ("p1y6m", Term(years=1, months=6)),
        ("P26W", Term(days=182)),
        ("P2W3D", Term(days=17)),
        ("90", Term(days=90)),
        ("P0D", Term()),
    ],
)
def test_terms_are_iso_periods_or_days(text, term):
    assert Term.parse(text) == term
    assert Term.parse(str(term)) == term


@pytest.mark.parametrize("text", ["P", "6M", "PT12H", "P1.5Y", "-P6M", "six months", ""])
def test_other_terms_are_refused(text):
    with pytest.raises(ValueError, match="ISO 8601 period"):
        Term.parse(text)


def test_six_months_are_calendar_months():
    six = Term(months=6)
    assert six.after(date(2027, 3, 15)) == date(2027, 9, 15)
    assert six.after(date(2027, 8, 31)) == date(2028, 2, 29), "a short month ends the term on its last day"
    assert six.after(date(2026, 8, 31)) == date(2027, 2, 28)
    assert Term(years=2).after(date(2028, 2, 29)) == date(2030, 2, 28)
    assert Term(months=1, days=3).after(date(2027, 1, 31)) == date(2027, 3, 3)


@pytest.mark.parametrize("term", [Term(months=6), Term(years=2), Term(days=90), Term(months=1, days=3), Term()])
def test_latest_start_is_the_last_day_whose_term_has_ended(term):
    day = date(2026, 1, 1)
    while day < date(2029, 1, 1):
        latest = term.latest_start(day)
        assert term.after(latest) <= day < term.after(latest + timedelta(days=1)), (term, day)
        day += timedelta(days=1)


def test_a_pass_erases_what_ended_by_today_in_the_netherlands():
    # 00:30 on 1 March 2027 in Amsterdam is still 28 February in UTC.
    now = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)
    due = cutoffs(now, closed_term=Term(years=2), mayoral_term=Term(months=6))
    assert due.closed_before == as_datetime(date(2025, 3, 2)), "closed on 1 March 2025: erased from 1 March 2027"
    assert due.released_on_or_before == date(2026, 9, 1)
    end_of_august = cutoffs(datetime(2027, 2, 28, 12, tzinfo=UTC), closed_term=Term(), mayoral_term=Term(months=6))
    assert end_of_august.released_on_or_before == date(2026, 8, 31), "released 29-31 August: due on 28 February"


def test_only_a_final_violent_or_sexual_conviction_qualifies():
    today = date(2027, 1, 4)
    assert qualifies_for_mayoral_notice(notice(today, offence="violent", conviction_final=True))
    assert qualifies_for_mayoral_notice(notice(today, offence="sexual", conviction_final=True))
    assert not qualifies_for_mayoral_notice(notice(today, offence="violent", conviction_final=False))
    assert not qualifies_for_mayoral_notice(notice(today, offence="property", conviction_final=True))
    erased = notice(today, offence="violent").model_copy(update={"offence_category": None, "conviction_final": None})
    assert not qualifies_for_mayoral_notice(erased)


def test_settings_give_each_pass_its_terms(monkeypatch):
    monkeypatch.setenv("REENTRY_RETENTION_CLOSED_TERM", "p1y6m")
    monkeypatch.setenv("REENTRY_RETENTION_MAYORAL_TERM", "183")
    monkeypatch.setenv("REENTRY_RETENTION_SCHEDULE", "PT12H")
    settings = Settings(_env_file=None)
    assert settings.retention == RetentionInput(closed_term="P1Y6M", mayoral_term="P183D", batch_size=100)
    assert settings.retention_schedule == "PT12H"
    for name in ("CLOSED_TERM", "MAYORAL_TERM", "SCHEDULE"):
        monkeypatch.delenv(f"REENTRY_RETENTION_{name}")
    defaults = Settings(_env_file=None)
    assert (defaults.retention.closed_term, defaults.retention.mayoral_term) == ("P2Y", "P6M")
    assert defaults.retention_schedule == "0 3 * * *"


@pytest.mark.parametrize(
    ("field", "value"),
    [("retention_closed_term", "two years"), ("retention_mayoral_term", "PT1H"), ("retention_schedule", "PT0S")],
)
def test_settings_refuse_a_wrong_retention_setting(field, value):
    with pytest.raises(ValidationError, match=field):
        Settings(_env_file=None, **{field: value})
