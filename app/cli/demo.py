"""``ftthnoc demo``: the whole system against the simulated town, before anyone touches a real OLT.

Starts an snmpsim agent for every SNMP device of the generated town on loopback (a process per OLT; the
BWA stations, the VPN gateway and the school routers share two, ``simulator.agents``), loads the town into
the inventory (a SQLite file under the data directory unless ``FTTHNOC_DATABASE_URL`` says otherwise),
and runs the poller and exporter on it until Ctrl-C. Every OLT and school router also answers SSH
(``simulator.cli.town``); the demo writes its configuration to ``DATA/demo/config.yaml`` and prints the
``ftthnoc enroll household`` command that enrols one of the town's installed households: its ONU shows
in the next poll and the household turns active. Every school's router answers SNMP as well, so its
uplink's measured peak stands against MEXT's recommended bandwidth on the KPI pages.

Run as root (or with CAP_NET_RAW), the demo probes too — but **only loopback**, where every agent of
the simulated town lives: the "telework VPN gateway" is 127.0.0.1 with the exporter's own HTTP port as
its service port, and one school of the town is 127.0.0.1 as well; the town's online services are an
HTTPS portal and a DNS server the demo runs on 127.0.0.1 (``simulator.services``). No ARP (a tablet subnet
is a real link). The demo never sends a probe packet anywhere else: :func:`demo_probes` builds the section from
constants and :func:`loopback_only` refuses anything that is not 127.0.0.1 before the prober exists.

With ``iperf3`` installed, the demo also runs the schools' throughput tests (the MEXT verdict's input)
against an ``iperf3 -s`` of its own on 127.0.0.1, each school's line emulated with iperf3's pacing
(:func:`demo_throughput`): the first school's line carries 130 % of its MEXT figure, the second's 60 %, so the
school pages show one "meets" and one "not met" with its gap. Loopback only, as the probes.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
import yaml

from app.cli.common import pass_settings
from ftthnoc.config import Config
from ftthnoc.errors import ConfigError, FtthnocError
from ftthnoc.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ftthnoc.linehistory import PollHistory
    from simulator.model import Town
    from simulator.services import TownServices

#: the only address the demo probes
LOOPBACK = "127.0.0.1"
GATEWAY_NAME = "telework-vpn (simulated)"
PROBE_CYCLE_SECONDS = 15.0
PROBE_PACKETS = 5
#: the demo's emulated school lines, as shares of each school's MEXT figure (first school, second school)
THROUGHPUT_LINES = (1.3, 0.6)


def demo_throughput(schools: list[tuple[str, float]], port: int) -> dict[str, Any]:
    """The demo's ``throughput:`` section: the schools (code, MEXT Mbps) tested against 127.0.0.1:``port``
    at any hour, every 30 minutes, each line emulated at its share of ``THROUGHPUT_LINES``."""
    return {
        "server": f"{LOOPBACK}:{port}", "streams": 4, "seconds": 3, "omit_seconds": 1, "start_delay_seconds": 20,
        "schedule": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "23:59:59",
                     "every_minutes": 30},
        "schools": {code: {"bitrate_mbps": round(mbps * share, 1)}
                    for (code, mbps), share in zip(schools, THROUGHPUT_LINES, strict=False)},
    }  # fmt: skip


def start_iperf3_server(stack: ExitStack) -> int | None:
    """``iperf3 -s`` on 127.0.0.1 for the demo's throughput tests (stopped with ``stack``); its port, or None
    without iperf3."""
    if shutil.which("iperf3") is None:
        return None
    port = free_port(LOOPBACK)
    proc = subprocess.Popen(["iperf3", "--server", "--bind", LOOPBACK, "--port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    stack.callback(stop)
    return port


def raw_socket_refusal() -> str | None:
    """Why raw ICMP sockets cannot be opened here, or None when they can (root or CAP_NET_RAW)."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def free_port(host: str) -> int:
    """A TCP port free on ``host`` now (the exporter binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


#: Where the demo serves the API and web pages unless told otherwise (``--api-listen``).
DEFAULT_API_LISTEN = "127.0.0.1:8080"


def port_is_free(host: str, port: int) -> bool:
    """Whether a TCP listener could bind ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def choose_api_listen(requested: str | None, default: str = DEFAULT_API_LISTEN) -> tuple[str, str | None]:
    """Where the API and web pages listen: ``(HOST:PORT, a warning or None)``.

    Asked for an address (``--api-listen``), that one, or a ``ConfigError`` that says it is taken (port 0
    picks a free one). Not asked, the fixed default (127.0.0.1:8080) so that the pages' address is the same
    every run; when something else holds that port, a free port on the same host, with a warning that
    says so.
    """
    from ftthnoc.config import split_host_port

    if requested is not None:
        host, port = split_host_port(requested, 8080)
        if port != 0 and not port_is_free(host, port):
            raise ConfigError(f"cannot serve the web pages on {host}:{port}: the port is taken or not ours to "
                              "bind; choose another with --api-listen HOST:PORT (port 0 picks a free one)")
        return f"{host}:{port}", None
    host, port = split_host_port(default, 8080)
    if port == 0 or port_is_free(host, port):
        return default, None
    fallback = f"{host}:{free_port(host)}"
    return fallback, (f"{host}:{port} is taken (another program listens there): serving the web pages on "
                      f"{fallback} instead; pass --api-listen HOST:PORT to choose")


