"""Faults injected by configuration: what a client of the simulator runs into."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import ValidationError

from partners import Partner, SimClock, Simulation, SimulatorConfig, create_partners_app, load_simulator_config
from partners.config import FaultPlan, Faults
from tests.helpers import next_bsn
from tests.partners.simulator import START, set_faults


def application(reference: str) -> dict:
    return {"reference": reference, "bsn": next_bsn(), "municipality": "0855"}


async def test_an_error_answer_changes_nothing(sim: httpx.AsyncClient, simulation: Simulation):
    await set_faults(sim, income={"error_rate": 1})
    response = await sim.post("/income/applications", json=application("case-E1/benefit"))
    assert response.status_code in (500, 502, 503)
    assert response.headers["content-type"] == "application/problem+json"
    assert simulation.income.applications == {}


async def test_a_malformed_answer_comes_after_the_request_took_effect(sim: httpx.AsyncClient, simulation: Simulation):
    await set_faults(sim, income={"malformed_rate": 1})
    answers = [await sim.post("/income/applications", json=application(f"case-M{n}/benefit")) for n in range(6)]
    assert all(a.status_code in (200, 201) for a in answers)
    kinds = set()
    for answer in answers:
        try:
            body = answer.json()
        except ValueError:
            kinds.add("cut_off")
        else:
            assert "id" not in body  # valid JSON, but not an application
            kinds.add("wrong_shape")
    assert kinds == {"cut_off", "wrong_shape"}
    assert len(simulation.income.applications) == 6


async def test_an_outage_answers_503_until_its_end_then_the_partner_is_back(sim: httpx.AsyncClient, clock: SimClock):
    outage = {"start": "2027-01-04T07:00:00Z", "end": "2027-01-04T08:30:00Z"}
    await set_faults(sim, probation={"outages": [outage]})
    down = await sim.get("/probation/detentions/DJI-O-1")
    assert down.status_code == 503
    assert down.headers["retry-after"] == str(30 * 60)  # until the end of the outage
    assert (await sim.get("/income/applications/INK-1")).status_code == 404  # other partners are up
    await sim.post("/_sim/clock", json={"advance": "PT30M"})
    assert (await sim.get("/probation/detentions/DJI-O-1")).status_code == 200


async def test_a_blackhole_outage_does_not_answer_until_the_hang_time(sim: httpx.AsyncClient):
    outage = {"start": "2027-01-04T07:00:00Z", "end": "2027-01-05T07:00:00Z", "mode": "blackhole"}
    await set_faults(sim, population_register={"outages": [outage], "hang": 0.2})
    started = time.monotonic()
    response = await sim.post("/haalcentraal/api/brp/personen", json={})
    assert response.status_code == 504
    assert time.monotonic() - started >= 0.2


async def test_latency_and_hanging_answers(sim: httpx.AsyncClient, simulation: Simulation):
    await set_faults(sim, civil_affairs={"latency": {"fixed": 0.05}})
    started = time.monotonic()
    assert (await sim.get("/civil-affairs/appointments/AFS-1")).status_code == 404
    assert time.monotonic() - started >= 0.05
    await set_faults(sim, income={"timeout_rate": 1, "hang": 0.1})
    started = time.monotonic()
    response = await sim.post("/income/applications", json=application("case-H1/benefit"))
    assert response.status_code == 201 and time.monotonic() - started >= 0.1
    assert len(simulation.income.applications) == 1


async def test_the_simulators_own_routes_are_never_disturbed(sim: httpx.AsyncClient):
    await set_faults(sim, all={"error_rate": 1, "malformed_rate": 1})
    assert (await sim.get("/_sim/clock")).status_code == 200
    assert (await sim.get("/healthz")).status_code == 200
    assert (await sim.get("/probation/detentions/DJI-X")).status_code >= 500


async def test_the_same_seed_gives_the_same_faults():
    async def statuses(seed: int) -> list[int]:
        sim = Simulation(SimulatorConfig(seed=seed), SimClock(START, frozen=True))
        sim.faults.replace(FaultPlan(all=Faults(error_rate=0.5)), seed=seed)
        transport = httpx.ASGITransport(app=create_partners_app(simulation=sim))
        async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
            return [(await client.get("/probation/detentions/DJI-S-1")).status_code for _ in range(30)]

    first, again, other = await statuses(7), await statuses(7), await statuses(8)
    assert first == again
    assert first != other
    assert 5 < sum(s >= 500 for s in first) < 25


async def test_the_injected_faults_are_counted(sim: httpx.AsyncClient):
    await set_faults(sim, probation={"error_rate": 1})
    for _ in range(3):
        await sim.get("/probation/detentions/DJI-C-1")
    assert (await sim.get("/_sim/faults")).json()["injected"] == {"probation.error": 3}


async def test_unreadable_messages_stay_unreadable_under_their_own_id(sim: httpx.AsyncClient):
    await set_faults(sim, message_box={"malformed_messages": 1})
    for n in range(4):
        content = {"detention_id": f"DJI-U-{n}", "release_date": "2027-05-01", "reason": "sentence_served"}
        await sim.post("/_sim/messagebox/messages", json={"type": "detention_ended", "content": content})
    first = (await sim.get("/messagebox/messages")).json()["messages"]
    again = (await sim.get("/messagebox/messages")).json()["messages"]
    assert first == again
    for message in first:
        try:
            content = json.loads(message["content"])
        except ValueError:
            continue  # cut off
        assert "detention_id" not in content  # a field it needs is missing


def test_the_faults_of_a_partner_replace_only_the_fields_it_names():
    plan = FaultPlan.model_validate(
        {"all": {"error_rate": 0.1, "latency": {"fixed": 0.2}}, "income": {"error_rate": 0.5}}
    )
    income = plan.for_partner(Partner.INCOME)
    assert income.error_rate == 0.5 and income.latency.fixed == 0.2
    assert plan.for_partner(Partner.PROBATION).error_rate == 0.1


def test_the_configuration_loads_from_yaml_and_the_environment(tmp_path: Path):
    file = tmp_path / "partners.yaml"
    file.write_text(
        """
