"""``ftthnoc throughput test [SCHOOL ...]``: run the schools' throughput tests now, outside the schedule.

The same tests ``serve`` runs during class hours (``throughput:`` of the configuration: iperf3 from each
school's probe point to the town's measurement server, download then upload), one school after another.
Each result is printed and, with a migrated inventory database, stored, so the school page and the KPI
show it at once. A failed test is a result too (its error is printed and stored); the command exits 1
when any test failed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from app.cli.common import database_option, engine_for, fail, pass_settings, resolve_url
from ftthnoc.config import load_config, validate_section
from ftthnoc.errors import FtthnocError
from ftthnoc.settings import Settings


@click.group("throughput")
def throughput() -> None:
    """School throughput tests (iperf3) against MEXT's recommended bandwidth."""


@throughput.command("test")
@click.argument("schools", nargs=-1)
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Configuration (YAML).")
@click.option("--no-store", is_flag=True, help="Print the results only; do not write them to the database.")
@database_option
@pass_settings
def test(settings: Settings, schools: tuple[str, ...], config_path: Path | None, no_store: bool,
         database_url: str | None) -> None:  # fmt: skip
    """Test SCHOOLs now (default: every school of the throughput section)."""
    from collectors.throughput import ThroughputConfig, ThroughputTester
    from ftthnoc.kpi import throughput as kpi_throughput

    path = config_path or settings.config
    if path is None:
        fail("throughput test needs --config FILE (or FTTHNOC_CONFIG)")
    try:
        raw = load_config(path).throughput
        if raw is None:
            fail(f"{path} has no throughput: section")
        config = validate_section("throughput", ThroughputConfig, raw)
    except FtthnocError as exc:
        fail(str(exc))
    names = list(schools) or sorted(config.schools)
    unknown = [s for s in names if s not in config.schools]
    if unknown:
        fail(f"not in the throughput section's schools: {', '.join(unknown)}")
    tester = ThroughputTester(config)
    results = []
    for school in names:
        for r in asyncio.run(tester.test_school(school)):
            results.append(r)
            figure = f"{r.bits_per_second / 1e6:.1f} Mbit/s" if r.ok and r.bits_per_second else f"failed: {r.error}"
            click.echo(f"{r.school}\t{r.direction}\t{figure}\t({r.streams} streams, {r.seconds:g} s, {r.server})")
    if not no_store:
        with engine_for(resolve_url(database_url)) as engine:
            kpi_throughput.record(engine, results)
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(1)