def reachable_on_loopback(host: str) -> bool:
    """Whether a listener on ``host`` answers on 127.0.0.1 (loopback itself or the wildcard address)."""
    if host in ("", "0.0.0.0", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demo_probes(school_code: str, school_district: str, exporter_port: int | None,
                services: TownServices | None = None) -> dict[str, Any]:
    """The demo's ``probes:`` section: a gateway and a school, both 127.0.0.1, and the simulated town
    services (an HTTPS portal, a DNS server) on 127.0.0.1 when given; no ARP."""
    gateway: dict[str, Any] = {"name": GATEWAY_NAME, "address": LOOPBACK}
    if exporter_port is not None:
        gateway["ports"] = [exporter_port]
    checks: dict[str, Any] = {}
    if services is not None:
        from simulator.services import NAME

        checks = {
            "http": {"timeout_seconds": 5.0, "targets": [
                {"name": "e-application (simulated)", "url": services.url, "ca_file": str(services.ca_file),
                 "body_regex": "電子申請"}]},
            "dns": {"timeout_seconds": 2.0, "targets": [
                {"name": "town-dns (simulated)", "server": LOOPBACK, "port": services.dns_port,
                 "query_name": NAME, "expected_addresses": [LOOPBACK]}]},
        }
    return {
        "cycle_seconds": PROBE_CYCLE_SECONDS,
        "targets": {
            "gateway": [gateway],
            "school": [{"name": school_code, "address": LOOPBACK, "district": school_district}],
        },
        "icmp": {"packets": PROBE_PACKETS, "timeout_seconds": 1.0},
        "tcp": {"timeout_seconds": 1.0, "attempts": 2},
        "arp": {"subnets": [], "tablets": []},
        **checks,
    }


def loopback_only(probes: dict[str, Any]) -> None:
    """Refuse a demo probe section that would send a packet anywhere but 127.0.0.1."""
    for kind, targets in (probes.get("targets") or {}).items():
        for t in targets:
            if str(t.get("address")) != LOOPBACK:
                raise ConfigError(f"demo probe target {kind}/{t.get('name')} is not {LOOPBACK}: refused")
    arp = probes.get("arp") or {}
    if arp.get("subnets"):
        raise ConfigError("the demo sweeps no tablet subnet: refused")
    if probes.get("from_inventory"):  # inventory targets have addresses of their own
        raise ConfigError("the demo takes no probe target from the inventory: refused")
    for t in (probes.get("http") or {}).get("targets") or []:
        if urlsplit(str(t.get("url"))).hostname != LOOPBACK:
            raise ConfigError(f"demo http target {t.get('name')} is not on {LOOPBACK}: refused")
    for t in (probes.get("dns") or {}).get("targets") or []:
        if str(t.get("server")) != LOOPBACK:
            raise ConfigError(f"demo dns target {t.get('name')} is not {LOOPBACK}: refused")


@click.command()
@click.option("--onus", type=int, default=7000, show_default=True, help="ONUs in the simulated town.")
@click.option("--interval", type=float, default=60.0, show_default=True, help="Seconds between polls.")
@click.option("--listen", default=None, help="HOST:PORT for the exporter (default FTTHNOC_LISTEN_* or "
              "127.0.0.1:9469; port 0 picks a free one).")
@click.option("--cycles", type=int, default=None, help="Stop after this many polls of each OLT.")
@click.option("--api-listen", default=None,
              help=f"HOST:PORT of the API and web pages (default {DEFAULT_API_LISTEN}, or a free port when that "
              "one is taken; port 0 picks a free one).")
@pass_settings
def demo(settings: Settings, onus: int, interval: float, listen: str | None, cycles: int | None,
         api_listen: str | None) -> None:
    """Run the poller and exporter against the simulated town of Kitahiroshima."""
    from app.cli.common import fail
    from app.wiring import run_service
    from simulator.agents import TownAgents
    from simulator.cli.town import TownCli, provisioning_section
    from simulator.town import generate_town

    if listen:
        host, _, port = listen.rpartition(":")
        settings = settings.model_copy(update={"listen_host": host or "127.0.0.1", "listen_port": int(port)})
    try:
        api_address, api_warning = choose_api_listen(api_listen)
    except ConfigError as exc:
        fail(str(exc))
    if api_warning:
        click.echo(f"ftthnoc demo: {api_warning}", err=True)
    data = settings.data_dir / "demo"
    if "FTTHNOC_DATABASE_URL" in os.environ:
        url = settings.database_url
    else:  # the demo's own inventory, made afresh each run so a different --onus never clashes
        (data / "ftthnoc.db").unlink(missing_ok=True)
        url = f"sqlite:///{data}/ftthnoc.db"
    town = generate_town(onus=onus, school_routers=True)  # their uplinks feed the MEXT bandwidth KPI

    refusal = raw_socket_refusal()
    probes: dict[str, Any] | None = None
    services: TownServices | None = None
    if refusal is not None:
        click.echo(f"ftthnoc demo: no probes: raw sockets are not permitted here ({refusal}); run as root "
                   "or with CAP_NET_RAW to probe loopback", err=True)
    elif not town.schools:
        click.echo("ftthnoc demo: no probes: the simulated town has no school", err=True)
    else:
        exporter_port: int | None = None
        if reachable_on_loopback(settings.listen_host):
            if settings.listen_port == 0:  # the gateway's service port must be known before the config
                try:
                    port_now = free_port(settings.listen_host or "0.0.0.0")
                except OSError as exc:
                    fail(f"cannot listen on {settings.listen_host}:0: {exc.strerror}")
                settings = settings.model_copy(update={"listen_port": port_now})
            exporter_port = settings.listen_port
        from simulator.services import TownServices

        school = town.schools[0]
        services = TownServices(data / "services")  # bound now, served from the `with` below
        probes = demo_probes(school.code, school.district, exporter_port, services)
        loopback_only(probes)

    click.echo(f"ftthnoc demo: starting {len(town.olts)} simulated OLTs with {onus} ONUs, "
               f"{len(town.bwa_stations)} BWA base stations, {len(town.vpn_gateways)} VPN gateway(s) and "
               f"{len(town.school_routers)} school routers ...", err=True)
    try:
        with ExitStack() as servers, TownAgents(town, workdir=data / "agents", cache_dir=data / "cache") as agents, \
                TownCli(agents) as cli:
            from ftthnoc.kpi.figures import mext_mbps

            if services is not None:  # the town's online services, for the http and dns probes
                servers.enter_context(services)

            # started before the agents answer, so it listens long before the first test
            iperf3_port = start_iperf3_server(servers) if town.schools else None
            throughput = None if iperf3_port is None else demo_throughput(
                [(sc.code, mext_mbps(sc.pupils)) for sc in town.schools[:len(THROUGHPUT_LINES)]], iperf3_port)
            click.echo(f"ftthnoc demo: {len(agents.agents)} SNMP agents in {len(agents.processes)} processes "
                       f"answered in {agents.startup_seconds or 0:.1f} s", err=True)
            engine = load_demo_inventory(url, cli.town().inventory_document())
            from api.service import add_demo_users  # the command line wires the packages together

            logins = add_demo_users(engine, town.schools[0].code if town.schools else None)
            engine.dispose()
            doc = agents.poller_config(interval_seconds=interval)
            if probes is not None:
                doc["probes"] = probes
            if throughput is not None:
                doc["throughput"] = throughput
            if town.vpn_gateways:  # the town office's telework figure, from its gateway's sessions
                doc["telework"] = {"staff": town.staff}
            doc["provisioning"] = provisioning_section()
            config = Config.model_validate(doc)
            config_file = write_demo_config(doc, data / "config.yaml")
            enrol_hint = _enrol_hint(cli.installs, config_file, url)

            def ready(base: str) -> None:
                lines = [
                    "ftthnoc demo is running:",
                    f"  metrics      {base}/metrics",
                    f"  one target   {base}/snmp?target={config.targets[0].address}&module=huawei_gpon"
                    "&auth=public_v2",
                    f"  landing page {base}/",
                    f"  inventory    {url}",
                    f"  SSH devices  {len(cli.olt_states)} OLTs and {len(cli.router_states)} school routers "
                    f"(login {CLI_USER_HINT})",
                ]
                if enrol_hint:
                    lines.append(f"  enrol a home {enrol_hint}")
                if api_url:
                    who = ", ".join(f"{n} / {p}" for n, _r, p in logins)
                    lines.append(f"  web pages    {api_url[0]}/login  ({who}); API {api_url[0]}/docs")
                if probes is not None:
                    lines.append(f"  probes       {LOOPBACK} only, every {PROBE_CYCLE_SECONDS:g} s: "
                                 + ", ".join([*(_describe(kind, t) for kind, ts in probes["targets"].items()
                                                for t in ts),
                                              *(f"{check} {t['name']}" for check in ("http", "dns")
                                                for t in (probes.get(check) or {}).get("targets", []))]))
                if throughput is not None:
                    lines.append(f"  throughput   iperf3 on {LOOPBACK} only, every 30 min: "
                                 + ", ".join(f"{code} (line {p['bitrate_mbps']:g} Mbit/s)"
                                             for code, p in throughput["schools"].items()))
                else:
                    lines.append("  throughput   none: iperf3 is not installed (Debian package iperf3)")
                lines.append("Press Ctrl-C to stop.")
                click.echo("\n".join(lines))
                sys.stdout.flush()

            api_url: list[str] = []
            seed_lines = demo_line_seed(cli.town())
            try:
                run_service(config, settings, cycles, on_ready=ready,
                            database_url=url, api_listen=api_address, on_api=api_url.append, line_seed=seed_lines)
            except OSError as exc:
                # The default port was free when asked and taken when bound (another demo or test started
                # between the two): the API starts before anything else, so start again on a free port.
                if exc.errno != errno.EADDRINUSE or api_listen is not None or api_url:
                    raise
                host = api_address.rsplit(":", 1)[0]
                click.echo(f"ftthnoc demo: {api_address} was taken meanwhile: serving the web pages on a free port "
                           f"of {host}; pass --api-listen HOST:PORT to choose", err=True)
                run_service(config, settings, cycles, on_ready=ready,
                            database_url=url, api_listen=f"{host}:0", on_api=api_url.append, line_seed=seed_lines)
    except FtthnocError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen (exporter {settings.listen_host}:{settings.listen_port}, web pages {api_address}): "
             f"{exc.strerror or exc}")


