"""The composition root's wiring: which collectors feed which consumers in ``serve`` and the demo.

This is the one place that knows every package; nothing imports it but the command line.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from ftthnoc.config import Config, validate_section
from ftthnoc.settings import Settings

log = logging.getLogger("ftthnoc")


def labeler_from_inventory(database_url: str) -> Callable[[dict[str, str]], dict[str, str]]:
    """The district labeler from the inventory; every district "unknown" when there is none yet."""
    from collectors.runner import district_labeler
    from ftthnoc.inventory import db, lookup

    try:
        engine = db.make_engine(database_url)
        with db.session(engine) as s:
            onus = lookup.onu_districts(s)
            olts = lookup.olt_districts(s)
    except Exception as exc:  # no database or not migrated: poll without districts, say so once
        log.warning("inventory not readable (%s): ONU metrics get district=\"unknown\"", type(exc).__name__)
        return district_labeler({}, {})
    return district_labeler({(o, p, str(i)): d for (o, p, i), d in onus.items()}, olts)


def optional_components(config: Config, database_url: str, on_event: Callable[[Any], None]) -> tuple[Any, Any]:
    """The prober and trap receiver the configuration asks for (None where it does not).

    Their sections are validated here, at start-up, by the components that own them, so that a typo
    stops ``serve`` with one line instead of failing at the first probe cycle.
    """
    from collectors.probes import ProbeConfig, Prober
    from collectors.traps import TrapConfig, TrapReceiver

    def section(name: str, model: Any) -> Any:
        raw = getattr(config, name)
        return None if raw is None else validate_section(name, model, raw)

    probes = section("probes", ProbeConfig)
    if probes is not None and probes.from_inventory:  # targets of these kinds come from the inventory too
        from ftthnoc.inventory import db, lookup

        db.require_current(engine := db.make_engine(database_url))  # asked for: no inventory is an error
        with db.session(engine) as s:
            probes = probes.with_targets(lookup.probe_targets(s))
    traps = section("traps", TrapConfig)
    prober = Prober(probes, tablets=_inventory_tablets(database_url)) if probes is not None else None
    receiver = TrapReceiver(traps, config.auths, on_event) if traps is not None else None
    return prober, receiver


def _current_sessions(database_url: str, component: str) -> Any:
    """A session factory on a current inventory database, or None (with one warning naming the component)."""
    from ftthnoc.inventory import db

    try:
        engine = db.make_engine(database_url)
        db.require_current(engine)
        return db.session_factory(engine)
    except Exception as exc:
        log.warning("%s off: the inventory database is not usable (%s); run 'ftthnoc inventory migrate'",
                    component, type(exc).__name__)
        return None


def incident_engine(config: Config, database_url: str) -> Any:
    """The incident engine on the inventory database, or None without a current one."""
    from ftthnoc.incidents.engine import IncidentConfig, IncidentEngine

    settings = validate_section("incidents", IncidentConfig, config.incidents or {})
    sessions = _current_sessions(database_url, "incidents are")
    return IncidentEngine(sessions, settings) if sessions is not None else None


def telework_kpi(config: Config, database_url: str) -> Any:
    """The telework KPI when the configuration has a ``telework:`` section (it needs the headcount)."""
    if config.telework is None:
        return None
    from ftthnoc.telework.calendar import TeleworkConfig
    from ftthnoc.telework.kpi import TeleworkKpi

    settings = validate_section("telework", TeleworkConfig, config.telework)
    sessions = _current_sessions(database_url, "the telework KPI is")
    return TeleworkKpi(sessions, settings) if sessions is not None else None


def kpi_recorder(config: Config, database_url: str) -> Any:
    """The KPI inputs (availability, tablets seen) kept in the inventory database; None without one."""
    from ftthnoc.inventory import db
    from ftthnoc.kpi.recorder import KpiRecorder

    try:
        engine = db.make_engine(database_url)
        db.require_current(engine)
    except Exception as exc:
        log.info("no KPI recording (%s)", type(exc).__name__)
        return None
    return KpiRecorder(engine, config.interval_seconds)


def _inventory_tablets(database_url: str) -> list[Any]:
    """Registered tablets (school code, asset number, MAC) for the ARP sweeps; none without an inventory."""
    from collectors.probes.config import RegisteredTablet
    from ftthnoc.inventory import db
    from ftthnoc.inventory.models import School, Tablet

    try:
        engine = db.make_engine(database_url)
        with db.session(engine) as s:
            rows = s.query(School.code, Tablet.asset_no, Tablet.mac).join(Tablet, Tablet.school_id == School.id).all()
    except Exception as exc:
        log.warning("inventory not readable (%s): ARP sweeps know no registered tablets", type(exc).__name__)
        return []
    return [RegisteredTablet(school=c, asset_no=a, mac=m) for c, a, m in rows]


def run_service(config: Config, settings: Settings, cycles: int | None = None,
                on_ready: Callable[[str], None] | None = None,
                labeler: Callable[[dict[str, str]], dict[str, str]] | None = None,
                database_url: str | None = None, api_listen: str | None = None,
                on_api: Callable[[str], None] | None = None) -> None:
    """Scheduler + exporters in one process until SIGINT/SIGTERM (or ``cycles`` polls per target).

    Poll once, feed every output: each poll result goes to the Prometheus snapshot and, when
    ``FTTHNOC_INFLUX_URL`` is set, to the InfluxDB writer, stamped with the time it was published.
    """
    import time

    from collectors.runner import Poller
    from exporters.influx import InfluxWriter
    from exporters.prometheus.collector import SourceCollector, make_registry
    from exporters.prometheus.http import make_app, serve
    from exporters.prometheus.snapshot import Snapshot
    from ftthnoc.samples import MetricFamily

    snapshot = Snapshot()
    writer = InfluxWriter.from_settings(settings)
    if writer is not None:
        log.info("writing every poll to InfluxDB at %s (spool %s)", writer.url, settings.influx_spool_dir)

    database_url = database_url or settings.database_url
    incidents = incident_engine(config, database_url)
    telework = telework_kpi(config, database_url)
    kpis = kpi_recorder(config, database_url)

    def publish(target: str, module: str, families: list[MetricFamily]) -> None:
        snapshot.publish(target, module, families)
        if writer is not None:
            writer.write(families, time.time_ns())
        if incidents is not None:
            for change in incidents.observe_poll(target, families):
                log.info("incident: %s", change)
        if telework is not None:
            telework.observe_poll(target, families)
        if kpis is not None:
            kpis.observe_poll(target, families)

    def on_event(event: Any) -> None:
        log.info("event: %s %s from %s", event.kind, event.cause or "", event.source)
        if incidents is not None:
            for change in incidents.observe(event):
                log.info("incident: %s", change)

    poller = Poller(config, publish, labeler=labeler)
    prober, receiver = optional_components(config, database_url, on_event=on_event)
    sources = [SourceCollector(c.families) for c in (writer, receiver, incidents, telework) if c is not None]
    app = make_app(make_registry(snapshot, sources), probe=poller.probe)
    server = serve(app, settings.listen_host, settings.listen_port)
    url = f"http://{settings.listen_host}:{server.server_port}"
    log.info("exporter listening on %s/metrics", url)
    api = None
    if api_listen is not None:
        from api.service import start_api
        from ftthnoc.config import split_host_port
        from ftthnoc.inventory import db

        api_engine = db.make_engine(database_url)
        try:
            db.require_current(api_engine)
            host, port = split_host_port(api_listen, 8080)
            api = start_api(api_engine, config, snapshot.families, host, port, settings=settings)
        except BaseException:
            server.shutdown()
            raise
        log.info("API and web pages on %s", api.url)
        if on_api:
            on_api(api.url)

    async def main_loop() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = asyncio.create_task(poller.run(stop, cycles))
        probing = asyncio.create_task(prober.run(stop, publish)) if prober is not None and cycles is None else None
        if receiver is not None:
            await receiver.start()
            log.info("trap receiver listening on UDP port %s", receiver.port)
        await asyncio.sleep(0)
        if on_ready:
            on_ready(url)
        try:
            await runner
            if probing is not None:
                await probing
        finally:
            if probing is not None:
                probing.cancel()
            if receiver is not None:
                await receiver.stop()
            poller.client.close()  # pysnmp's transports close on the loop they were opened on

    try:
        asyncio.run(main_loop())
    finally:
        server.shutdown()
        if api is not None:
            api.stop()
        if writer is not None:
            writer.close(timeout=10.0)  # what cannot be sent now stays in the spool for next time
