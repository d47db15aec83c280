"""The projection writer: brings the SQL read model up to date with a case or a mayoral notice."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from domain.mayoral import NoticeProjection
from domain.projection import CaseProjection
from store.projection import write_notice_projection, write_projection


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn
    def project_case(self, projection: CaseProjection) -> bool:
        """Idempotent: a retried or late write of an older revision changes nothing."""
        return write_projection(self._engine, projection)

    @activity.defn
    def project_notice(self, projection: NoticeProjection) -> bool:
        """A mayoral notice into the read model; idempotent, as for cases."""
        return write_notice_projection(self._engine, projection)
