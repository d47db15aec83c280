"""Made-up residents and notices for tests and demo data."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

from stdnum.nl import bsn as stdnum_bsn

from domain.models import DetentionNotice, Person

_counter = itertools.count(100_000_000)


def next_bsn() -> str:
    """The next made-up number that passes the 11-check."""
    while True:
        candidate = str(next(_counter))
        if stdnum_bsn.is_valid(candidate):
            return candidate


def notice(
    today: date,
    *,
    release_in: timedelta | None = timedelta(weeks=30),
    municipality: str = "0855",
    offence: str = "property",
    conviction_final: bool = True,
    detention_id: str | None = None,
) -> DetentionNotice:
    return DetentionNotice(
        detention_id=detention_id or f"DJI-T-{uuid.uuid4().hex[:12]}",
        person=Person(bsn=next_bsn(), given_names="Jan", surname="Jansen", birth_date=date(1990, 1, 31)),
        municipality=municipality,
        prison="PI-TILBURG",
        detention_start=today,
        expected_release=today + release_in if release_in is not None else None,
        offence_category=offence,
        conviction_final=conviction_final,
    )
