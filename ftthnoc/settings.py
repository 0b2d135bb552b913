"""Process-wide settings from the environment (``FTTHNOC_*``), read once at the edge and passed in."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FTTHNOC_", extra="ignore")

    #: SQLAlchemy URL; the default is a SQLite file that needs no set-up.
    database_url: str = "sqlite:///var/ftthnoc.db"
    #: YAML file with auths, targets, thresholds (see ``ftthnoc.config``).
    config: Path | None = None
    #: Where the exporter listens.
    listen_host: str = "127.0.0.1"
    listen_port: int = 9469
    #: Working files: the simulated town's agent data, spools, caches.
    data_dir: Path = Path("var")
    log_level: str = "INFO"
    #: InfluxDB v2 write API (``http://influx:8086``, or VictoriaMetrics' ``http://vm:8428``); unset: no writer.
    influx_url: str | None = None
    influx_org: str = "ftthnoc"
    influx_bucket: str = "ftthnoc"
    #: API token (VictoriaMetrics ignores it); from the environment only, never printed.
    influx_token: SecretStr = SecretStr("")
    #: Batches the server could not take yet, replayed in order when it answers (also after a restart).
    influx_spool_dir: Path = Path("var/influx-spool")
    #: Bound of the spool on disk; past it the oldest batches are dropped (and counted).
    influx_spool_max_bytes: int = 256 * 1024 * 1024
    influx_batch_size: int = 5000
    #: Seconds a partial batch waits for more points before it is sent.
    influx_flush_interval: float = 1.0

    #: Keys the hashes that stand for VPN users in the telework KPI's store (``ftthnoc.telework.sources.user_key``);
    #: from the environment only, never printed. Unset: one is generated once and kept in
    #: ``data_dir/telework-user-key`` (mode 0600), so that a restart does not count a user twice in a day.
    telework_user_key: SecretStr | None = None

    # ---- the API and its web pages (``api``) ----------------------------------------------------------
    #: Keys the web sessions' CSRF tokens and the login form's nonce; from the environment only, never
    #: printed. Unset: one is generated once and kept in ``data_dir`` (``api.security.persistent_secret``).
    api_secret: SecretStr | None = None
    #: Always mark the session cookies Secure (behind a TLS-terminating proxy; https requests get it anyway).
    api_secure_cookies: bool = False
    #: Lifetime of a web session (``POST /api/login``, the login page).
    api_session_lifetime_seconds: float = 12 * 3600
    #: Failed logins allowed per client address and per user name within the window, then 429.
    api_login_max_failures: int = 5
    api_login_window_seconds: float = 300.0
    #: How long the town's KPI figures are reused before being computed again.
    api_kpi_cache_seconds: float = 30.0
    #: Reverse proxies whose ``X-Forwarded-For``/``-Proto`` are believed (IPs or CIDRs, comma-separated;
    #: ``*`` for any). Empty (the default): the headers are ignored and the peer address is the client's.
    api_trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    #: Grafana's address, linked from the web pages for operators and admins.
    grafana_url: str = "http://localhost:3000"
    #: A Prometheus HTTP API (Prometheus, or VictoriaMetrics' ``http://vm:8428``) the household page reads an
    #: ONU's last week from (light level, flaps: ``ftthnoc.linehistory.PrometheusHistory``). Unset: the
    #: history the process keeps from its own polls (``PollHistory``), which only ``serve --api`` has.
    prometheus_url: str | None = None
    #: Seconds the page waits for it before saying the history cannot be read.
    prometheus_timeout_seconds: float = 5.0

    @field_validator("api_trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for entry in value:
            if entry != "*":
                ipaddress.ip_network(entry, strict=False)  # ValueError: not an address or network
        return tuple(value)


def load_settings() -> Settings:
    return Settings()
