"""The demo data: the scenarios' cases, seeded through the API of a running stack."""

import json
from datetime import UTC, datetime

from stdnum.nl import bsn as stdnum_bsn

from activities.partners.message_box import BoxMessage, JusticeMessage, PlanShared, RiskShared, understand
from tests.api.test_cases import local_date_now
from tests.helpers import bearer, sign
from worker.seed import REGION, made_up_bsns, seed


async def test_seeded_cases_take_the_courses_of_the_scenarios(api):
    registered: list[tuple[str, str]] = []

    async def register(bsn: str, municipality: str) -> None:
        registered.append((bsn, municipality))

    shared: list[JusticeMessage] = []

    async def share(type_: str, content: dict) -> None:
        message = BoxMessage(
            id="m", sequence=len(shared) + 1, type=type_, sent_at=datetime.now(UTC), content=json.dumps(content)
        )
        shared.append(understand(message))

    seeded = await seed(api, local_date_now(), sign, register, share)
    cases = seeded.cases
    assert len(cases) == len(set(cases)) == 14
    assert len(registered) == 13, "every resident once, where the notice says they live"
    listed_first = (await api.get("/v1/cases", params={"limit": 200})).json()["items"]
    municipality_of = {c["case_id"]: c["municipality"] for c in listed_first}
    registered_cases = [c for c in cases if c != cases[9]]  # scenario 6's new case: the same resident
    assert [m for _, m in registered] == [municipality_of[c] for c in registered_cases]
    # What the prison shares, as the message box would bring it: the Tilburg plan, agreed,
    # and the serious offender's risk information.
    plan, risk = shared
    assert isinstance(plan, PlanShared) and plan.content.status == "agreed"
    assert "case-" + plan.content.detention_id == cases[0]
    assert isinstance(risk, RiskShared) and "case-" + risk.content.detention_id == cases[-1]
    listed = (await api.get("/v1/cases", params={"limit": 200})).json()["items"]
    assert {c["case_id"] for c in listed} == set(cases)
    assert {c["municipality"] for c in listed} == {"0855", "0772", "0758", "0796", "0794"}

    at_risk = {c["case_id"] for c in (await api.get("/v1/cases", params={"at_risk": True})).json()["items"]}
    release_moved_earlier, serious_offender = cases[5], cases[-1]
    assert {release_moved_earlier, serious_offender} <= at_risk, (
        "released within 7 weeks: ID and benefit cannot make it"
    )
    assert not at_risk & set(cases[:2]), "the ordinary course has time enough"
    closed = {c["closed_reason"] for c in listed if c["phase"] == "closed"}
    assert closed == {"declined", "re_detained"}
    assert any(c["phase"] == "released" for c in listed)
    anna = (
        await api.get(
            "/v1/tasks", params={"assignee": "me"}, headers=bearer("anna", "caseworker", municipalities=tuple(REGION))
        )
    ).json()["items"]
    assert {t["key"] for t in anna} == {"id_document"}

    # Beside the serious offender's case, the mayor's notices.
    mayor = bearer("oov-ilse", "mayor_office", municipalities=tuple(REGION))
    returning, leave, helmond = [
        (await api.get(f"/v1/mayoral-notices/{n}", headers=mayor)).json() for n in seeded.notices
    ]
    serious = (await api.get(f"/v1/cases/{serious_offender}")).json()
    assert returning["person"]["surname"] == serious["person"]["surname"]
    assert (returning["decision"], returning["measure_types"]) == ("measures", ["area_ban"])
    assert "prepare_communication" in {t["key"] for t in returning["tasks"] if t["status"] == "open"}
    assert (
        leave["kind"] == "leave"
        and leave["compressed"]
        and all(t["due"] < f"{leave['starts_on']}T" or t["key"] == "evaluate" for t in leave["tasks"])
    ), "told four days ahead: every step before the leave"
    # Under the default policy Helmond acts on every notice; its own may filter this one.
    assert (helmond["municipality"], helmond["unrest_expected"], helmond["status"]) == ("0794", False, "open")
    overview = (await api.get("/v1/mayoral-notices/overview", headers=mayor)).json()
    assert overview["measures"] == {"area_ban": 1} and overview["open_notices"] == 3


def test_demo_numbers_pass_the_11_check():
    numbers = [n for n, _ in zip(made_up_bsns(), range(10), strict=False)]
    assert all(stdnum_bsn.is_valid(n) and n >= "900000000" for n in numbers)
