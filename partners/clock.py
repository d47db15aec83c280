"""Simulated time: what "after a week" means in the simulator.

Every partner reads ``now()`` from one clock. It runs with the wall clock, moved by an
offset; tests move it forward (``advance``) or freeze it, in process or through
``POST /_sim/clock``, so an application is decided "after six weeks" without anyone
waiting six weeks. Time only moves forward: what was decided stays decided.

A workflow test under time skipping keeps the simulator in step with the test server:
``clock.set(await env.get_current_time())`` after each ``env.sleep(...)`` (or ``POST
/_sim/clock`` with ``to``), so an activity that asks after eight skipped weeks finds the
decision. ``wall`` makes the clock follow any other source of time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class ClockError(ValueError):
    pass


class SimClock:
    def __init__(
        self,
        start: datetime | None = None,
        *,
        frozen: bool = False,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._wall = wall
        if start is not None and start.tzinfo is None:
            raise ClockError("the clock needs an aware datetime")
        self._offset = (start - wall()) if start is not None else timedelta(0)
        self._frozen_at: datetime | None = None
        if frozen:
            self._frozen_at = start.astimezone(UTC) if start is not None else self.now()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return (self._wall() + self._offset).astimezone(UTC)

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ClockError("simulated time only moves forward")
        if self._frozen_at is not None:
            self._frozen_at += by
        else:
            self._offset += by
        return self.now()

    def set(self, to: datetime) -> datetime:
        if to.tzinfo is None:
            raise ClockError("the clock needs an aware datetime")
        return self.advance(to - self.now())

    def freeze(self) -> datetime:
        self._frozen_at = self.now()
        return self._frozen_at

    def unfreeze(self) -> datetime:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - self._wall()
            self._frozen_at = None
        return self.now()
