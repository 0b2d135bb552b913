"""The ``ftthnoc`` command: one click group whose subcommands are imported only when they run.

Every failure a user can cause prints one line (``ftthnoc: ...``) and exits non-zero; tracebacks are
for bugs only. ``ftthnoc --help`` imports nothing but click: each subcommand's short help is written in
``COMMANDS`` below, so listing them does not load SQLAlchemy, pysnmp or the API (1.3 s of CPU before).
Adding a subcommand is one line here and one module in this package.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

# ftthnoc uses no pydantic plugin; without this, pydantic's first model scans every installed
# distribution's entry points for one (15 ms of every command's start-up). An operator's own setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

#: name → (module, attribute, short help shown by ``ftthnoc --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "poll": ("app.cli.poll", "poll", "Poll TARGET with MODULEs once and print the exposition."),
    "serve": ("app.cli.serve", "serve_cmd", "Run the scheduler, exporter, consumers (and the API)."),
    "demo": ("app.cli.demo", "demo", "Run everything against the simulated town of Kitahiroshima."),
    "inventory": ("app.cli.inventory", "inventory", "Migrate, import and export the inventory."),
    "incidents": ("app.cli.incidents", "incidents", "List and export outage incidents."),
    "telework": ("app.cli.telework", "telework", "The telework office-attendance KPI by day and month."),
    "enroll": ("app.cli.provisioning", "enroll", "Enrol households' ONUs and schools' tablets."),
    "audit": ("app.cli.provisioning", "audit", "Who changed what, when, with the device's answers."),
    "users": ("app.cli.users", "users", "API and web users, roles and tokens."),
    "throughput": ("app.cli.throughput", "throughput", "Run the schools' throughput tests (iperf3) now."),
}


class LazyGroup(click.Group):
    """click's documented lazy-loading pattern: a subcommand's module is imported when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        if ctx.resilient_parsing or "--help" in sys.argv[1:2]:
            # `ftthnoc --help` lists the commands: a stand-in with the short help, nothing imported
            return click.Command(cmd_name, help=spec[2], short_help=spec[2])
        module = importlib.import_module(spec[0])
        command: click.Command = getattr(module, spec[1])
        return command


@click.group(cls=LazyGroup)
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default from FTTHNOC_LOG_LEVEL, else INFO).")
@click.version_option(package_name="ftthnoc")
def main(log_level: str | None) -> None:
    """ftthnoc: network operations for a town's FTTH, BWA, telework VPN and school networks."""
    # The settings object is loaded by the commands that use it (``common.pass_settings``): pydantic-settings
    # alone costs 30 ms, a tenth of a one-shot poll. The log level is read here, from the same variable.
    configure_logging(log_level or os.environ.get("FTTHNOC_LOG_LEVEL") or "INFO")


#: libraries that log every SSH channel or session at INFO: an operator wants our lines, not theirs
QUIET_LOGGERS = ("alembic", "paramiko", "netmiko", "asyncssh", "uvicorn.access", "httpx")


def configure_logging(level: str) -> None:
    from ftthnoc import logredact

    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        logredact.install(handler)  # no household code reaches a log line, whoever logs it
    if logging.getLogger().level > logging.DEBUG:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def run(argv: list[str] | None = None) -> Any:
    """Entry point for ``python -m app`` and tests."""
    return main.main(args=argv)
