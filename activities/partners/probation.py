"""Probation (3RO): its advice for the D&R plan and the supervision after release."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel
from temporalio import activity

from activities.partners.errors import as_activity_errors
from activities.partners.http import Answer, PartnerClient
from domain.models import DetentionId


class ProbationAdvice(Answer):
    status: Literal["requested", "issued"]
    requested_on: date
    issued_on: date | None = None
    recommendation: Literal["supervision", "no_supervision", "penitentiary_programme"] | None = None
    special_conditions: list[str] = []


class Supervision(Answer):
    status: Literal["none", "planned", "active", "ended"]
    organisation: str | None = None


class ProbationStatus(Answer):
    detention_id: str
    organisation: str
    advice: ProbationAdvice
    supervision: Supervision


class MayoralAdvice(Answer):
    status: Literal["requested", "issued"]
    requested_on: date
    issued_on: date | None = None
    risk: Literal["low", "medium", "high"] | None = None
    advised_measures: list[str] = []


class MayoralAdviceStatus(Answer):
    notice_id: str
    organisation: str
    advice: MayoralAdvice


class ProbationClient(PartnerClient):
    partner = "probation"

    async def read(self, detention_id: str) -> ProbationStatus:
        answer = await self._call("GET", f"detentions/{detention_id}", ProbationStatus)
        assert answer is not None
        return answer

    async def read_mayoral_advice(self, notice_id: str) -> MayoralAdviceStatus:
        answer = await self._call("GET", f"mayoral-notices/{notice_id}", MayoralAdviceStatus)
        assert answer is not None
        return answer


class ProbationQuery(BaseModel):
    detention_id: DetentionId


class MayoralAdviceQuery(BaseModel):
    notice_id: DetentionId


class ProbationActivities:
    def __init__(self, client: ProbationClient) -> None:
        self._client = client

    @activity.defn
    async def read_probation_advice(self, query: ProbationQuery) -> ProbationStatus:
        """Probation's advice for the plan and the supervision status of a detention."""
        with as_activity_errors():
            return await self._client.read(query.detention_id)

    @activity.defn
    async def read_mayoral_advice(self, query: MayoralAdviceQuery) -> MayoralAdviceStatus:
        """Probation's advice to the mayor on a BIJ notice, by the notice's id only."""
        with as_activity_errors():
            return await self._client.read_mayoral_advice(query.notice_id)
