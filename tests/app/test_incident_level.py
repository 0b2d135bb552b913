"""End to end through real parts: a town whose agents serve a feeder cut from the start.

The small town's one cut port was cut before ftthnoc ever polled it. After the first poll of every OLT
(snmpsim agents on loopback, the deployment's own poller, consumers and database), the API's incident
list and ``/metrics`` (the deployment's own registry, served over HTTP on loopback) both show that cut:
one incident, one ``ftthnoc_incident_open`` series, the same port.
"""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from api.services import incidents
from api.services.common import Window
from app.wiring import build, registry
from exporters.prometheus.http import make_app, serve
from ftthnoc.config import Config
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.settings import Settings
from simulator.agents import TownAgents


def test_a_feeder_cut_present_from_the_start_is_an_incident_after_the_first_poll(
    small_agents: TownAgents, tmp_path: Path
) -> None:
    [(olt, port, district)] = [(o.name, p.name, o.district) for o in small_agents.town.olts for p in o.pon_ports
                               if p.feeder_cut]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        import_document(s, small_agents.inventory_document())
    deployment = build(Config.model_validate(small_agents.poller_config(interval_seconds=3600)),
                       Settings(influx_url=None), engine)
    server = serve(make_app(registry(deployment)), "127.0.0.1", 0)
    try:
        asyncio.run(deployment.poller.run(asyncio.Event(), cycles=1))  # the first poll of every target
        for consumer in deployment.off_loop:
            assert consumer.drain(120), f"{consumer.name} did not take the first poll in time"

        with db.session(engine) as session:
            found = incidents.search(session, Window(limit=50), open=True)
            listed = [(i.kind, i.status, i.olt, i.pon_port, i.district) for i in found.items]
            assert found.items and all(i.affected_count >= 4 for i in found.items)
        assert listed == [("feeder_cut", "open", olt, port, district)]

        text = urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=30).read().decode()
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        exposed = [dict(s.labels) for s in fams["ftthnoc_incident_open"].samples if s.value == 1]
        assert exposed == [{"kind": "feeder_cut", "district": district, "olt": olt, "pon_port": port, "splitter": "",
                            "scope": "pon_port"}]  # fmt: skip
        assert len(fams["ftthnoc_incident_open"].samples) == 1
    finally:
        server.shutdown()
        deployment.close()
        engine.dispose()
