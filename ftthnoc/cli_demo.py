"""``ftthnoc demo``: the whole system against the simulated town, before anyone touches a real OLT.

Starts one snmpsim agent per OLT of the generated town on loopback, loads the town into the
inventory (a SQLite file under the data directory unless ``FTTHNOC_DATABASE_URL`` says otherwise),
and runs the poller and exporter on it until Ctrl-C.
"""

from __future__ import annotations

import os
import sys

import click

from ftthnoc.cli import fail, labeler_from_inventory, run_service
from ftthnoc.config import Config
from ftthnoc.errors import FtthnocError
from ftthnoc.settings import Settings


@click.command()
@click.option("--onus", type=int, default=7000, show_default=True, help="ONUs in the simulated town.")
@click.option("--interval", type=float, default=60.0, show_default=True, help="Seconds between polls.")
@click.option("--listen", default=None, help="HOST:PORT for the exporter (default FTTHNOC_LISTEN_* or "
              "127.0.0.1:9469; port 0 picks a free one).")
@click.option("--cycles", type=int, default=None, help="Stop after this many polls of each OLT.")
@click.pass_obj
def demo(settings: Settings, onus: int, interval: float, listen: str | None, cycles: int | None) -> None:
    """Run the poller and exporter against the simulated town of Kitahiroshima."""
    from ftthnoc.inventory import db, io
    from ftthnoc.sim.agents import TownAgents
    from ftthnoc.sim.town import generate_town

    if listen:
        host, _, port = listen.rpartition(":")
        settings = settings.model_copy(update={"listen_host": host or "127.0.0.1", "listen_port": int(port)})
    data = settings.data_dir / "demo"
    if "FTTHNOC_DATABASE_URL" in os.environ:
        url = settings.database_url
    else:  # the demo's own inventory, made afresh each run so a different --onus never clashes
        (data / "ftthnoc.db").unlink(missing_ok=True)
        url = f"sqlite:///{data}/ftthnoc.db"
    town = generate_town(onus=onus)
    click.echo(f"ftthnoc demo: starting {len(town.olts)} simulated OLTs with {onus} ONUs ...", err=True)
    try:
        with TownAgents(town, workdir=data / "agents", cache_dir=data / "cache") as agents:
            db.upgrade(url)
            engine = db.make_engine(url)
            with db.session_scope(engine, actor="demo") as session:
                io.import_document(session, agents.inventory_document())
            engine.dispose()
            config = Config.model_validate(agents.poller_config(interval_seconds=interval))

            def ready(base: str) -> None:
                click.echo(
                    "ftthnoc demo is running:\n"
                    f"  metrics      {base}/metrics\n"
                    f"  one target   {base}/snmp?target={config.targets[0].address}&module=huawei_gpon"
                    "&auth=public_v2\n"
                    f"  landing page {base}/\n"
                    f"  inventory    {url}\n"
                    "Press Ctrl-C to stop."
                )
                sys.stdout.flush()

            run_service(config, settings, cycles, on_ready=ready, labeler=labeler_from_inventory(url),
                        database_url=url)
    except FtthnocError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {settings.listen_host}:{settings.listen_port}: {exc.strerror}")
