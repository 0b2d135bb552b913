"""The online-service checks' configuration (``probes.http``, ``probes.dns``): the README's example parses,
mistakes are refused with a reason an operator can act on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from collectors.probes.config import ProbeConfig
from ftthnoc.config import validate_section
from ftthnoc.errors import ConfigError

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_example() -> dict[str, object]:
    """The ``probes:`` block of the README's online-services example, as an operator would copy it."""
    text = README.read_text()
    start = text.index("```yaml\nprobes:                          # the town's online services")
    block = text[start + len("```yaml\n"):text.index("```", start + 7)]
    doc = yaml.safe_load(block)
    assert isinstance(doc, dict)
    return doc["probes"]  # type: ignore[no-any-return]


def test_readme_example_parses() -> None:
    cfg = ProbeConfig.model_validate(readme_example())
    assert [t.name for t in cfg.http.targets] == ["e-application", "website"]
    portal = cfg.http.targets[0]
    assert portal.kind == "service" and portal.follow_redirects and portal.verify_tls
    assert portal.ok_status(200) and not portal.ok_status(500)
    website = cfg.http.targets[1]
    assert website.valid_status_codes == [200, 301] and website.ok_status(301) and not website.ok_status(204)
    assert [(t.name, t.server, t.query_name, t.query_type) for t in cfg.dns.targets] == [
        ("town-dns", "203.0.113.53", "www.town.example.jp", "A")]
    assert cfg.dns.targets[0].expected_addresses == ["203.0.113.80"]
    assert ProbeConfig().http.targets == [] and ProbeConfig().dns.targets == []


HTTP = {"name": "portal", "url": "https://portal.town.example/"}
DNS = {"name": "dns", "server": "192.0.2.53", "query_name": "www.town.example"}


@pytest.mark.parametrize(("patch", "message"), [
    ({"http": {"targets": [{**HTTP, "url": "ftp://portal.town.example/"}]}}, "not an http:// or https:// URL"),
    ({"http": {"targets": [{**HTTP, "url": "portal.town.example"}]}}, "not an http:// or https:// URL"),
    ({"http": {"targets": [{**HTTP, "url": "https://admin:secret@portal.town.example/"}]}}, "credentials"),
    ({"http": {"targets": [{**HTTP, "body_regex": "(unclosed"}]}}, "does not compile"),
    ({"http": {"targets": [{**HTTP, "valid_status_codes": [999]}]}}, "less than or equal to 599"),
    ({"http": {"targets": [{**HTTP, "ca_file": "/nonexistent/ca.pem"}]}}, "not a readable file"),
    ({"http": {"targets": [HTTP, HTTP]}}, "http target names must be unique"),
    ({"http": {"targets": [{**HTTP, "kind": "on line"}]}}, "plain word"),
    ({"http": {"targets": [{**HTTP, "labels": {"address": "x"}}]}}, "personal"),
    ({"http": {"targets": [{**HTTP, "labels": {"probe": "x"}}]}}, "set by the probe"),
    ({"http": {"targets": [{**HTTP, "method": "POST"}]}}, "Extra inputs"),
    ({"http": {"timeout_seconds": 60, "targets": [HTTP]}}, "http.timeout_seconds must be shorter than cycle_seconds"),
    ({"dns": {"timeout_seconds": 5, "targets": [DNS]}, "cycle_seconds": 5}, "dns.timeout_seconds must be shorter"),
    ({"dns": {"targets": [{**DNS, "server": "ns.town.example"}]}}, "not an IP address"),
    ({"dns": {"targets": [{**DNS, "query_type": "ANY"}]}}, "query_type"),
    ({"dns": {"targets": [{**DNS, "expected_addresses": ["nope"]}]}}, "expected_addresses"),
    ({"dns": {"targets": [{**DNS, "query_type": "MX", "expected_addresses": ["192.0.2.1"]}]}}, "needs query_type A"),
    ({"dns": {"targets": [DNS, DNS]}}, "dns target names must be unique"),
    ({"dns": {"targets": [{**DNS, "transport": "doh"}]}}, "transport"),
])
def test_refusals(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProbeConfig.model_validate(patch)


def test_a_mistake_stops_serve_with_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_section("probes", ProbeConfig, {"http": {"targets": [{**HTTP, "url": "portal"}]}})
    assert "\n" not in str(caught.value) and "http" in str(caught.value) and "URL" in str(caught.value)
