"""The keys of repeated requests (``store.idempotency``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import idempotency

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
AFTER = timedelta(seconds=60)


def test_a_key_is_reserved_answered_and_forgotten_after_a_day(engine):
    assert idempotency.reserve(engine, id_hash="k1", fingerprint="f", now=NOW, abandoned_after=AFTER) is None
    pending = idempotency.reserve(engine, id_hash="k1", fingerprint="f", now=NOW, abandoned_after=AFTER)
    assert pending is not None and pending.status is None
    idempotency.answer(engine, id_hash="k1", status=200, body=b"{}", media_type="application/json", location=None)
    answered = idempotency.reserve(engine, id_hash="k1", fingerprint="f", now=NOW, abandoned_after=AFTER)
    assert answered is not None and (answered.status, answered.body) == (200, b"{}")
    later = NOW + idempotency.TERM + timedelta(seconds=1)
    assert idempotency.reserve(engine, id_hash="k1", fingerprint="f", now=later, abandoned_after=AFTER) is None


def test_a_reservation_its_process_left_is_taken_over_by_the_same_request_only(engine):
    """An API process that stopped while it answered leaves its key reserved, unanswered."""
    assert idempotency.reserve(engine, id_hash="k2", fingerprint="f", now=NOW, abandoned_after=AFTER) is None
    soon = NOW + AFTER / 2
    assert idempotency.reserve(engine, id_hash="k2", fingerprint="f", now=soon, abandoned_after=AFTER) is not None
    later = NOW + AFTER * 2
    other = idempotency.reserve(engine, id_hash="k2", fingerprint="g", now=later, abandoned_after=AFTER)
    assert other is not None and other.fingerprint == "f"
    assert idempotency.reserve(engine, id_hash="k2", fingerprint="f", now=later, abandoned_after=AFTER) is None
    # Taken over: the new reservation is fresh, not abandoned in its turn.
    again = idempotency.reserve(engine, id_hash="k2", fingerprint="f", now=later, abandoned_after=AFTER)
    assert again is not None and again.status is None
