"""The composition root's wiring: which collectors feed which consumers in ``serve`` and the demo.

The one place that knows every package; nothing imports it but the command line. The flow (the
throughput tester also stores each iperf3 result in the database itself, off the loop)::

    Poller (SNMP) ─┐                        ┌─ Snapshot ──────────► /metrics, /snmp, the API's ONU state
    Prober ────────┤                        │
    Throughput ────┼─► Fanout.publish(poll) ┼─ InfluxWriter (own thread, spool)
    TrapReceiver ──┘   Fanout.on_event(ev)  ├─ OffLoop(IncidentEngine)  ─┐
                                            ├─ OffLoop(TeleworkKpi)      ├─ one database engine
                                            └─ OffLoop(KpiRecorder)     ─┘  (also the API's)

Every consumer implements ``ftthnoc.consumers.PollConsumer`` (and ``EventConsumer`` where events matter);
those that write to a database run behind ``OffLoop`` so the poll loop, which times every OLT request,
never waits on SQL. Adding a consumer is one class with ``observe_poll`` and one line in ``_consumers``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ftthnoc.config import Config, validate_section
from ftthnoc.settings import Settings
from ftthnoc.shard import Shard, ShardMap

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from sqlalchemy import Engine

    from collectors.probes import Prober
    from collectors.runner import Poller
    from collectors.snmp.decode import Labeler
    from collectors.throughput import ThroughputTester
    from collectors.traps import TrapReceiver
    from exporters.prometheus.snapshot import Snapshot
    from ftthnoc.consumers import Fanout, OffLoop
    from ftthnoc.linehistory import PollHistory

log = logging.getLogger("ftthnoc")


def open_inventory(database_url: str) -> Engine | None:
    """The deployment's one database engine, on a current inventory; None (said once) without one."""
    from ftthnoc.inventory import db

    try:
        engine = db.make_engine(database_url)
    except Exception as exc:
        log.warning("no inventory (%s): districts read \"unknown\"; incidents, KPIs and the API are off",
                    type(exc).__name__)
        return None
    try:
        db.require_current(engine)
    except Exception as exc:
        engine.dispose()
        log.warning("inventory not usable (%s): districts read \"unknown\"; incidents, KPIs and the API are "
                    "off; run 'ftthnoc inventory migrate'", type(exc).__name__)
        return None
    return engine


def district_labeler(engine: Engine | None) -> Labeler:
    """ONU and PON-port samples get their household's district from the inventory ("unknown" without)."""
    from collectors.snmp.decode import district_labeler as labeler
    from ftthnoc.inventory import db, lookup

    if engine is None:
        return labeler({}, {})
    try:
        with db.session(engine) as s:
            onus = lookup.onu_districts(s)
            olts = lookup.olt_districts(s)
    except Exception as exc:
        log.warning("inventory not readable (%s): ONU metrics get district=\"unknown\"", type(exc).__name__)
        return labeler({}, {})
    return labeler({(o, p, str(i)): d for (o, p, i), d in onus.items()}, olts)


def _section(config: Config, name: str, model: Any) -> Any:
    """A component's own section, validated by the model it owns: a typo stops start-up with one line."""
    raw = getattr(config, name)
    return None if raw is None else validate_section(name, model, raw)


def _prober(config: Config, engine: Engine | None) -> Prober | None:
    from collectors.probes import ProbeConfig, Prober
    from collectors.probes.config import RegisteredTablet
    from ftthnoc.errors import ConfigError
    from ftthnoc.inventory import db, lookup
    from ftthnoc.inventory.models import School, Tablet

    probes = _section(config, "probes", ProbeConfig)
    if probes is None:
        return None
    tablets: list[RegisteredTablet] = []
    if engine is not None:
        with db.session(engine) as s:
            if probes.from_inventory:  # targets of these kinds come from the inventory too
                probes = probes.with_targets(lookup.probe_targets(s))
            rows = s.query(School.code, Tablet.asset_no, Tablet.mac, Tablet.network_mac).join(
                Tablet, Tablet.school_id == School.id)
            # a tablet's Wi-Fi MAC learned from its MDM is a second name for the same tablet
            tablets = [RegisteredTablet(school=c, asset_no=a, mac=m) for c, a, *macs in rows for m in macs if m]
    elif probes.from_inventory:
        raise ConfigError("probes.from_inventory needs a migrated inventory database (FTTHNOC_DATABASE_URL)")
    return Prober(probes, tablets=tablets)


def _throughput(config: Config, engine: Engine | None) -> ThroughputTester | None:
    """The scheduled school throughput tests (``throughput:``), storing every result in the inventory."""
    from collectors.throughput import ThroughputConfig, ThroughputTester

    section = _section(config, "throughput", ThroughputConfig)
    if section is None:
        return None
    if engine is None:
        log.warning("throughput: no inventory database, so the results reach /metrics only (not the KPI)")
        return ThroughputTester(section)
    from ftthnoc.kpi import throughput

    return ThroughputTester(section, record=lambda results: throughput.record(engine, results))


