import base64
import os
import subprocess
import sys
from pathlib import Path

import yaml

from core.codec import new_key_line
from core.settings import Settings
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


def test_policy_check_warns_of_a_prerequisite_due_after_what_needs_it(tmp_path: Path):
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    next(t for t in data["tasks"] if t["key"] == "id_document")["offset"] = "-P4W"
    late = tmp_path / "late.yaml"
    late.write_text(yaml.safe_dump(data))
    checked = run("policy", "check", str(late))
    assert checked.returncode == 0, checked.stderr
    assert (
        "warning: id_document is due 4 weeks before the release, but benefit_application needs it done 57 days"
        " before the release" in checked.stdout
    )
    assert "warning" not in run("policy", "check", str(DEFAULT_POLICY_PATH)).stdout


def test_policy_check_refuses_a_broken_file(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: x\ntasks: []\n")
    checked = run("policy", "check", str(broken))
    assert checked.returncode == 1
    assert "not a valid policy" in checked.stderr and "escalation" in checked.stderr


def renamed_contact_task(tmp_path: Path) -> Path:
    """A municipality's override that renamed the first contact's task and nothing else."""
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["tasks"][0]["key"] = "contact_pi"
    data["tasks"][3]["prerequisites"] = ["contact_pi"]
    override = tmp_path / "policy.yaml"
    override.write_text(yaml.safe_dump(data, allow_unicode=True))
    return override


def test_policy_check_names_the_task_the_case_relies_on(tmp_path: Path):
    checked = run("policy", "check", str(renamed_contact_task(tmp_path)))
    assert checked.returncode == 1
    assert checked.stderr.splitlines() == [
        f"{tmp_path / 'policy.yaml'}: not a valid policy",
        "  the policy has no task 'contact_prison', which marks the first contact with the prison"
        " (phase tracking: done, the case moves to planning):"
        " rename it back, or name the task that does under roles: first_contact",
    ]


def test_a_broken_override_stops_the_worker_before_it_starts(tmp_path: Path):
    env = clean_env(tmp_path, REENTRY_POLICY=str(renamed_contact_task(tmp_path)))
    worker = subprocess.run([*REENTRY, "worker"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert worker.returncode == 1
    assert "not a valid policy" in worker.stderr and "no task 'contact_prison'" in worker.stderr
    assert "Traceback" not in worker.stderr


def clean_env(tmp_path: Path, **settings: str) -> dict:
    """This environment without REENTRY_ settings, the data directory in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENTRY_")}
    return {**env, "REENTRY_DATA_DIR": str(tmp_path / ".data"), **settings}


def test_codec_new_key_prints_an_entry_the_settings_accept():
    printed = run("codec", "new-key", "--id", "2027-01")
    assert printed.returncode == 0, printed.stderr
    line = printed.stdout.strip()
    assert line.startswith("2027-01:")
    assert Settings(codec_keys=line).keyring().ids == ["2027-01"]
    assert run("codec", "new-key").stdout != run("codec", "new-key").stdout


def test_codec_check_names_the_keys_and_the_current_one(tmp_path: Path):
    a, b = new_key_line("2026-a"), new_key_line("2027-b")
    env = clean_env(tmp_path, REENTRY_CODEC_KEYS=f"{a},{b}", REENTRY_CODEC_CURRENT_KEY="2027-b")
    checked = subprocess.run([*REENTRY, "codec", "check"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "keys 2026-a, 2027-b; new payloads are encrypted with 2027-b" in checked.stdout
    assert a.split(":")[1] not in checked.stdout + checked.stderr


def test_a_worker_without_keys_does_not_start(tmp_path: Path):
    worker = subprocess.run([*REENTRY, "worker"], capture_output=True, text=True, env=clean_env(tmp_path), cwd=tmp_path)
    assert worker.returncode == 1
    assert "no payload encryption keys: set REENTRY_CODEC_KEYS or REENTRY_CODEC_KEY_FILE" in worker.stderr
    assert "Traceback" not in worker.stderr


def test_a_placeholder_key_stops_the_api_before_it_starts(tmp_path: Path):
    placeholder = "prod:" + base64.b64encode(b"CHANGE-ME-CHANGE-ME-CHANGE-ME-!!").decode()
    env = clean_env(tmp_path, REENTRY_CODEC_KEYS=placeholder)
    api = subprocess.run([*REENTRY, "api"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert api.returncode == 1
    assert "key 'prod' is text (a placeholder or a password), not a random key" in api.stderr
    assert placeholder.split(":")[1] not in api.stderr and "Traceback" not in api.stderr


def test_an_api_without_a_signing_key_or_jwks_says_so_in_one_line(tmp_path: Path, dev_env):
    env = clean_env(
        tmp_path,
        REENTRY_CODEC_KEYS=new_key_line("2027-a"),
        REENTRY_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
    )
    api = subprocess.run([*REENTRY, "api"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert api.returncode == 1
    assert "no identity provider is configured (REENTRY_AUTH_JWKS_URL)" in api.stderr
    assert "Traceback" not in api.stderr


def test_what_the_stack_creates_is_readable_by_its_owner_only(tmp_path: Path):
    created = subprocess.run([*REENTRY, "db", "upgrade"], capture_output=True, text=True, env=clean_env(tmp_path))
    assert created.returncode == 0, created.stderr
    database = tmp_path / ".data" / "reentry.db"
    assert database.stat().st_mode & 0o777 == 0o600
