"""One person across detentions: a case shows the person's other cases, by a keyed hash
of the BSN (the person key), only in the municipalities the reader is granted."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from domain.models import case_id_for
from tests.api.test_cases import is_problem, local_date_now
from tests.helpers import CAROLINE, PRISON, bearer, notice, settled


async def start(api, body: dict) -> str:
    response = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


async def test_a_new_detention_shows_the_persons_earlier_case_and_the_earlier_the_new(api, dev_env, engine):
    today = local_date_now()
    first = notice(today, release_in=timedelta(weeks=12))
    old = await start(api, first.model_dump(mode="json"))
    again = notice(today, release_in=timedelta(weeks=20)).model_copy(update={"person": first.person})
    new = await start(api, again.model_dump(mode="json"))
    other = await start(api, notice(today).model_dump(mode="json"))
    for case_id in (old, new, other):
        await settled(dev_env.client, case_id)

    seen_new = (await api.get(f"/v1/cases/{new}")).json()["same_person"]
    assert [c["case_id"] for c in seen_new] == [old]
    assert (await api.get(f"/v1/cases/{old}")).json()["same_person"][0]["case_id"] == new
    assert (await api.get(f"/v1/cases/{other}")).json()["same_person"] == []

    listed = await api.get("/v1/cases", params={"person": new})
    assert sorted(c["case_id"] for c in listed.json()["items"]) == sorted([old, new])
    # The read model holds the keyed hash, never the BSN.
    with engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT case_id, person_key FROM cases")).all())
    assert keys[old] == keys[new] != keys[other]
    assert first.person.bsn not in str(keys) and len(keys[old]) == 64


async def test_each_municipality_sees_only_its_own_cases_of_the_person(api, dev_env):
    today = local_date_now()
    tilburg = notice(today, municipality="0855")
    breda = notice(today, municipality="0758").model_copy(update={"person": tilburg.person})
    in_tilburg, in_breda = (
        await start(api, tilburg.model_dump(mode="json")),
        await start(api, breda.model_dump(mode="json")),
    )
    for case_id in (in_tilburg, in_breda):
        await settled(dev_env.client, case_id)
    tilburg_only = bearer("tess", "caseworker", municipalities=("0855",))
    assert (await api.get(f"/v1/cases/{in_tilburg}", headers=tilburg_only)).json()["same_person"] == []
    assert [
        c["case_id"] for c in (await api.get(f"/v1/cases/{in_tilburg}", headers=CAROLINE)).json()["same_person"]
    ] == [in_breda]
    # Asking for the person of a case out of reach is answered as for a case that does not exist.
    is_problem(await api.get("/v1/cases", params={"person": in_breda}, headers=tilburg_only), 404)
    is_problem(await api.get("/v1/cases", params={"person": "case-DJI-NOT-THERE"}, headers=tilburg_only), 404)
    mine = await api.get("/v1/cases", params={"person": in_tilburg}, headers=tilburg_only)
    assert [c["case_id"] for c in mine.json()["items"]] == [in_tilburg]
    # Never a BSN in the URL: only a case id is taken.
    is_problem(await api.get("/v1/cases", params={"person": tilburg.person.bsn}), 422)


async def closed(api, case_id: str) -> dict:
    for _ in range(100):
        view = (await api.get(f"/v1/cases/{case_id}")).json()
        if view["phase"] == "closed":
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} did not close")


async def test_scenario_6_in_both_orders_the_cases_of_the_person_link(api, dev_env):
    """Detained again: reported before the new day-one notice, the old case waits, open,
    and closes as re-detained when the notice of the same person is in; reported after it,
    the old case closes at once. Either way the two cases are linked and find each other."""
    today = local_date_now()
    for report_first in (True, False):
        first = notice(today, release_in=timedelta(weeks=12))
        old = await start(api, first.model_dump(mode="json"))
        again = notice(today, release_in=timedelta(weeks=20)).model_copy(update={"person": first.person})
        event = {"type": "re_detained", "new_detention_id": again.detention_id}
        if report_first:
            early = await api.post(f"/v1/cases/{old}/events", json=event, headers=PRISON)
            assert early.status_code == 200, early.text
            waiting = (await api.get(f"/v1/cases/{old}")).json()
            assert waiting["phase"] != "closed" and waiting["next_case_id"] == case_id_for(again.detention_id)
        new = await start(api, again.model_dump(mode="json"))
        if not report_first:
            linked = await api.post(f"/v1/cases/{old}/events", json=event, headers=PRISON)
            assert linked.status_code == 200, linked.text
        await settled(dev_env.client, new)
        # The new case tells the waiting one after its first answer: a moment later.
        old_view = await closed(api, old)
        assert old_view["closed_reason"] == "re_detained" and old_view["next_case_id"] == new
        assert [c["case_id"] for c in old_view["same_person"]] == [new]
        new_view = (await api.get(f"/v1/cases/{new}")).json()
        assert new_view["previous_case_id"] == old
        assert [c["case_id"] for c in new_view["same_person"]] == [old]
