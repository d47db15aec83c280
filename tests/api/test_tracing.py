"""One trace per request, from the API through Temporal to the activities and the partner
calls, and nothing in it that identifies a person.

The app, the Temporal client (and so the worker) and the partner clients are made as the
processes make them, with a tracer provider of the tests' own whose spans end up in
memory, redacted as they would leave a process.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import HTTPException, Request
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.partners.population_register import Registration, RegistrationCheck
from api.app import create_app
from core.settings import Settings
from core.temporal import connect, data_converter, tracing_interceptor
from core.tracing import make_tracer_provider
from partners import Simulation, SimulatorConfig, create_partners_app
from tests.api.test_cases import local_date_now, notice_body
from tests.helpers import CAROLINE, PRISON, TEST_KEYRING, TRUST_TEST_KEY, settled
from worker.partners import partner_activities
from worker.temporal import WORKFLOWS, build_worker

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


@workflow.defn(sandboxed=False)
class RegistrationLookup:
    """Test only: what a case will do once it asks the population register."""

    @workflow.run
    async def run(self, check: RegistrationCheck) -> Registration:
        return await workflow.execute_activity(
            "check_registration",
            check,
            result_type=Registration,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50), maximum_attempts=2),
        )


class Traced:
    """The spans of the run, in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider: TracerProvider = make_tracer_provider("reentry-test", self.exporter, batch=False)

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def trace_of(self, span: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.spans if s.context.trace_id == span.context.trace_id]

    def server_span(self, method: str, route: str) -> ReadableSpan:
        [span] = [
            s
            for s in self.spans
            if s.kind == SpanKind.SERVER and s.attributes.get("http.route") == route and s.name.startswith(method)
        ]
        return span


def named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, f"{name!r} in {sorted(s.name for s in spans)}"
    return found[0]


