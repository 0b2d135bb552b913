"""The example Alertmanager configuration (``grafana/alertmanager/alertmanager.yml``): amtool accepts it, it
routes incidents to the NOC's e-mail and webhook, its inhibitions name alerts that exist and labels both
sides carry, and a real Alertmanager mutes what they say and nothing else.

amtool and Alertmanager come from the Debian package ``prometheus-alertmanager`` (``./run test`` installs
it); without it the tests that need them skip with the reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.grafana.grafana_json import GRAFANA, RULES
from tests.ports import free_port
from tests.waiting import wait_until

CONFIG = GRAFANA / "alertmanager" / "alertmanager.yml"
AMTOOL = shutil.which("amtool")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
needs_amtool = pytest.mark.skipif(
    AMTOOL is None, reason="amtool not installed (Debian package prometheus-alertmanager)"
)
needs_alertmanager = pytest.mark.skipif(
    ALERTMANAGER is None, reason="Alertmanager not installed (Debian package prometheus-alertmanager)"
)
MATCHER = re.compile(r'^\s*(?P<label>[a-zA-Z_]\w*)\s*(?P<op>=~|!~|!=|=)\s*"?(?P<value>.*?)"?\s*$')


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rule_alerts() -> set[str]:
    return {r["alert"] for f in sorted(RULES.glob("*.rules.yml")) for g in _yaml(f)["groups"] for r in g["rules"]
            if "alert" in r}  # fmt: skip


def fired_labels() -> dict[str, list[dict[str, str]]]:
    """Every alert's labels as the rule tests expect them when it fires (``promtool test rules`` checks them
    against the rules, in ``test_rules.py``): what an alert really carries, not what its expression suggests."""
    found: dict[str, list[dict[str, str]]] = {}
    for path in sorted((RULES / "tests").glob("*.yml")):
        for test in _yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                for alert in case.get("exp_alerts") or []:
                    found.setdefault(case["alertname"], []).append(
                        {k: str(v) for k, v in alert["exp_labels"].items()}
                    )
    return found


def matched_alerts(matchers: list[str], names: set[str]) -> set[str]:
    """The alert names a list of matchers selects by ``alertname`` (each matcher must parse)."""
    selected = set(names)
    for text in matchers:
        m = MATCHER.match(text)
        assert m, f"cannot read the matcher {text!r}"
        if m["label"] != "alertname":
            continue
        value, op = m["value"], m["op"]
        if op == "=":
            assert value in names, f"{value} is no alert of the rules files"
            selected &= {value}
        elif op == "=~":
            literal = value.split("|")
            missing = [n for n in literal if n not in names]
            assert not missing, f"{missing} are no alerts of the rules files"
            selected &= {n for n in names if re.fullmatch(value, n)}
        else:
            pytest.fail(f"write inhibitions with positive alertname matchers, not {text!r}")
    return selected


def test_the_inhibitions_name_real_alerts_and_labels_both_carry() -> None:
    config = _yaml(CONFIG)
    names = rule_alerts()
    fired = fired_labels()
    rules = config["inhibit_rules"]
    assert len(rules) >= 2
    for rule in rules:
        sources = matched_alerts(rule["source_matchers"], names)
        targets = matched_alerts(rule["target_matchers"], names)
        assert sources and targets, rule
        assert rule["equal"], "an inhibition without `equal` mutes across the whole network"
        for alert in sources | targets:
            assert fired.get(alert), f"{alert} has no firing case in the rule tests: its labels are unknown"
            for labels in fired[alert]:
                missing = [label for label in rule["equal"] if not labels.get(label)]
                assert not missing, f"{alert} fires without {missing}: `equal` would match a missing label"
    by_source = {frozenset(matched_alerts(r["source_matchers"], names)): r for r in rules}
    olt = by_source[frozenset({"FtthOltNotAnswering"})]
    assert matched_alerts(olt["target_matchers"], names) == {
        "FtthPonPortFeederCut", "FtthOltBoardDown", "FtthPonPortDown", "FtthRogueOnu", "FtthOltUplinkDown",
        "FtthOnuRxPowerCritical", "FtthOnuRxPowerLow", "FtthOnuRxPowerOverload"}
    board = by_source[frozenset({"FtthOltBoardDown"})]
    assert matched_alerts(board["target_matchers"], names) == {
        "FtthPonPortFeederCut", "FtthPonPortDown", "FtthRogueOnu"}
    assert set(board["equal"]) == {"olt", "board"}  # a board mutes its own ports, not the OLT's other boards
    port = by_source[frozenset({"FtthPonPortDown", "FtthRogueOnu"})]
    assert "FtthPonPortFeederCut" in matched_alerts(port["target_matchers"], names)
    assert set(port["equal"]) == {"olt", "pon_port"}
    service = by_source[frozenset({"FtthTownServiceOutage"})]
    assert matched_alerts(service["target_matchers"], names) == {"FtthTownServiceDown"}
    feeder = by_source[frozenset({"FtthPonPortFeederCut"})]
    assert matched_alerts(feeder["target_matchers"], names) == {
        "FtthOnuRxPowerCritical", "FtthOnuRxPowerLow", "FtthOnuRxPowerOverload"}
    assert set(feeder["equal"]) == {"olt", "pon_port"}  # port names repeat on every OLT
    # the power-outage alert is per district: it carries no olt, so no olt-keyed rule may target it
    assert all(not labels.get("olt") for labels in fired["FtthPowerOutageIncidentOpen"])


def test_every_incident_alert_is_routed_as_one() -> None:
    """The incident route matches on `scope`, which every alert on ftthnoc_incident_open carries."""
    fired = fired_labels()
    for name in ("FtthPonPortFeederCut", "FtthOltNotAnswering", "FtthPowerOutageIncidentOpen", "FtthIncidentOpen"):
        assert all(labels.get("scope") for labels in fired[name]), name


@needs_amtool
def test_amtool_check_config() -> None:
    assert AMTOOL is not None
    r = subprocess.run([AMTOOL, "check-config", str(CONFIG)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


@needs_amtool
@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        ("alertname=FtthPonPortFeederCut severity=critical kind=feeder_cut scope=pon_port olt=a pon_port=0/1/0",
         "noc-incidents"),
        ("alertname=FtthPowerOutageIncidentOpen severity=warning kind=power_outage scope=district district=oasa",
         "noc-incidents"),
        ("alertname=FtthIncidentOpen severity=warning kind=uplink_down scope=olt olt=a", "noc-incidents"),
        ("alertname=FtthnocDown severity=critical job=ftthnoc", "noc-critical"),
        ("alertname=FtthOnuRxPowerCritical severity=warning olt=a pon_port=0/1/0 onu_id=1", "noc-mail"),
        ("alertname=FtthOnuRxPowerLow severity=info olt=a pon_port=0/1/0 onu_id=1", "noc-mail"),
    ],
)  # fmt: skip
def test_routes(labels: str, receivers: str) -> None:
    assert AMTOOL is not None
    r = subprocess.run([AMTOOL, "config", "routes", "test", f"--config.file={CONFIG}", *labels.split()],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == receivers.split()


def test_incident_receivers_mail_and_call_the_webhook() -> None:
    receivers = {r["name"]: r for r in _yaml(CONFIG)["receivers"]}
    incidents = receivers["noc-incidents"]
    assert incidents["email_configs"] and incidents["webhook_configs"]
    assert all(c.get("send_resolved") for c in incidents["email_configs"] + incidents["webhook_configs"])


# ----------------------------------------------------------------------------------- a real Alertmanager


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """Alertmanager on 127.0.0.1 with the example's routes and inhibitions; its receivers point at a closed
    local port (nothing is mailed, nothing leaves the machine)."""
    assert ALERTMANAGER is not None
    config = _yaml(CONFIG)
    closed = free_port()
    config["global"] = {"resolve_timeout": "5m"}
    config["receivers"] = [{"name": r["name"], "webhook_configs": [{"url": f"http://127.0.0.1:{closed}/"}]}
                           for r in config["receivers"]]  # fmt: skip
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={path}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(lambda: proc.poll() is not None or _get(f"{url}/-/ready") is not None, 30, "Alertmanager ready",
                   detail=lambda: (tmp_path / "alertmanager.log").read_text(), retry_on=(OSError,))  # fmt: skip
        assert proc.poll() is None, (tmp_path / "alertmanager.log").read_text()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        body = answer.read()
    return json.loads(body) if body.strip().startswith((b"[", b"{")) else body


def _post(url: str, payload: Any) -> None:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


INCIDENT = {"job": "ftthnoc", "instance": "noc1.example:9469"}
ALERTS = {
    "olt-a down": {"alertname": "FtthOltNotAnswering", "severity": "critical", "kind": "olt_unreachable",
                   "district": "chiyoda", "olt": "olt-a", "scope": "olt", **INCIDENT},
    "cut under olt-a": {"alertname": "FtthPonPortFeederCut", "severity": "critical", "kind": "feeder_cut",
                        "district": "chiyoda", "olt": "olt-a", "pon_port": "0/1/0", "scope": "pon_port", **INCIDENT},
    "light under olt-a": {"alertname": "FtthOnuRxPowerLow", "severity": "info", "olt": "olt-a", "pon_port": "0/2/0",
                          "onu_id": "1", "district": "chiyoda", "pon_class": "B+"},
    "cut on olt-b": {"alertname": "FtthPonPortFeederCut", "severity": "critical", "kind": "feeder_cut",
                     "district": "oasa", "olt": "olt-b", "pon_port": "0/1/0", "scope": "pon_port", **INCIDENT},
    "light on the cut port": {"alertname": "FtthOnuRxPowerCritical", "severity": "warning", "olt": "olt-b",
                              "pon_port": "0/1/0", "onu_id": "3", "district": "oasa", "pon_class": "B+"},
    "light on the next port": {"alertname": "FtthOnuRxPowerCritical", "severity": "warning", "olt": "olt-b",
                               "pon_port": "0/1/1", "onu_id": "3", "district": "oasa", "pon_class": "B+"},
    "power cut": {"alertname": "FtthPowerOutageIncidentOpen", "severity": "warning", "kind": "power_outage",
                  "district": "chiyoda", "scope": "district", **INCIDENT},
    "board 0/2 of olt-b": {"alertname": "FtthOltBoardDown", "severity": "critical", "kind": "board_down",
                           "district": "oasa", "olt": "olt-b", "pon_port": "0/2", "board": "0/2", "scope": "board",
                           **INCIDENT},
    "cut on board 0/2": {"alertname": "FtthPonPortFeederCut", "severity": "critical", "kind": "feeder_cut",
                         "district": "oasa", "olt": "olt-b", "pon_port": "0/2/5", "board": "0/2", "scope": "pon_port",
                         **INCIDENT},
    "port on board 0/3": {"alertname": "FtthPonPortDown", "severity": "critical", "kind": "pon_port_down",
                          "district": "oasa", "olt": "olt-b", "pon_port": "0/3/1", "board": "0/3", "scope": "pon_port",
                          **INCIDENT},
    "cut on the dead port": {"alertname": "FtthPonPortFeederCut", "severity": "critical", "kind": "feeder_cut",
                             "district": "oasa", "olt": "olt-b", "pon_port": "0/3/1", "board": "0/3",
                             "scope": "pon_port", **INCIDENT},
    "portal incident": {"alertname": "FtthTownServiceOutage", "severity": "critical", "kind": "service_down",
                        "district": "town", "olt": "portal", "target": "portal", "scope": "service", **INCIDENT},
    "portal probe": {"alertname": "FtthTownServiceDown", "severity": "critical", "kind": "service", "target": "portal",
                     "probe": "http", **INCIDENT},
    "dns probe": {"alertname": "FtthTownServiceDown", "severity": "critical", "kind": "service", "target": "town-dns",
                  "probe": "dns", **INCIDENT},
}  # fmt: skip
MUTED = {"cut under olt-a", "light under olt-a", "light on the cut port", "cut on board 0/2", "cut on the dead port",
         "portal probe"}  # fmt: skip


@needs_alertmanager
def test_alertmanager_mutes_what_the_inhibitions_say(alertmanager: str) -> None:
    _post(f"{alertmanager}/api/v2/alerts", [{"labels": labels} for labels in ALERTS.values()])

    def states() -> dict[str, tuple[str, list[str]]] | None:
        got = _get(f"{alertmanager}/api/v2/alerts")
        if len(got) < len(ALERTS):
            return None
        by_labels = {json.dumps(a["labels"], sort_keys=True): a["status"] for a in got}
        return {name: (by_labels[json.dumps(labels, sort_keys=True)]["state"],
                       by_labels[json.dumps(labels, sort_keys=True)]["inhibitedBy"])
                for name, labels in ALERTS.items()}  # fmt: skip

    def muted(seen: dict[str, tuple[str, list[str]]]) -> set[str]:
        return {name for name, (state, by) in seen.items() if state == "suppressed" and by}

    # Alertmanager's inhibitor learns of source alerts on its own goroutine after the POST, so a listing
    # right after it may show every alert active: ask until the muting settles, then hold it to MUTED.
    last: list[dict[str, tuple[str, list[str]]]] = []

    def settled() -> dict[str, tuple[str, list[str]]] | None:
        seen = states()
        if seen is not None:
            last[:] = [seen]
        return seen if seen is not None and muted(seen) == MUTED else None

    seen = wait_until(settled, 30, "Alertmanager to mute what the inhibitions say",
                      detail=lambda: f"muted {sorted(muted(last[0])) if last else '(nothing listed)'}, "
                                     f"expected {sorted(MUTED)}: {last}")  # fmt: skip
    assert all(state == "active" for name, (state, _) in seen.items() if name not in MUTED), seen
