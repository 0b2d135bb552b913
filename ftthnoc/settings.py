"""Process-wide settings from the environment (``FTTHNOC_*``), read once at the edge and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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


def load_settings() -> Settings:
    return Settings()
