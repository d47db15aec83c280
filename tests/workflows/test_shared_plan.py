"""What the prison shares in the case: the D&R plan (art. 18a Pbw) and risk information
(art. 18b Pbw), as the message box's intake sends them. Under the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.errors import ErrorType
from domain.models import MESSAGE_BOX_ACTOR, PlanStatus, TaskStatus, local_date
from domain.retention import EraseOffenceInput
from tests.helpers import notice
from tests.workflows.test_scenarios import SCREENING_TILBURG, contact, expect_rejection
from workflows.case import CaseWorkflow

PLAN = "reintegration_plan"
ACTIONS = [
    {"condition": "id_document", "code": "id_apply", "due_on": "2027-01-15"},
    {"condition": "income", "code": "income_apply", "due_on": "2027-02-01"},
    {"condition": "housing", "code": "housing_search"},
    {"condition": "debts", "code": "debt_inventory", "due_on": "2027-02-15"},
]
CONDITIONS = {"id_document": "needs_action", "income": "needs_action", "housing": "needs_action", "debts": "unknown"}


def plan(version: int, day, *, agreed: bool = False, actions: list | None = None) -> dict:
    return {
        "version": version,
        "drawn_up_on": str(day),
        "status": "agreed" if agreed else "draft",
        "agreed_on": str(day) if agreed else None,
        "basic_conditions": CONDITIONS,
        "actions": ACTIONS if actions is None else actions,
    }


RISK = {
    "recidivism": "moderate",
    "harm": "high",
    "codes": ["victim_nearby", "domestic_violence", "victim_nearby"],
    "conviction_final": True,
    "offence_category": "violent",
    "mayoral_notice": True,
}


async def test_a_draft_then_an_agreed_plan_completes_the_plan_task(env, cases):
    """A draft is kept and shown, the task stays the caseworker's; the agreed version after
    it completes the task as the message box, on the day the plan was agreed. An older
    version sent again changes nothing."""
    case = await cases(notice(local_date(await env.get_current_time())))
    start = await case.now()
    await case.sleep_until(start + timedelta(days=3))
    await case.complete("contact_prison", contact(await case.today()))
    await case.complete("screening", {"kind": "screening", "conditions": SCREENING_TILBURG})
    await case.sleep_until(start + timedelta(days=12))
    await case.share_plan(plan(1, await case.today()))
    state = await case.state()
    assert state.plan.status == PlanStatus.DRAFT and state.plan.version == 1
    assert [(a.condition, a.code) for a in state.plan.actions][:2] == [
        ("id_document", "id_apply"),
        ("income", "income_apply"),
    ]
    assert state.task(PLAN).status == TaskStatus.OPEN, "a draft is not the plan"

    await case.sleep_until(start + timedelta(days=20))
    agreed_on = await case.today()
    await case.share_plan(plan(2, agreed_on, agreed=True))
    state = await case.state()
    task = state.task(PLAN)
    assert task.status == TaskStatus.COMPLETED and task.completed_by == MESSAGE_BOX_ACTOR
    assert task.outcome.agreed_on == agreed_on
    assert state.plan.version == 2 and state.plan.agreed_on == agreed_on
    assert [h.action for h in state.history].count("plan_shared") == 2

    before = (await case.state()).revision
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.share_plan(plan(1, agreed_on))
    expect_rejection(err, ErrorType.EVENT_NOT_POSSIBLE)
    assert (await case.state()).revision == before and (await case.state()).plan.version == 2
    await case.keep_history("plan_shared")


async def test_a_plan_after_the_caseworker_completed_the_task_leaves_the_task_as_it_is(env, cases):
    case = await cases(notice(local_date(await env.get_current_time())))
    start = await case.now()
    await case.sleep_until(start + timedelta(days=3))
    await case.complete("contact_prison", contact(await case.today()))
    await case.complete("screening", {"kind": "screening", "conditions": SCREENING_TILBURG})
    await case.sleep_until(start + timedelta(days=10))
    agreed_by_caseworker = await case.today()
    await case.complete(PLAN, {"kind": "plan", "agreed_on": str(agreed_by_caseworker)})
    await case.sleep_until(start + timedelta(days=14))
    await case.share_plan(plan(1, await case.today(), agreed=True))
    state = await case.state()
    task = state.task(PLAN)
    assert task.completed_by == "anna" and task.outcome.agreed_on == agreed_by_caseworker
    assert state.plan.status == PlanStatus.AGREED, "the plan is kept all the same"
    assert [h.action for h in state.history].count("task_completed") == 3


async def test_nothing_about_a_condition_without_consent_is_kept(env, cases):
    """Debts had no consent when the plan came: nothing of the plan about debts is kept.
    Consent for housing is withdrawn after: what the plan said about housing goes."""
    case = await cases(notice(local_date(await env.get_current_time())))
    await case.event({"type": "consent_withdrawn", "condition": "debts"}, actor="anna")
    await case.share_plan(plan(1, await case.today()))
    state = await case.state()
    assert "debts" not in state.plan.basic_conditions
    assert all(a.condition != "debts" for a in state.plan.actions)
    assert "housing" in state.plan.basic_conditions

    await case.event({"type": "consent_withdrawn", "condition": "housing"}, actor="anna")
    state = await case.state()
    assert set(state.plan.basic_conditions) == {"id_document", "income"}
    assert {a.condition for a in state.plan.actions} == {"id_document", "income"}
    assert state.plan.version == 1, "the rest of the plan stays"


async def test_risk_information_is_kept_for_casework_until_the_offence_data_goes(env, cases):
    """Levels and codes are kept, once each; the offence and the mayor's notice are not.
    A coordinator marks it seen; an older assessment changes nothing; retention erases it
    with the offence data."""
    case = await cases(notice(local_date(await env.get_current_time())))
    today = await case.today()
    await case.share_risk({**RISK, "assessed_on": str(today)})
    state = await case.state()
    assert state.risk.recidivism == "moderate" and state.risk.harm == "high"
    assert state.risk.codes == ["domestic_violence", "victim_nearby"]
    assert state.risk.seen_at is None
    assert "offence_category" not in state.risk.model_dump() and "mayoral_notice" not in state.risk.model_dump()

    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.share_risk({**RISK, "assessed_on": str(today - timedelta(days=1))})
    expect_rejection(err, ErrorType.EVENT_NOT_POSSIBLE)

    await case.event({"type": "risk_seen"}, actor="carla")
    state = await case.state()
    assert state.risk.seen_by == "carla" and state.risk.seen_at is not None
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.event({"type": "risk_seen"}, actor="carla")
    expect_rejection(err, ErrorType.EVENT_NOT_POSSIBLE)

    await case.handle.execute_update(CaseWorkflow.erase_offence, EraseOffenceInput(actor="retention"))
    state = await case.eventually(lambda s: s.offence_erased_at is not None and s.risk is None)
    assert state.notice.offence_category is None


async def test_a_plan_for_another_detention_is_refused(env, cases):
    case = await cases(notice(local_date(await env.get_current_time())))
    before = (await case.state()).revision
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.share_plan({**plan(1, await case.today()), "detention_id": "DJI-OTHER-1"})
    expect_rejection(err, ErrorType.INVALID_EVENT)
    assert (await case.state()).revision == before and (await case.state()).plan is None
