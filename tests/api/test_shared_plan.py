"""The D&R plan and risk information in the case, through the API: shown for casework,
never to the mayor's office; risk information asks a coordinator's attention until one has
seen it."""

from __future__ import annotations

from sqlmodel import Session

from domain.models import SharePlanInput, ShareRiskInput
from store import queries
from tests.api.test_cases import is_problem, local_date_now
from tests.api.test_person import start
from tests.helpers import PRISON, bearer, notice, settled
from workflows.case import CaseWorkflow

ANNA = bearer("anna", "caseworker", municipalities=("0855",))
CARLA = bearer("carla", "coordinator", municipalities=("0855",))
MAYOR = bearer("kabinet", "mayor_office", municipalities=("0855",))


async def shared(dev_env, case_id: str, detention_id: str, today) -> None:
    handle = dev_env.client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    plan = {
        "detention_id": detention_id,
        "version": 1,
        "drawn_up_on": str(today),
        "basic_conditions": {"housing": "needs_action"},
        "actions": [{"condition": "housing", "code": "housing_shelter", "due_on": str(today)}],
    }
    await handle.execute_update(CaseWorkflow.share_plan, SharePlanInput(actor="message_box", plan=plan))
    risk = {
        "detention_id": detention_id,
        "assessed_on": str(today),
        "recidivism": "high",
        "harm": "high",
        "codes": ["area_ban"],
        "conviction_final": True,
        "offence_category": "violent",
        "mayoral_notice": True,
    }
    await handle.execute_update(CaseWorkflow.share_risk, ShareRiskInput(actor="message_box", risk=risk))


async def test_casework_sees_the_plan_and_the_risk_and_a_coordinator_marks_it_seen(api, dev_env, engine):
    today = local_date_now()
    detention = notice(today)
    case_id = await start(api, detention.model_dump(mode="json"))
    await settled(dev_env.client, case_id)
    await shared(dev_env, case_id, detention.detention_id, today)

    case = (await api.get(f"/v1/cases/{case_id}", headers=ANNA)).json()
    assert case["plan"]["actions"] == [
        {"condition": "housing", "code": "housing_shelter", "due_on": str(today), "done_on": None}
    ]
    assert case["risk"]["recidivism"] == "high" and case["risk"]["codes"] == ["area_ban"]
    assert case["risk"]["seen_at"] is None
    assert is_problem(await api.get(f"/v1/cases/{case_id}", headers=MAYOR), 404)

    waiting = (await api.get("/v1/cases", params={"risk_unseen": "true"}, headers=CARLA)).json()["items"]
    assert [c["case_id"] for c in waiting] == [case_id] and waiting[0]["risk_unseen"]

    seen = {"type": "risk_seen"}
    assert is_problem(await api.post(f"/v1/cases/{case_id}/events", json=seen, headers=ANNA), 403)
    assert is_problem(await api.post(f"/v1/cases/{case_id}/events", json=seen, headers=PRISON), 403)
    answer = await api.post(f"/v1/cases/{case_id}/events", json=seen, headers=CARLA)
    assert answer.status_code == 200, answer.text
    assert is_problem(await api.post(f"/v1/cases/{case_id}/events", json=seen, headers=CARLA), 409)

    risk = (await api.get(f"/v1/cases/{case_id}", headers=ANNA)).json()["risk"]
    assert risk["seen_by"] == "carla" and risk["seen_at"] is not None
    assert (await api.get("/v1/cases", params={"risk_unseen": "true"}, headers=CARLA)).json()["items"] == []
    with Session(engine) as session:
        row = queries.case_row(session, case_id=case_id)
    assert row is not None and not row.risk_unseen
