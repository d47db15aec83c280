"""The demo data: the scenarios' cases, seeded through the API of a running stack."""

from stdnum.nl import bsn as stdnum_bsn

from tests.api.test_cases import local_date_now
from tests.helpers import bearer, sign
from worker.seed import REGION, made_up_bsns, seed


async def test_seeded_cases_take_the_courses_of_the_scenarios(api):
    registered: list[tuple[str, str]] = []

    async def register(bsn: str, municipality: str) -> None:
        registered.append((bsn, municipality))

    cases = await seed(api, local_date_now(), sign, register)
    assert len(cases) == len(set(cases)) == 14
    assert len(registered) == 14, "every resident, where the notice says they live"
    listed_first = (await api.get("/v1/cases", params={"limit": 200})).json()["items"]
    municipality_of = {c["case_id"]: c["municipality"] for c in listed_first}
    assert [m for _, m in registered] == [municipality_of[c] for c in cases]
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


def test_demo_numbers_pass_the_11_check():
    numbers = [n for n, _ in zip(made_up_bsns(), range(10), strict=False)]
    assert all(stdnum_bsn.is_valid(n) and n >= "900000000" for n in numbers)
