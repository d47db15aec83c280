"""The partner simulator on the command line and in the one-machine stack, and the partner
activities in the worker."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from worker.cli import main
from worker.partners import partner_activities
from worker.temporal import build_worker

REENTRY = [sys.executable, "-m", "worker.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_line(process: subprocess.Popen, text: str, timeout: float) -> list[str]:
    """The lines printed until one contains ``text``."""
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            lines.append(line)
            if text in line:
                return lines
        elif process.poll() is not None:
            break
        else:
            time.sleep(0.05)
    raise AssertionError(f"never printed {text!r}; printed: {''.join(lines)}")


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENTRY_")}
    env |= {
        "REENTRY_DATA_DIR": str(tmp_path / "data"),
        "REENTRY_PARTNERS_PORT": str(free_port()),
        "REENTRY_PARTNERS_SMTP_PORT": str(free_port()),
        "REENTRY_API_PORT": str(free_port()),
        "REENTRY_EMBEDDED_TEMPORAL_PORT": str(free_port()),
        "REENTRY_EMBEDDED_TEMPORAL_UI_PORT": str(free_port()),
        "REENTRY_LOG_LEVEL": "WARNING",
    }
    yield env


def stop(process: subprocess.Popen, timeout: float = 30) -> str:
    """Ctrl-C, and what it printed; killed if it does not stop in time."""
    process.send_signal(signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return out


def test_reentry_partners_serves_the_simulator_and_its_mail_until_ctrl_c(environment: dict[str, str], tmp_path: Path):
    config = tmp_path / "partners.yaml"
    config.write_text("seed: 5\nfaults:\n  probation:\n    error_rate: 1\n")
    process = subprocess.Popen(
        [*REENTRY, "partners", "--config", str(config)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = wait_for_line(process, "Ctrl-C stops it.", timeout=30)
        base = f"http://127.0.0.1:{environment['REENTRY_PARTNERS_PORT']}"
        assert f"Partner simulator: {base}" in "".join(lines)
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert httpx.get(f"{base}/probation/detentions/DJI-CLI-1").status_code >= 500  # the configured faults
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "reentry@gemeente.example", "nazorg@gemeente.example", "Herinnering"
        mail.set_content("Taak: contact_prison")
        with smtplib.SMTP("127.0.0.1", int(environment["REENTRY_PARTNERS_SMTP_PORT"]), local_hostname="test") as smtp:
            smtp.send_message(mail)
        (received,) = httpx.get(f"{base}/_sim/received/mail").json()
        assert received["subject"] == "Herinnering" and received["to"] == ["nazorg@gemeente.example"]
    finally:
        out = stop(process)
    assert process.returncode == 0
    assert "the partner simulator has stopped." in out


def test_reentry_partners_says_so_when_its_port_is_taken(monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("REENTRY_PARTNERS_PORT", str(taken.getsockname()[1]))
        with pytest.raises(SystemExit, match="the partner simulator cannot listen on 127.0.0.1:"):
            main(["partners"])


def test_make_run_starts_the_simulator_beside_the_rest_and_ctrl_c_stops_everything(environment: dict[str, str]):
    process = subprocess.Popen(
        [*REENTRY, "up"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines = wait_for_line(process, "Ctrl-C stops everything.", timeout=90)
        partners = f"http://127.0.0.1:{environment['REENTRY_PARTNERS_PORT']}"
        api = f"http://127.0.0.1:{environment['REENTRY_API_PORT']}"
        assert any(f"Partner simulator: {partners}" in line for line in lines)
        assert httpx.get(f"{partners}/healthz").status_code == 200
        assert httpx.get(f"{api}/healthz").status_code == 200
    finally:
        out = stop(process, timeout=60)
    assert process.returncode == 0, out
    assert out.rstrip().endswith("reentry has stopped.")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{partners}/healthz")


def test_the_partner_urls_default_to_the_simulator_and_each_can_be_set_apart():
    settings = Settings(partners_url="http://sim.internal:8100/", income_url="https://inkomen.gemeente.example/api")
    assert settings.partner_url("population_register") == "http://sim.internal:8100/haalcentraal/api/brp"
    assert settings.partner_url("notifications") == "http://sim.internal:8100/notificaties/api/v1"
    assert settings.partner_url("income") == "https://inkomen.gemeente.example/api"
    assert Settings(api_port=8001).api_url == "http://127.0.0.1:8001"
    local = Settings(partners_port=9100, partners_smtp_port=9025)
    assert local.partner_url("income") == "http://127.0.0.1:9100/income"
    assert local.smtp_address == ("127.0.0.1", 9025)
    assert Settings(smtp_host="smtp.gemeente.example").smtp_address == ("smtp.gemeente.example", 25)


async def test_the_worker_registers_the_partner_activities(env: WorkflowEnvironment, workflow_engine: Engine):
    async with partner_activities(Settings()) as activities:
        names = [a.__name__ for a in activities]
        assert len(names) == len(set(names)) == 11, "with probation's advice to the mayor"
        async with build_worker(env.client, f"partners-{uuid.uuid4()}", workflow_engine, activities):
            pass
