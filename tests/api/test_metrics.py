"""The read model's figures on the metrics endpoint, as Prometheus scrapes them, on both
databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, create_engine
from sqlmodel import Session

from api.metrics import ReadModelMetrics
from core.metrics import MetricsEndpoint
from domain.projection import CaseProjection, TaskSnapshot
from store import queries
from store.projection import write_projection
from tests.api.test_worklists import start
from tests.helpers import CAROLINE

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    response = httpx.get(url)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def of(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: value for (sample, labels), value in samples.items() if sample == name}


@pytest.fixture
def endpoint(engine: Engine) -> Iterator[MetricsEndpoint]:
    endpoint = MetricsEndpoint("127.0.0.1", 0, [ReadModelMetrics(engine)])
    yield endpoint
    endpoint.close()


async def test_the_open_cases_per_phase_are_those_of_the_read_model(api, engine, endpoint):
    tilburg = [await start(api, municipality="0855") for _ in range(3)]
    await start(api, municipality="0758")
    declined = await api.post(
        f"/v1/cases/{tilburg[0]}/events", json={"type": "declined", "note": "wil geen hulp"}, headers=CAROLINE
    )
    assert declined.status_code == 200, declined.text

    open_cases = of(scrape(endpoint.url), "reentry_open_cases")
    assert open_cases == {
        frozenset({("municipality", "0855"), ("phase", "notified")}): 2,
        frozenset({("municipality", "0758"), ("phase", "notified")}): 1,
    }
    with Session(engine) as session:
        per_phase = queries.dashboard(session, municipalities=["0855"]).cases_per_phase
    assert per_phase == {"notified": 2, "closed": 1}


NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def case(case_id: str, municipality: str, tasks: list[TaskSnapshot], phase: str = "planning") -> CaseProjection:
    return CaseProjection(
        case_id=case_id,
        revision=1,
        municipality=municipality,
        phase=phase,
        prison="PI-TILBURG",
        detention_start=date(2026, 12, 1),
        expected_release=date(2027, 3, 1),
        offence_category="property",
        policy_version="nl-default-2026.1",
        notified_at=NOW,
        tasks=tasks,
    )


def task(key: str, team: str, *, overdue: bool = False, at_risk: bool = False, status: str = "open") -> TaskSnapshot:
    return TaskSnapshot(
        key=key, title=key, team=team, status=status, due=NOW - timedelta(days=1), overdue=overdue, at_risk=at_risk
    )


def test_overdue_and_at_risk_tasks_per_municipality_and_team(engine, endpoint):
    write_projection(
        engine,
        case(
            "case-DJI-M-1",
            "0855",
            [
                task("contact_prison", "nazorg-tilburg", overdue=True),
                task("id_document", "nazorg-tilburg", overdue=True, at_risk=True),
                task("income", "werk-inkomen", at_risk=True),
                task("housing", "nazorg-tilburg"),
                task("care", "nazorg-tilburg", overdue=True, status="completed"),
            ],
        ),
    )
    write_projection(engine, case("case-DJI-M-2", "0796", [task("screening", "nazorg-den-bosch", overdue=True)]))
    write_projection(engine, case("case-DJI-M-3", "0796", [], phase="closed"))

    samples = scrape(endpoint.url)
    tilburg, income = ("nazorg-tilburg", "0855"), ("werk-inkomen", "0855")
    den_bosch = ("nazorg-den-bosch", "0796")

    def labelled(team: str, municipality: str) -> frozenset[tuple[str, str]]:
        return frozenset({("team", team), ("municipality", municipality)})

    assert of(samples, "reentry_overdue_tasks") == {
        labelled(*tilburg): 2,
        labelled(*income): 0,
        labelled(*den_bosch): 1,
    }
    assert of(samples, "reentry_at_risk_tasks") == {
        labelled(*tilburg): 1,
        labelled(*income): 1,
        labelled(*den_bosch): 0,
    }
    assert of(samples, "reentry_open_cases") == {
        frozenset({("municipality", "0855"), ("phase", "planning")}): 1,
        frozenset({("municipality", "0796"), ("phase", "planning")}): 1,
    }
    assert of(samples, "reentry_read_model_up") == {frozenset(): 1}


def test_a_read_model_that_cannot_be_read_says_so_and_the_rest_is_still_scraped():
    unreachable = create_engine("postgresql+psycopg://reentry@127.0.0.1:9/reentry", connect_args={"connect_timeout": 2})
    endpoint = MetricsEndpoint("127.0.0.1", 0, [ReadModelMetrics(unreachable)])
    try:
        samples = scrape(endpoint.url)
    finally:
        endpoint.close()
    assert of(samples, "reentry_read_model_up") == {frozenset(): 0}
    assert of(samples, "reentry_open_cases") == {}
    assert of(samples, "process_resident_memory_bytes"), "the process's own figures are still there"
