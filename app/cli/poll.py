"""``ftthnoc poll --once``: one poll of one target, printed as the Prometheus text exposition."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.cli.common import fail, settings
from ftthnoc.config import Auth, Target, load_config
from ftthnoc.errors import FtthnocError

if TYPE_CHECKING:
    from collectors.snmp.poll import ModuleResult
    from collectors.snmp.recorded import RecordedAgent
    from collectors.snmp.transport import Device


@click.command()
@click.option("--once", is_flag=True, help="Poll one target once and print the Prometheus text exposition.")
@click.option("--module", "-m", "modules", multiple=True, required=True,
              help="Module name (repeat or comma-separate): if_mib, huawei_gpon, zte_gpon, ...")
@click.option("--target", "-t", default=None, help="HOST[:PORT] of the SNMP agent.")
@click.option("--walk", "walk_path", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="Answer from a recorded walk (.snmprec) instead of an agent: check a module against a "
                   "device's walk before pointing ftthnoc at the device.")
@click.option("--community", help="SNMPv2c community (instead of --auth).")
@click.option("--auth", "auth_name", help="Name of an auth in the configuration file (v2c or v3).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Configuration file with auths.")
@click.option("--timeout", type=float, default=2.0, show_default=True)
@click.option("--retries", type=int, default=1, show_default=True)
@click.option("--max-repetitions", type=int, default=25, show_default=True)
@click.option("--max-rows", type=click.IntRange(min=1), default=None,
              help="Bound on the varbinds of one walked subtree (default: the module's, 100,000).")
@click.option("--poll-timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Bound on the whole poll's seconds: an agent that answers without end cannot hold it longer.")
def poll(once: bool, modules: tuple[str, ...], target: str | None, walk_path: Path | None,
         community: str | None, auth_name: str | None, config_path: Path | None, timeout: float, retries: int,
         max_repetitions: int, max_rows: int | None, poll_timeout: float) -> None:
    """Poll TARGET with MODULEs once; ONU and PON-port samples carry district="unknown" (no inventory)."""
    from collectors.snmp.client import SnmpClient
    from collectors.snmp.decode import district_labeler
    from collectors.snmp.module import get_module
    from collectors.snmp.poll import poll_device, scrape_families
    from exporters.prometheus.text import render_text

    if not once:
        fail("poll runs once (--once); use 'ftthnoc serve' for continuous polling")
    if walk_path is not None:
        if target is not None or community or auth_name:
            fail("--walk answers from the file: give no --target, --community or --auth with it")
    elif target is None:
        fail("give --target HOST[:PORT] (or --walk FILE)")
    elif bool(community) == bool(auth_name):
        fail("give exactly one of --community or --auth")
    names = [m.strip() for item in modules for m in item.split(",") if m.strip()]
    try:
        mods = [get_module(n) for n in names]
    except KeyError as exc:
        fail(str(exc.args[0]))
    try:
        device, recordings = (_recorded(walk_path, max_repetitions, max_rows, poll_timeout) if walk_path is not None
                              else _agent(target or "", names, community, auth_name, config_path, timeout,
                                          retries, max_repetitions, max_rows, poll_timeout))
    except FtthnocError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(f"bad option: {str(exc).splitlines()[0]}")
    name = device.name

    results: list[ModuleResult] = []

    async def run() -> None:
        # The results leave through the list, not as the task's result: on Python 3.11 asyncio.run's
        # SIGINT handling formats repr() of its finished main task, result included (0.17 s of CPU for a
        # 7,000-ONU OLT's families).
        client = SnmpClient(recordings)
        try:
            results.extend(await poll_device(client, device, mods, district_labeler({}, {})))
        finally:
            client.close()

    logging.getLogger("collectors.snmp.poll").setLevel(logging.ERROR)  # the one line below says it
    gc.disable()  # a one-shot process: the collector's scans of 30,000 live objects would be a fifth of its CPU
    asyncio.run(run())
    failed = [r for r in results if not r.success]
    if failed:
        fail("; ".join(f"{name}: {r.error} (module {r.module})" for r in failed))
    families = [f for r in results for f in r.families] + scrape_families(name, results)
    sys.stdout.buffer.write(render_text(families))
    sys.stdout.flush()




def _agent(target: str, names: list[str], community: str | None, auth_name: str | None,
           config_path: Path | None, timeout: float, retries: int, max_repetitions: int, max_rows: int | None,
           poll_timeout: float) -> tuple[Device, dict[tuple[str, int], RecordedAgent]]:
    """The agent at ``target``, with the community given or the auth named in the configuration."""
    from collectors.snmp.transport import Device

    if auth_name:
        cfg = load_config(config_path or settings().config or fail("--auth needs --config FILE"))
        if auth_name not in cfg.auths:
            fail(f"auth {auth_name!r} is not defined in {config_path}")
        auth = cfg.auths[auth_name]
    else:
        auth = Auth.model_validate({"version": 2, "community": community})
    tgt = Target(name=target, address=target, modules=names, auth="cli", timeout=timeout, retries=retries,
                 max_repetitions=max_repetitions, max_rows=max_rows, poll_timeout=poll_timeout)
    return Device.from_target(tgt, auth), {}


def _recorded(path: Path, max_repetitions: int, max_rows: int | None,
              poll_timeout: float) -> tuple[Device, dict[tuple[str, int], RecordedAgent]]:
    """A device answered from a recorded walk; its name is the file's stem."""
    from collectors.snmp.recorded import RecordedAgent
    from collectors.snmp.transport import Device

    device = Device(path.stem, f"walk:{path}", 0, Auth(), max_repetitions=max_repetitions, max_rows=max_rows,
                    poll_timeout=poll_timeout)
    return device, {device.key: RecordedAgent.from_snmprec(path)}
