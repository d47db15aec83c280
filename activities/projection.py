"""The projection writer: brings the SQL read model up to date with a case or a mayoral notice."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from core.pseudonyms import PersonKeys
from domain.mayoral import NoticeProjection
from domain.projection import CaseProjection
from store.projection import write_notice_projection, write_projection


class ProjectionActivities:
    def __init__(self, engine: Engine, person_keys: PersonKeys | None = None) -> None:
        self._engine, self._person_keys = engine, person_keys

    @activity.defn
    def project_case(self, projection: CaseProjection) -> bool:
        """Idempotent: a retried or late write of an older revision changes nothing. The
        BSN the projection carries becomes the person key here and goes no further."""
        bsn, keys = projection.person_bsn, self._person_keys
        return write_projection(self._engine, projection, person_key=keys.current(bsn) if keys and bsn else None)

    @activity.defn
    def project_notice(self, projection: NoticeProjection) -> bool:
        """A mayoral notice into the read model; idempotent, as for cases."""
        return write_notice_projection(self._engine, projection)
