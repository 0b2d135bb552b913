"""``Poller.probe`` (the ``/snmp`` route's poll) when the poller's own loop does not run it in time, or has not
started yet: the scrape still gets an answer, never an HTTP 500."""

from __future__ import annotations

import asyncio
import threading
import time

from collectors.runner import Poller
from ftthnoc.config import Config
from ftthnoc.samples import MetricFamily
from tests.collectors.snmp import misbehaving_agents as agents
from tests.waiting import scaled, wait_until


def test_a_probe_on_a_starved_poller_loop_answers_with_a_failed_scrape() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    poller = Poller(Config.model_validate({}), publish=lambda *_: None)
    try:
        asyncio.run_coroutine_threadsafe(poller.run(asyncio.Event()), loop).result(scaled(10))  # no targets
        # the loop busy for longer than the probe's bound and its backstop (0.5 s + 5 s): nothing runs the walk
        loop.call_soon_threadsafe(time.sleep, 8.0)
        families: list[MetricFamily] = poller.probe("127.0.0.1:9", ["if_mib"], "public_v2", timeout=0.5)
        # once the loop is free again, the abandoned probe's task starts cancelled and ends: let it, or closing
        # the loop drops it unstarted ("coroutine ... was never awaited")
        asyncio.run_coroutine_threadsafe(_settle(), loop).result(scaled(30))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
    success = next(f for f in families if f.name == "ftthnoc_scrape_success")
    assert [(s.labels, s.value) for s in success.samples] == [({"target": "127.0.0.1:9", "module": "if_mib"}, 0.0)]
    assert not any(f.name.startswith("if") for f in families)


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def _value(families: list[MetricFamily], name: str) -> float:
    family = next(f for f in families if f.name == name)
    assert len(family.samples) == 1, family.samples
    return family.samples[0].value


def test_a_probe_that_arrives_before_the_poller_runs_waits_for_it_and_walks() -> None:
    """``serve`` announces its exporter as the poller's task is created, so a scrape can come first (it did,
    as an HTTP 500 "the poller is not running", on a loaded machine)."""
    poller = Poller(Config.model_validate({}), publish=lambda *_: None)
    answers: list[list[MetricFamily]] = []
    asking = threading.Event()
    with agents.InThread(agents.endless()) as agent:
        def ask() -> None:
            asking.set()
            answers.append(poller.probe(agent.address, ["if_mib"], "public_v2", timeout=scaled(3)))

        prober = threading.Thread(target=ask, daemon=True)
        prober.start()
        asking.wait(scaled(10))
        loop = asyncio.new_event_loop()
        runner = threading.Thread(target=loop.run_forever, daemon=True)
        runner.start()
        try:
            asyncio.run_coroutine_threadsafe(poller.run(asyncio.Event()), loop).result(scaled(10))
            wait_until(lambda: answers, 30, "the probe to answer")
        finally:
            loop.call_soon_threadsafe(loop.stop)
            runner.join(30)
            loop.close()
        prober.join(30)
    # the walk ran on the poller's loop (the endless agent was asked) and ended at the scrape's bound
    assert agent.requests > 0
    assert _value(answers[0], "ftthnoc_scrape_success") == 0.0


def test_a_probe_of_a_poller_that_never_starts_ends_at_its_bound_as_a_failed_scrape() -> None:
    poller = Poller(Config.model_validate({}), publish=lambda *_: None)
    families = poller.probe("127.0.0.1:9", ["if_mib"], "public_v2", timeout=0.2)
    assert _value(families, "ftthnoc_scrape_success") == 0.0
    assert _value(families, "ftthnoc_scrape_varbinds") == 0.0
