"""The read model's figures for Prometheus, counted when it scrapes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from store import queries

logger = logging.getLogger("reentry.metrics")


class ReadModelMetrics:
    """Open cases per municipality and phase, and open tasks overdue and at risk per
    municipality and team, as the read model has them at the moment of the scrape.

    Two grouped counts over indexes, cheap enough for every scrape. Every API process
    reports the same figures: aggregate them with ``max``, not ``sum``. When the database
    cannot be read, only ``reentry_read_model_up`` is reported, as 0.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "reentry_open_cases", "Cases not closed, per municipality and phase", labels=["municipality", "phase"]
            ),
            GaugeMetricFamily(
                "reentry_overdue_tasks", "Open tasks past their due date", labels=["municipality", "team"]
            ),
            GaugeMetricFamily(
                "reentry_at_risk_tasks",
                "Open tasks that can no longer be done in time for the release",
                labels=["municipality", "team"],
            ),
            GaugeMetricFamily("reentry_read_model_up", "1 when the read model could be read for these figures"),
        )

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterator[Metric]:
        open_cases, overdue, at_risk, up = self._families()
        try:
            with Session(self._engine) as session:
                cases = queries.open_cases_per_phase(session)
                tasks = queries.tasks_needing_attention(session)
        except SQLAlchemyError as err:
            logger.warning("the read model cannot be read for the metrics: %s", type(err).__name__)
            up.add_metric([], 0)
            yield up
            return
        for municipality, phase, count in cases:
            open_cases.add_metric([municipality, phase], count)
        for municipality, team, overdue_count, at_risk_count in tasks:
            overdue.add_metric([municipality, team], overdue_count)
            at_risk.add_metric([municipality, team], at_risk_count)
        up.add_metric([], 1)
        yield from (open_cases, overdue, at_risk, up)
