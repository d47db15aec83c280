from datetime import date

import pytest
from pydantic import ValidationError

from domain.models import DetentionNotice, as_datetime, local_date
from tests.helpers import next_bsn, notice


def test_made_up_bsns_pass_the_11_check():
    numbers = [next_bsn() for _ in range(20)]
    assert len(set(numbers)) == 20
    for number in numbers:
        digits = [int(d) for d in number]
        assert (sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]) % 11 == 0


def test_invalid_bsn_is_refused_without_echoing_it():
    body = notice(date(2026, 11, 1)).model_dump(mode="json")
    body["person"]["bsn"] = "123456789"
    with pytest.raises(ValidationError) as err:
        DetentionNotice.model_validate(body)
    [error] = err.value.errors()
    assert error["loc"] == ("person", "bsn") and "11-check" in error["msg"]
    assert "123456789" not in error["msg"]


def test_each_wrong_field_is_named():
    body = notice(date(2026, 11, 1)).model_dump(mode="json")
    body.update(municipality="Tilburg", prison="", detention_start="gisteren", extra="x")
    with pytest.raises(ValidationError) as err:
        DetentionNotice.model_validate(body)
    assert {e["loc"][0] for e in err.value.errors()} == {"municipality", "prison", "detention_start", "extra"}


def test_release_before_detention_is_refused():
    body = notice(date(2026, 11, 1)).model_dump(mode="json")
    body["expected_release"] = "2026-10-01"
    with pytest.raises(ValidationError, match="expected_release is before detention_start"):
        DetentionNotice.model_validate(body)


def test_dates_are_dutch_days():
    # 00:00 in Amsterdam is 23:00 UTC the day before in winter, 22:00 in summer.
    assert as_datetime(date(2027, 1, 15)).isoformat() == "2027-01-15T00:00:00+01:00"
    assert as_datetime(date(2027, 7, 15)).isoformat() == "2027-07-15T00:00:00+02:00"
    assert local_date(as_datetime(date(2027, 1, 15))) == date(2027, 1, 15)
