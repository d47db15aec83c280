"""The Prometheus endpoint of a process: Temporal's SDK metrics beside the activities'
counters, and what the endpoint does when it cannot listen."""

from __future__ import annotations

import socket
import uuid
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.runtime import BUFFERED_METRIC_KIND_COUNTER, BUFFERED_METRIC_KIND_GAUGE, BUFFERED_METRIC_KIND_HISTOGRAM
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities import NotificationActivities
from core.commands import start_case
from core.metrics import MetricsEndpoint, TemporalSdkMetrics
from core.settings import Settings
from core.temporal import connect
from domain.models import EscalationLevel, RecordEventInput, local_date
from domain.policy import load_policy
from tests.activities.test_delivery import notification
from tests.api.test_metrics import of, scrape
from tests.helpers import TEST_KEYRING, notice
from worker.telemetry import telemetry
from worker.temporal import build_worker
from workflows.case import CaseWorkflow


def update(name: str, kind, value: float, attributes: dict, description: str = "") -> SimpleNamespace:
    return SimpleNamespace(
        metric=SimpleNamespace(name=name, kind=kind, description=description, unit=None),
        value=value,
        attributes=attributes,
    )


def test_the_sdks_counters_gauges_and_durations_become_prometheus_metrics(monkeypatch: pytest.MonkeyPatch):
    sdk = TemporalSdkMetrics(drain_interval=3600)
    poll = {"namespace": "default", "task_queue": "reentry-cases"}
    slots = {"worker_type": "ActivityWorker"}
    updates = [
        update("temporal_request", BUFFERED_METRIC_KIND_COUNTER, 2, poll, "Count of client request successes"),
        update("temporal_request", BUFFERED_METRIC_KIND_COUNTER, 3, poll),
        update("temporal_local_activity_total", BUFFERED_METRIC_KIND_COUNTER, 1, poll),
        update("temporal_worker_task_slots_available", BUFFERED_METRIC_KIND_GAUGE, 100, slots),
        update("temporal_worker_task_slots_available", BUFFERED_METRIC_KIND_GAUGE, 99, slots),
        *(
            update("temporal_request_latency", BUFFERED_METRIC_KIND_HISTOGRAM, seconds, poll)
            for seconds in (0.004, 0.1, 0.1, 7.0, 900.0)
        ),
    ]
    monkeypatch.setattr(sdk._buffer, "retrieve_updates", lambda: updates.copy() if updates else [])
    endpoint = MetricsEndpoint("127.0.0.1", 0, [sdk])
    try:
        updates_once = scrape(endpoint.url)
        updates.clear()
        samples = scrape(endpoint.url)  # nothing new: the same figures
    finally:
        endpoint.close()
        sdk.close()
    temporal = {key: value for key, value in samples.items() if key[0].startswith("temporal_")}
    assert temporal == {key: value for key, value in updates_once.items() if key[0].startswith("temporal_")}
    labels = frozenset(poll.items())
    assert of(samples, "temporal_request_total") == {labels: 5}
    assert of(samples, "temporal_local_activity_total") == {labels: 1}
    assert of(samples, "temporal_worker_task_slots_available") == {frozenset(slots.items()): 99}
    buckets = {dict(k)["le"]: v for k, v in of(samples, "temporal_request_latency_bucket").items()}
    assert (buckets["0.005"], buckets["0.1"], buckets["5.0"], buckets["10.0"], buckets["300.0"]) == (1, 3, 3, 4, 4)
    assert buckets["+Inf"] == 5 == of(samples, "temporal_request_latency_count")[labels]
    assert of(samples, "temporal_request_latency_sum")[labels] == pytest.approx(907.204)


async def test_a_workers_endpoint_has_temporals_sdk_metrics_and_the_activities_counters(
    env: WorkflowEnvironment, workflow_engine: Engine
):
    sdk = TemporalSdkMetrics()
    endpoint = MetricsEndpoint("127.0.0.1", 0, [sdk])
    try:
        client = await connect(
            env.client.service_client.config.target_host,
            env.client.namespace,
            keyring=TEST_KEYRING,
            runtime=sdk.runtime,
        )
        queue = f"metrics-{uuid.uuid4()}"
        async with build_worker(client, queue, workflow_engine):
            today = local_date(await env.get_current_time())
            started = notice(today)
            assert (await start_case(client, started, policy=load_policy(None), task_queue=queue)).created
            # Closed before its worker stops: the time-skipping server skips no time past a
            # case that no worker will take any more, for any test after this one.
            case = client.get_workflow_handle(started.case_id)
            closed = RecordEventInput.model_validate({"actor": "test", "event": {"type": "closed", "note": "test"}})
            await case.execute_update(CaseWorkflow.record_event, closed)
            await case.result()
        await ActivityEnvironment().run(
            NotificationActivities().send_notification, notification(EscalationLevel.SUPERVISOR)
        )
        samples = scrape(endpoint.url)
    finally:
        endpoint.close()
        sdk.close()

    operations = {dict(labels).get("operation") for labels in of(samples, "temporal_request_total")}
    assert "RespondWorkflowTaskCompleted" in operations, operations
    executed = of(samples, "temporal_workflow_task_execution_latency_count")
    assert sum(count for labels, count in executed.items() if dict(labels)["task_queue"] == queue) >= 1
    assert of(samples, "temporal_local_activity_execution_latency_count"), "the projection ran"
    completed = of(samples, "temporal_workflow_completed_total")
    assert sum(n for labels, n in completed.items() if dict(labels)["workflow_type"] == "CaseWorkflow") >= 1
    escalated = of(samples, "reentry_escalations_sent_total")
    assert escalated[frozenset({("municipality", "0855"), ("level", "supervisor"), ("channel", "log")})] >= 1
    assert of(samples, "process_resident_memory_bytes")


def test_without_a_metrics_port_nothing_listens():
    with telemetry(Settings(), service="reentry-worker") as observed:
        assert observed.metrics_url is None and observed.runtime is None and observed.tracer_provider is None


def test_a_metrics_port_in_use_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(SystemExit, match=f"the metrics endpoint cannot listen on 127.0.0.1:{port}"),
            telemetry(Settings(metrics_port=port), service="reentry-worker"),
        ):
            pass


def test_the_endpoint_serves_until_closed():
    with telemetry(Settings(metrics_port=0, metrics_host="127.0.0.1"), service="reentry-api") as observed:
        assert observed.runtime is not None and observed.metrics_url
        assert httpx.get(observed.metrics_url).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(observed.metrics_url)