@dataclass
class Deployment:
    """Everything ``serve`` runs, built once from the configuration; ``close`` undoes it in reverse."""

    config: Config
    settings: Settings
    engine: Engine | None
    snapshot: Snapshot
    fanout: Fanout
    poller: Poller
    prober: Prober | None
    receiver: TrapReceiver | None
    sources: list[Any]
    tester: ThroughputTester | None = None
    off_loop: list[OffLoop] = field(default_factory=list)
    closers: ExitStack = field(default_factory=ExitStack)
    #: the ONUs' last week from the polls (None when the page reads a Prometheus instead)
    line_history: PollHistory | None = None

    def close(self) -> None:
        self.closers.close()


def build(config: Config, settings: Settings, engine: Engine | None, labeler: Labeler | None = None,
          shard: Shard | None = None, line_seed: Callable[[PollHistory], object] | None = None) -> Deployment:
    """The deployment's parts and their wiring; nothing runs yet. With ``shard``, the poller takes that
    shard's targets and ``/metrics`` says which shard polls each target of the configuration. ``line_seed``
    (the demo's simulated past week, never ``serve``'s) fills the in-process line history before any poll."""
    shard_map = None
    owned: frozenset[str] | None = None
    if shard is not None:
        shard_map = ShardMap(shard, tuple((t.name, t.address) for t in config.targets))
        config = config.model_copy(update={"targets": shard.select(config.targets, lambda t: t.address)})
        owned = frozenset(t.name for t in config.targets)
    from collectors.runner import Poller
    from collectors.traps import TrapConfig, TrapReceiver
    from exporters.influx import InfluxWriter
    from exporters.prometheus.snapshot import Snapshot
    from ftthnoc.consumers import Fanout, OffLoop
    from ftthnoc.linehistory import PollHistory

    closers = ExitStack()
    snapshot = Snapshot()
    writer = InfluxWriter.from_settings(settings)
    if writer is not None:
        log.info("writing every poll to InfluxDB at %s (spool %s)", writer.url, settings.influx_spool_dir)
        closers.callback(writer.close, timeout=10.0)  # what cannot be sent now stays in the spool
    consumers = _database_consumers(config, engine, settings, owned, str(shard) if shard is not None else None)
    if shard is not None and engine is not None:  # the shared database learns this shard is alive
        from ftthnoc.inventory import db
        from ftthnoc.pollers import Heartbeat

        consumers.append(("heartbeat", Heartbeat(db.session_factory(engine), shard,
                                                 [t.name for t in config.targets], config.interval_seconds)))
    off_loop = [OffLoop(c, name) for name, c in consumers]
    for consumer in off_loop:
        closers.callback(consumer.close)
    # the household page's week of light levels and flaps, kept from the polls when no time series is read
    history = None if settings.prometheus_url else PollHistory()
    if history is not None and line_seed is not None:
        line_seed(history)
    fanout = Fanout([snapshot, *([writer] if writer else []), *off_loop, *([history] if history is not None else [])])
    traps = _section(config, "traps", TrapConfig)
    receiver = TrapReceiver(traps, config.auths, fanout.on_event) if traps is not None else None
    poller = Poller(config, fanout.publish, labeler=labeler or district_labeler(engine),
                    publish_private=fanout.publish_private if fanout.private else None)
    sources = [c for c in (writer, receiver, *off_loop, shard_map) if c is not None]
    return Deployment(config, settings, engine, snapshot, fanout, poller, _prober(config, engine), receiver,
                      sources, _throughput(config, engine), off_loop, closers, history)


def _database_consumers(config: Config, engine: Engine | None, settings: Settings | None = None,
                        owned: frozenset[str] | None = None, shard: str | None = None) -> list[tuple[str, object]]:
    """The consumers that keep state in the inventory database: incidents, telework, KPI inputs. With
    ``owned`` (the targets of ``shard``), the incident engine takes up only those OLTs' open incidents and
    counts dying gasps with the other shards'."""
    if engine is None:
        return []
    from ftthnoc.incidents.engine import IncidentConfig, IncidentEngine
    from ftthnoc.inventory import db
    from ftthnoc.kpi.recorder import KpiRecorder

    sessions = db.session_factory(engine)
    incidents = validate_section("incidents", IncidentConfig, config.incidents or {})
    consumers: list[tuple[str, object]] = [
        ("incidents", IncidentEngine(sessions, incidents, owned_olts=owned, shard=shard)),
        # an OLT's homes count as down for availability from the poll the olt_unreachable rule counts from
        ("kpis", KpiRecorder(engine, config.interval_seconds, unreachable_polls=incidents.unreachable_polls)),
    ]
    if config.telework is not None:  # it needs the headcount
        from ftthnoc.telework.calendar import TeleworkConfig
        from ftthnoc.telework.kpi import TeleworkKpi

        consumers.append(("telework", TeleworkKpi(sessions, validate_section("telework", TeleworkConfig,
                                                                               config.telework),
                                                  user_key=_telework_user_key(settings))))
    return consumers


