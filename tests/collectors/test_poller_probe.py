"""``Poller.probe`` (the ``/snmp`` route's poll) when the poller's own loop does not run it in time: the scrape
still gets an answer, the failure as data (``ftthnoc_scrape_success 0``), never an HTTP 500."""

from __future__ import annotations

import asyncio
import threading
import time

from collectors.runner import Poller
from ftthnoc.config import Config
from ftthnoc.samples import MetricFamily


def test_a_probe_on_a_starved_poller_loop_answers_with_a_failed_scrape() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    poller = Poller(Config.model_validate({}), publish=lambda *_: None)
    poller.loop = loop
    try:
        # the loop busy for longer than the probe's bound and its backstop (0.5 s + 5 s): nothing runs the walk
        loop.call_soon_threadsafe(time.sleep, 8.0)
        families: list[MetricFamily] = poller.probe("127.0.0.1:9", ["if_mib"], "public_v2", timeout=0.5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
    success = next(f for f in families if f.name == "ftthnoc_scrape_success")
    assert [(s.labels, s.value) for s in success.samples] == [({"target": "127.0.0.1:9", "module": "if_mib"}, 0.0)]
    assert not any(f.name.startswith("if") for f in families)