seed: 11
faults:
  all:
    latency: {fixed: 0.01, spike: 2, spike_share: 0.02}
  income:
    error_rate: 0.2
    outages:
      - {start: "2027-01-04T22:00:00+01:00", end: "2027-01-05T06:00:00+01:00"}
income:
  decision_after: P8W
"""
    )
    env = {"REENTRY_SIM_FAULTS__INCOME__TIMEOUT_RATE": "0.05", "REENTRY_SIM_SEED": "12", "OTHER": "x"}
    config = load_simulator_config(file, env)
    assert config.seed == 12
    income = config.faults.for_partner(Partner.INCOME)
    assert (income.error_rate, income.timeout_rate, income.latency.spike) == (0.2, 0.05, 2)
    assert config.income.decision_after.days == 56
    assert len(income.outages) == 1
    with pytest.raises(ValidationError):
        load_simulator_config(None, {"REENTRY_SIM_FAULTS__ALL__ERROR_RATE": "1.5"})
    with pytest.raises(ValidationError):
        load_simulator_config(None, {"REENTRY_SIM_FAULTS__INCOME__ERORR_RATE": "0.1"})  # a typo is an error


def test_the_partner_pages_example_configuration_is_valid():
    page = (Path(__file__).parents[2] / "docs" / "partners.md").read_text()
    example = page.split("## Faults")[1].split("```yaml\n")[1].split("```")[0]
    config = SimulatorConfig.model_validate(yaml.safe_load(example))
    income = config.faults.for_partner(Partner.INCOME)
    assert (config.seed, income.error_rate, income.latency.spike, len(income.outages)) == (7, 0.1, 3, 2)
    assert config.faults.for_partner(Partner.MESSAGE_BOX).malformed_messages == 0.1
