"""``ftthnoc serve``: the scheduler, exporter, consumers and (with ``--api``) the API of one deployment."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.common import fail, pass_settings
from app.wiring import run_service
from ftthnoc.config import load_config
from ftthnoc.errors import FtthnocError
from ftthnoc.settings import Settings
from ftthnoc.shard import Shard


@click.command(name="serve")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Poller configuration (YAML).")
@click.option("--cycles", type=int, default=None, help="Stop after this many polls of each target.")
@click.option("--api", "api_listen", default=None, metavar="HOST:PORT",
              help="Also serve the API and web pages there (needs the inventory database).")
@click.option("--shard", "shard_text", default=None, metavar="I/N",
              help="Poll only shard I (0 to N-1) of the configuration's SNMP targets, split as Prometheus' "
                   "hashmod of the target address splits them (one poller per shard in a prefecture).")
@pass_settings
def serve_cmd(settings: Settings, config_path: Path | None, cycles: int | None, api_listen: str | None,
              shard_text: str | None) -> None:
    """Run what the configuration asks for: polls, probes, traps, consumers (and the API with --api)."""
    path = config_path or settings.config
    if path is None:
        fail("serve needs --config FILE (or FTTHNOC_CONFIG)")
    try:
        config = load_config(path)
        shard = Shard.parse(shard_text) if shard_text is not None else None
        if shard is not None:
            mine = shard.select(config.targets, lambda t: t.address)
            click.echo(f"ftthnoc: shard {shard}: polling {len(mine)} of the {len(config.targets)} SNMP targets")
        run_service(config, settings, cycles, shard=shard,
                    on_ready=lambda url: click.echo(f"ftthnoc: serving {url}/metrics"), api_listen=api_listen,
                    on_api=lambda url: click.echo(f"ftthnoc: API and web pages on {url}"))
    except FtthnocError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {settings.listen_host}:{settings.listen_port}: {exc.strerror or exc}")