def ancestors(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[str]:
    """The names from ``span`` up to the root of its trace."""
    by_id = {s.context.span_id: s for s in spans}
    chain = [span.name]
    while span.parent is not None:
        span = by_id[span.parent.span_id]
        chain.append(span.name)
    return chain


@pytest.fixture(scope="module")
def traced() -> Traced:
    return Traced()


@pytest.fixture
async def traced_client(dev_env: WorkflowEnvironment, traced: Traced) -> Client:
    """A Temporal client as the processes connect one, traced."""
    return await connect(
        dev_env.client.service_client.config.target_host,
        dev_env.client.namespace,
        keyring=TEST_KEYRING,
        tracer_provider=traced.provider,
    )


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
async def simulator() -> AsyncIterator[tuple[str, Simulation]]:
    """The partner simulator over real HTTP, on a free port."""
    simulation = Simulation(SimulatorConfig())
    server = uvicorn.Server(
        uvicorn.Config(create_partners_app(simulation=simulation), lifespan="off", log_level="warning")
    )
    sock = free_socket()
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", simulation
    server.should_exit = True
    await serving
    sock.close()


@pytest.fixture
async def traced_api(
    traced_client: Client, workflow_engine: Engine, traced: Traced, simulator: tuple[str, Simulation]
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, a worker with the case workflow and the partner activities, and a
    test-only route that asks the population register through a workflow."""
    queue = f"traced-{uuid.uuid4()}"
    partners_url, _ = simulator
    settings = Settings(task_queue=queue, partners_url=partners_url, partner_timeout=5, **TRUST_TEST_KEY)
    app = create_app(
        settings=settings, temporal_client=traced_client, engine=workflow_engine, tracer_provider=traced.provider
    )
    lookups = f"{queue}-lookups"

    @app.post("/test/registration-checks")
    async def check(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        client: Client = request.app.state.temporal
        try:
            registration = await client.execute_workflow(
                RegistrationLookup.run, RegistrationCheck(**body), id=f"lookup-{uuid.uuid4()}", task_queue=lookups
            )
        except WorkflowFailureError as err:
            raise HTTPException(502, "the population register failed") from err
        return registration.model_dump(mode="json")

    async with (
        partner_activities(settings, traced.provider) as partners,
        build_worker(traced_client, queue, workflow_engine, partners),
        Worker(traced_client, task_queue=lookups, workflows=[RegistrationLookup], activities=partners),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test") as client,
    ):
        yield client


async def test_a_day_one_notice_is_one_trace_from_the_api_to_the_projection(traced_api, traced):
    traced.exporter.clear()
    response = await traced_api.post("/v1/notifications/detention-started", json=notice_body(), headers=PRISON)
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    server = traced.server_span("POST", "/v1/notifications/detention-started")
    trace = traced.trace_of(server)
    assert server.parent is None
    start = named(trace, "StartUpdateWithStartWorkflow:CaseWorkflow")
    assert start.attributes["temporalWorkflowID"] == case_id
    # Temporal's interceptor hangs the workflow's spans under the client's span that
    # started it; an activity's run under the workflow's scheduling of it.
    client_side = [start.name, server.name]
    for name in ("RunWorkflow:CaseWorkflow", "ValidateUpdate:receive_notice", "HandleUpdate:receive_notice"):
        assert ancestors(named(trace, name), trace) == [name, *client_side]
    projected = named(trace, "RunActivity:project_case")
    assert ancestors(projected, trace) == [projected.name, "StartActivity:project_case", *client_side]
    assert projected.attributes["temporalWorkflowID"] == case_id


async def test_a_day_one_notice_is_one_trace_down_to_the_call_to_the_population_register(
    traced_api, traced, traced_client
):
    """The case asks the register beside its own loop, after the notice is answered: the
    call still lands in the notice's trace."""
    traced.exporter.clear()
    response = await traced_api.post("/v1/notifications/detention-started", json=notice_body(), headers=PRISON)
    assert response.status_code == 201, response.text
    await settled(traced_client, response.json()["case_id"])

    server = traced.server_span("POST", "/v1/notifications/detention-started")
    trace = traced.trace_of(server)
    # Beside it in the trace: the case asking probation for its advice.
    calls = [s for s in trace if s.kind == SpanKind.CLIENT and s.instrumentation_scope.name.endswith("httpx")]
    [call] = [s for s in calls if s.attributes["http.url"].endswith("/haalcentraal/api/brp/personen")]
    assert ancestors(call, trace) == [
        call.name,
        "RunActivity:check_registration",
        "StartActivity:check_registration",
        "StartUpdateWithStartWorkflow:CaseWorkflow",
        "POST /v1/notifications/detention-started",
    ]
    assert call.attributes["http.method"] == "POST" and call.attributes["http.status_code"] == 200


async def test_the_health_probes_are_not_traced(traced_api, traced):
    traced.exporter.clear()
    assert (await traced_api.get("/healthz")).status_code == 200
    assert (await traced_api.get("/readyz")).status_code == 200
    assert traced.spans == []


async def test_a_task_done_on_a_running_case_is_a_trace_that_the_cases_handling_links_to(
    traced_api, traced, traced_client
):
    """Temporal's interceptor keeps a case's spans in the trace that started the case; the
    handling of a later update there links to the request's own trace."""
    response = await traced_api.post("/v1/notifications/detention-started", json=notice_body(), headers=PRISON)
    case_id = response.json()["case_id"]
    await settled(traced_client, case_id)
    traced.exporter.clear()
    done = await traced_api.post(
        f"/v1/cases/{case_id}/tasks/contact_prison/complete",
        json={"outcome": {"kind": "contact", "contacted_on": str(local_date_now())}},
        headers=CAROLINE,
    )
    assert done.status_code == 200, done.text

    server = traced.server_span("POST", "/v1/cases/{case_id}/tasks/{task_key}/complete")
    request_trace = traced.trace_of(server)
    update = named(request_trace, "StartWorkflowUpdate:complete_task")
    assert ancestors(update, request_trace) == [update.name, server.name]
    handled = named(traced.spans, "HandleUpdate:complete_task")
    assert handled.context.trace_id != server.context.trace_id
    assert [link.context.span_id for link in handled.links] == [update.context.span_id]
    # The case's projection of the completed task runs in the handling's trace (another
    # projection, of a partner's answer arriving meanwhile, may run beside it).
    projections = [s for s in traced.spans if s.name == "RunActivity:project_case"]
    assert handled.context.trace_id in {s.context.trace_id for s in projections}


async def test_no_span_holds_a_bsn_a_name_or_a_token(traced_api, traced, simulator, monkeypatch):
    """A whole run with a resident's BSN and name: a notice, the case read, a task done,
    a list filtered by a name in the query string, a refused body, the register asked, and
    the register failing. Even with every header asked to be recorded."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST", ".*")
    traced.exporter.clear()
    bsn, given_names, surname = "999993653", "Mohammed Yusuf", "Aydoğan-Verhoeven"
    body = notice_body()
    body["person"] |= {"bsn": bsn, "given_names": given_names, "surname": surname}

    notice = await traced_api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
    assert notice.status_code == 201, notice.text
    case_id = notice.json()["case_id"]
    case = await traced_api.get(f"/v1/cases/{case_id}", headers=CAROLINE)
    assert surname in case.text  # what the caseworker sees, not what the trace keeps
    done = await traced_api.post(
        f"/v1/cases/{case_id}/tasks/contact_prison/complete",
        json={"outcome": {"kind": "contact", "contacted_on": str(local_date_now()), "note": f"sprak {given_names}"}},
        headers=CAROLINE,
    )
    assert done.status_code == 200, done.text
    assert (await traced_api.get("/v1/tasks", params={"team": surname}, headers=CAROLINE)).status_code == 200
    refused = dict(body, detention_id="DJI-T-refused", person=dict(body["person"], bsn=bsn[:-1] + "0"))
    assert (
        await traced_api.post("/v1/notifications/detention-started", json=refused, headers=PRISON)
    ).status_code == 422
    check = {"bsn": bsn, "municipality": "0855"}
    assert (await traced_api.post("/test/registration-checks", json=check, headers=PRISON)).status_code == 200
    partners_url, _ = simulator
    async with httpx.AsyncClient(base_url=partners_url) as sim:
        faults = await sim.put("/_sim/faults", json={"plan": {"population_register": {"error_rate": 1}}})
    assert faults.status_code == 200, faults.text
    failed = await traced_api.post("/test/registration-checks", json=check, headers=PRISON)
    assert failed.status_code == 502, failed.text

    spans = traced.spans
    assert len(spans) > 20
    assert any(s.name == "RunActivity:check_registration" and s.status.description for s in spans), "failure traced"
    tokens = [header["Authorization"].removeprefix("Bearer ") for header in (PRISON, CAROLINE)]
    for span in spans:
        text = span.to_json()  # everything it carries out of the process
        for secret in (bsn, given_names, surname, json.dumps(surname)[1:-1], *tokens):
            assert secret not in text, f"{secret!r} in {span.name}"
        assert not any(key.startswith("http.request.header.") for key in span.attributes), span.name


async def test_a_traced_case_replays_and_replay_makes_no_spans(traced_api, traced, traced_client):
    """The interceptor on a worker that picks a case up again (and on the recorded histories)."""
    response = await traced_api.post("/v1/notifications/detention-started", json=notice_body(), headers=PRISON)
    case_id = response.json()["case_id"]
    await settled(traced_client, case_id)
    # Closed, so that its history is whole: a workflow task still under way at the end of
    # a running case's history is new work to a replayer, which rightly traces it.
    declined = await traced_api.post(f"/v1/cases/{case_id}/events", json={"type": "declined"}, headers=CAROLINE)
    assert declined.status_code == 200, declined.text
    handle = traced_client.get_workflow_handle(case_id)
    await handle.result()
    history = await handle.fetch_history()
    assert any(
        "_tracer-data" in e.workflow_execution_started_event_attributes.header.fields for e in history.events[:1]
    )

    # A provider of the replay's own: the live worker's spans are no business of this claim.
    replaying = Traced()
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(TEST_KEYRING),
        interceptors=[tracing_interceptor(replaying.provider)],
    )
    await replayer.replay_workflow(history)
    for path in HISTORIES:
        await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
    assert replaying.spans == []
