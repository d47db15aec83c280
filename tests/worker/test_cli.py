import subprocess
import sys
from pathlib import Path

import yaml

from domain.policy import DEFAULT_POLICY_PATH, parse_policy

REENTRY = [sys.executable, "-m", "worker.cli"]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*REENTRY, *args], capture_output=True, text=True, env=env, timeout=60)


def test_policy_show_prints_the_default_file_with_its_comments():
    shown = run("policy", "show")
    assert shown.returncode == 0
    assert shown.stdout == DEFAULT_POLICY_PATH.read_text()


def test_policy_show_prints_the_override(tmp_path: Path, monkeypatch):
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["version"] = "tilburg-2027.1"
    override = tmp_path / "policy.yaml"
    override.write_text(yaml.safe_dump(data))
    import os

    shown = run("policy", "show", env={**os.environ, "REENTRY_POLICY": str(override)})
    assert shown.returncode == 0
    assert parse_policy(shown.stdout).version == "tilburg-2027.1"


def test_policy_check_refuses_a_broken_file(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: x\ntasks: []\n")
    checked = run("policy", "check", str(broken))
    assert checked.returncode == 1
    assert "not a valid policy" in checked.stderr and "escalation" in checked.stderr