CLI_USER_HINT = "ftthnoc / ftthnoc-demo"


def load_demo_inventory(url: str, document: dict[str, Any], now: datetime | None = None) -> Engine:
    """Migrate the demo's database, import the simulated town and seed its history (``simulator.history``:
    the past years' take-up, tablet syncs, telework days, incidents and availability, so the KPIs have
    trends). Only the demo calls this: a real town's database is never seeded. Its engine."""
    from ftthnoc.inventory import db, io
    from simulator.history import seed_history

    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(engine, actor="demo") as session:
        io.import_document(session, document)
    with db.session_scope(engine, actor="demo") as session:
        seeded = seed_history(session, now or datetime.now(UTC))
    click.echo(f"ftthnoc demo: history since the service start: {seeded.status_changes} subscriptions, "
               f"{seeded.incidents} past incidents, {seeded.availability_months} district-months of availability, "
               f"{seeded.telework_days} telework days, {seeded.tablet_syncs} tablet syncs", err=True)
    return engine


def demo_line_seed(town: Town) -> Callable[[PollHistory], None]:
    """What the demo hands ``run_service``: the household page's in-process history gets the simulated town's
    past week (``simulator.linehistory``) before the first poll, so its sparkline and flaps show at once.
    Only the demo seeds; ``serve`` passes nothing, and with a Prometheus configured there is no such history."""

    def seed(history: PollHistory) -> None:
        from simulator.linehistory import seed_line_history

        started = time.monotonic()
        seeded = seed_line_history(history, town)
        click.echo(f"ftthnoc demo: line history of the past week for {seeded.onus} ONUs ({len(seeded.flapping)} "
                   f"flapping, {len(seeded.declining)} declining) in {time.monotonic() - started:.1f} s", err=True)

    return seed


def write_demo_config(doc: dict[str, Any], path: Path) -> Path:
    """The demo's configuration as a file, so that ``ftthnoc enroll`` in another terminal drives the same
    simulated devices (demo credentials only: nothing here opens a real device)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _enrol_hint(installs: Mapping[str, Any], config_file: Path, url: str) -> str:
    """The command that enrols the first installed household (it then shows up in the next poll)."""
    if not installs:
        return ""
    code = sorted(installs)[0]
    return (f"ftthnoc enroll household {code} --serial {installs[code].serial} "
            f"--config {config_file} --database-url {url}")


def _describe(kind: str, target: dict[str, Any]) -> str:
    ports = "".join(f" tcp/{p}" for p in target.get("ports") or [])
    return f"{kind} {target['name']} (icmp{ports})"
