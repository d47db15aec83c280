"""The person key in the read model (``core.pseudonyms``): it survives a key rotation and
goes with the case when retention erases it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from core.codec import Keyring, new_key_line
from core.pseudonyms import PersonKeys
from domain.models import Phase
from domain.projection import CaseProjection
from store import queries, retention
from store.projection import write_projection
from tests.helpers import TEST_KEY_LINE, TEST_KEYRING

BSN = "111222333"
CLOSED = datetime(2025, 3, 1, tzinfo=UTC)


def case(n: int, **changes) -> CaseProjection:
    values = dict(
        case_id=f"case-DJI-P-{n}",
        revision=1,
        municipality="0855",
        phase=Phase.CLOSED if changes.get("closed_at") else Phase.PLANNING,
        prison="PI-TILBURG",
        detention_start=datetime(2025, 1, n, tzinfo=UTC).date(),
        notified_at=datetime(2025, 1, n, tzinfo=UTC),
        policy_version="nl-default-2026.7",
    )
    return CaseProjection(**(values | changes))


def test_a_key_rotation_keeps_the_link_and_erasure_ends_it(engine):
    before = PersonKeys(TEST_KEYRING)
    rotated = PersonKeys(Keyring.parse(f"{new_key_line('2031-a')}\n{TEST_KEY_LINE}", current="2031-a"))
    assert before.current(BSN) != rotated.current(BSN) and before.current(BSN) in rotated.every(BSN)
    # Keyed before the rotation, after it, and another person after it.
    write_projection(engine, case(1, closed_at=CLOSED), person_key=before.current(BSN))
    write_projection(engine, case(2), person_key=rotated.current(BSN))
    write_projection(engine, case(3), person_key=rotated.current("123456782"))

    def others(of: str) -> list[str]:
        with Session(engine) as session:
            rows = queries.cases_of_person(session, person_keys=rotated.every(BSN), municipalities=None, but=of)
            return [row.case_id for row in rows]

    assert others("case-DJI-P-2") == ["case-DJI-P-1"]
    assert retention.erase_case(engine, case_id="case-DJI-P-1", erased_at=CLOSED + timedelta(days=800))
    assert others("case-DJI-P-2") == [], "an erased case no longer links"
    assert others("nothing") == ["case-DJI-P-2"]