def _telework_user_key(settings: Settings | None) -> bytes | None:
    """The key of the VPN users' hashes: ``FTTHNOC_TELEWORK_USER_KEY``, else one kept in the data directory
    (made the first time, mode 0600, as the API's secret); None without settings (a random key per process)."""
    if settings is None:
        return None
    if settings.telework_user_key is not None:
        return settings.telework_user_key.get_secret_value().encode()
    from api.security import persistent_secret

    return persistent_secret(settings.data_dir / "telework-user-key", "telework user key")


def run_service(config: Config, settings: Settings, cycles: int | None = None,
                on_ready: Callable[[str], None] | None = None,
                database_url: str | None = None, api_listen: str | None = None,
                on_api: Callable[[str], None] | None = None, shard: Shard | None = None,
                line_seed: Callable[[PollHistory], object] | None = None) -> None:
    """Everything the configuration asks for, in one process, until SIGINT/SIGTERM (or ``cycles`` polls of
    each target). Any part may be absent: a deployment of only traps, or only the API, runs as well. With
    ``shard``, only that shard's SNMP targets are polled; ``line_seed``: see ``build`` (the demo's)."""
    engine = open_inventory(database_url or settings.database_url)
    try:
        deployment = build(config, settings, engine, shard=shard, line_seed=line_seed)
        try:
            _serve(deployment, cycles, on_ready, api_listen, on_api)
        finally:
            deployment.close()
    finally:
        if engine is not None:
            engine.dispose()


def registry(d: Deployment) -> CollectorRegistry:
    """What ``/metrics`` serves: the snapshot of the last polls and every source's own families (open
    incidents, writer and consumer health)."""
    from exporters.prometheus.collector import SourceCollector, make_registry
    from ftthnoc.samples import merge

    # one collector over every source, merged by name: two consumers' queue gauges are one family
    return make_registry(d.snapshot, [SourceCollector(lambda: merge(f for s in d.sources for f in s.families()))])


def _serve(d: Deployment, cycles: int | None, on_ready: Callable[[str], None] | None, api_listen: str | None,
           on_api: Callable[[str], None] | None) -> None:
    from exporters.prometheus.http import example_query, make_app, project_readme, serve
    from ftthnoc.errors import ConfigError

    if api_listen is not None and d.engine is None:
        raise ConfigError("--api needs a migrated inventory database (FTTHNOC_DATABASE_URL; "
                          "'ftthnoc inventory migrate')")
    web_url = None
    if api_listen is not None:  # first, so that the exporter's landing page can link the web pages
        from api.service import start_api
        from ftthnoc.config import split_host_port

        assert d.engine is not None
        host, port = split_host_port(api_listen, 8080)
        api = start_api(d.engine, d.config, d.snapshot.families, host, port, settings=d.settings,
                        line_history=d.line_history)
        d.closers.callback(api.stop)
        web_url = api.url
        log.info("API and web pages on %s", api.url)
        if on_api:
            on_api(api.url)
    default_auth = "public_v2" if "public_v2" in d.config.auths else None
    example = example_query(((t.address, t.modules, t.auth) for t in d.config.targets), default_auth)
    app = make_app(registry(d), probe=d.poller.probe, default_auth=default_auth, example=example, web_url=web_url,
                   readme=project_readme())
    server = serve(app, d.settings.listen_host, d.settings.listen_port)
    d.closers.callback(server.shutdown)
    url = f"http://{d.settings.listen_host}:{server.server_port}"
    log.info("exporter listening on %s/metrics", url)
    asyncio.run(_main_loop(d, cycles, lambda: on_ready(url) if on_ready else None))


async def _main_loop(d: Deployment, cycles: int | None, ready: Callable[[], None]) -> None:
    """Run the collectors until a signal (or, with ``cycles``, until the poller has done them)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(d.poller.run(stop, cycles), name="poller")]
    if d.prober is not None and cycles is None:
        tasks.append(asyncio.create_task(d.prober.run(stop, d.fanout.publish), name="prober"))
    if d.tester is not None and cycles is None:
        tasks.append(asyncio.create_task(d.tester.run(stop, d.fanout.publish), name="throughput"))
    try:
        if d.receiver is not None:
            await d.receiver.start()
            log.info("trap receiver listening on UDP port %s", d.receiver.port)
        ready()
        if cycles is not None:
            await tasks[0]
        else:
            await stop.wait()
    finally:
        stop.set()  # the poller and prober cancel what they have in flight and return
        done, pending = await asyncio.wait(tasks, timeout=5.0)
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("%s stopped with an error", task.get_name(), exc_info=task.exception())
        if d.receiver is not None:
            await d.receiver.stop()
        d.poller.client.close()  # forgets the SNMPv3 engines learnt (each poll closes its own socket)
