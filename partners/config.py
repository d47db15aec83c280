"""What the partner simulator does: how each partner behaves, and which faults it injects.

One YAML file (``REENTRY_PARTNERS_CONFIG``, or ``reentry partners --config``), then single
values from the environment: ``REENTRY_SIM_<SECTION>__<FIELD>``, e.g.
``REENTRY_SIM_FAULTS__INCOME__ERROR_RATE=0.2`` or ``REENTRY_SIM_SEED=7``. The faults can
be changed while the simulator runs (``PUT /_sim/faults``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

ENV_PREFIX = "REENTRY_SIM_"

Share = Annotated[float, Field(ge=0, le=1)]
Seconds = Annotated[float, Field(ge=0)]


class Partner(StrEnum):
    """The partner systems the simulator stands in for."""

    MESSAGE_BOX = "message_box"  # re-integration message box of the justice information exchange
    POPULATION_REGISTER = "population_register"  # BRP, Haal Centraal "BRP Personen Bevragen"
    INCOME = "income"  # the municipality's income system (benefit applications)
    CIVIL_AFFAIRS = "civil_affairs"  # ID documents: appointments and readiness
    PROBATION = "probation"  # 3RO: advice and supervision
    NOTIFICATIONS = "notifications"  # Open Notificaties: webhooks out


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Latency(_Config):
    """Added before the partner answers: always ``fixed`` seconds, plus ``spike`` seconds
    for a share ``spike_share`` of requests."""

    fixed: Seconds = 0
    spike: Seconds = 0
    spike_share: Share = 0


class OutageMode(StrEnum):
    UNAVAILABLE = "unavailable"  # answers 503 with Retry-After: the end of the outage
    BLACKHOLE = "blackhole"  # does not answer until `hang` seconds have passed, then 504


class Outage(_Config):
    """A window in simulated time during which the partner is down."""

    start: AwareDatetime
    end: AwareDatetime
    mode: OutageMode = OutageMode.UNAVAILABLE

    @model_validator(mode="after")
    def _in_order(self) -> Outage:
        if self.end <= self.start:
            raise ValueError("an outage ends after it starts")
        return self


class Faults(_Config):
    """Faults of one partner. Every share is a probability per request, drawn from a
    random generator seeded per partner: the same seed and requests give the same faults."""

    latency: Latency = Latency()
    error_rate: Share = Field(default=0, description="share answered 500, 502 or 503; nothing is changed")
    timeout_rate: Share = Field(
        default=0, description="share answered only after `hang` seconds: the request took effect"
    )
    hang: Seconds = Field(default=60, description="seconds a hanging request waits before it answers")
    malformed_rate: Share = Field(
        default=0, description="share answered 200 with a cut-off body or the wrong shape: the request took effect"
    )
    outages: list[Outage] = []
    malformed_messages: Share = Field(
        default=0, description="message box: share of messages posted whose content cannot be read"
    )


class FaultPlan(_Config):
    """Faults for every partner (``all``), and per partner: the fields given for a partner
    replace those of ``all``."""

    all: Faults = Faults()
    message_box: Faults | None = None
    population_register: Faults | None = None
    income: Faults | None = None
    civil_affairs: Faults | None = None
    probation: Faults | None = None
    notifications: Faults | None = None

    def for_partner(self, partner: Partner) -> Faults:
        own: Faults | None = getattr(self, partner.value)
        if own is None:
            return self.all
        return Faults.model_validate({**self.all.model_dump(), **own.model_dump(exclude_unset=True)})


class MessageBoxBehaviour(_Config):
    max_wait: Seconds = Field(default=30, description="longest long poll, in seconds")
    max_page: int = Field(default=200, ge=1)


class IncomeBehaviour(_Config):
    in_review_after: timedelta = timedelta(days=2)
    # Scenario 1: decided six weeks after the application; the legal maximum is eight.
    decision_after: timedelta = timedelta(weeks=6)
    refused_share: Share = 0.1


class CivilAffairsBehaviour(_Config):
    first_slot_after: timedelta = timedelta(days=2)
    # A valid ID document takes about a week, photos included.
    document_ready_after: timedelta = timedelta(weeks=1)


class ProbationBehaviour(_Config):
    advice_after: timedelta = timedelta(weeks=3)
    # Probation's advice to the mayor on a BIJ notice: within a week of being asked.
    mayoral_advice_after: timedelta = timedelta(days=5)


class SimulatorConfig(_Config):
    seed: int = 2027
    faults: FaultPlan = FaultPlan()
    message_box: MessageBoxBehaviour = MessageBoxBehaviour()
    income: IncomeBehaviour = IncomeBehaviour()
    civil_affairs: CivilAffairsBehaviour = CivilAffairsBehaviour()
    probation: ProbationBehaviour = ProbationBehaviour()


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``REENTRY_SIM_A__B=v`` as ``{"a": {"b": v}}``; values are read as YAML scalars."""
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        *parents, leaf = name[len(ENV_PREFIX) :].lower().split("__")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return tree


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_simulator_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> SimulatorConfig:
    """The configuration from a YAML file (optional), with ``REENTRY_SIM_*`` on top."""
    data: dict[str, Any] = {}
    if path is not None:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping at the top")
    data = _merge(data, _env_overrides(os.environ if environ is None else environ))
    return SimulatorConfig.model_validate(data)
