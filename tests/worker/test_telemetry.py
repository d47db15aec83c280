"""Tracing and metrics as `make run` starts them: one process, one metrics endpoint, and the
spans of a request on standard output, without the resident in them."""

from __future__ import annotations

import subprocess

import httpx

from tests.api.test_cases import notice_body
from tests.api.test_metrics import of, scrape
from tests.worker.test_partners import REENTRY, environment, free_port, stop, wait_for_line  # noqa: F401


def test_reentry_up_serves_its_metrics_and_prints_the_spans_of_a_request(environment: dict[str, str]):  # noqa: F811
    metrics_port = free_port()
    environment |= {"REENTRY_METRICS_PORT": str(metrics_port), "REENTRY_OTEL_EXPORTER": "console"}
    process = subprocess.Popen(
        [*REENTRY, "up"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    body = notice_body(municipality="0855")
    body["person"] |= {"bsn": "999993653", "surname": "Aydoğan-Verhoeven"}
    token = "not issued"
    try:
        lines = wait_for_line(process, "Ctrl-C stops everything.", timeout=90)
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        assert any(f"Metrics: {metrics}" in line for line in lines), lines
        token = subprocess.run(
            [*REENTRY, "token", "--user", "prison_service", "--role", "partner_system", "--municipality", "*"],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        api = f"http://127.0.0.1:{environment['REENTRY_API_PORT']}"
        response = httpx.post(
            f"{api}/v1/notifications/detention-started",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text

        samples = scrape(metrics)
        assert of(samples, "reentry_open_cases") == {frozenset({("municipality", "0855"), ("phase", "notified")}): 1}
        assert of(samples, "reentry_read_model_up") == {frozenset(): 1}
        assert of(samples, "temporal_request_total") and of(samples, "temporal_workflow_task_execution_latency_count")
    finally:
        out = stop(process, timeout=60)
    assert process.returncode == 0, out
    # The spans still in the batch are written when the process stops.
    assert '"name": "POST /v1/notifications/detention-started"' in out
    assert '"name": "RunActivity:project_case"' in out
    assert '"service.name": "reentry"' in out
    for personal in ("999993653", "Aydo", token):
        assert personal not in out
