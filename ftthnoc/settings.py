"""Process-wide settings from the environment (``FTTHNOC_*``), read once at the edge and passed in."""

from __future__ import annotations

from pathlib import Path

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


def load_settings() -> Settings:
    return Settings()
