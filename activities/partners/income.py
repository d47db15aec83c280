"""The municipality's income system: benefit applications and their decisions.

The date of application starts two clocks of the case: an advance can be had after four
weeks, and the decision is due within eight. Submitting carries the case's own
``reference`` (``<case id>/<task key>``): a submission retried after a lost answer finds
the application it already made instead of making a second.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel
from temporalio import activity

from activities.partners.errors import as_activity_errors
from activities.partners.http import Answer, PartnerClient, PartnerId, Reference
from domain.models import Bsn, MunicipalityCode


class BenefitApplicationRequest(BaseModel):
    reference: Reference
    bsn: Bsn
    municipality: MunicipalityCode
    benefit: Literal["general_assistance"] = "general_assistance"


class BenefitApplication(Answer):
    id: str
    reference: str
    status: Literal["received", "in_review", "decided"]
    submitted_at: datetime
    advance_possible_from: date
    decision_due: date
    decision: Literal["granted", "refused"] | None = None
    decided_on: date | None = None


class IncomeClient(PartnerClient):
    partner = "income"

    async def submit(self, request: BenefitApplicationRequest) -> BenefitApplication:
        answer = await self._call("POST", "applications", BenefitApplication, json=request.model_dump(mode="json"))
        assert answer is not None
        return answer

    async def read(self, application_id: str) -> BenefitApplication:
        answer = await self._call("GET", f"applications/{application_id}", BenefitApplication)
        assert answer is not None
        return answer


class BenefitApplicationQuery(BaseModel):
    application_id: PartnerId


class IncomeActivities:
    def __init__(self, client: IncomeClient) -> None:
        self._client = client

    @activity.defn
    async def submit_benefit_application(self, request: BenefitApplicationRequest) -> BenefitApplication:
        """Submits the application; idempotent by the request's reference."""
        with as_activity_errors():
            return await self._client.submit(request)

    @activity.defn
    async def read_benefit_application(self, query: BenefitApplicationQuery) -> BenefitApplication:
        """The application's status and, once decided, its decision."""
        with as_activity_errors():
            return await self._client.read(query.application_id)
