"""The projection writer: brings the SQL read model up to date with a case."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from domain.projection import CaseProjection
from store.projection import write_projection


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn
    def project_case(self, projection: CaseProjection) -> bool:
        """Idempotent: a retried or late write of an older revision changes nothing."""
        return write_projection(self._engine, projection)
