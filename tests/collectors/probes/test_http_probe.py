"""The HTTP(S) probe against a real HTTPS server on 127.0.0.1, its certificate made here with a known expiry.

A test CA signs the server's certificate (for IP 127.0.0.1); the probe trusts that CA through ``ca_file``.
Nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from collectors.probes import families as fam
from collectors.probes.config import HttpSettings, HttpTarget, ProbeConfig
from collectors.probes.http import PHASES, check
from collectors.probes.prober import Prober

DAYS_LEFT = 30


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path
    not_after: dt.datetime


def make_pki(tmp: Path, days_left: int) -> Pki:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("ftthnoc test CA")).issuer_name(_name("ftthnoc test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = (now + dt.timedelta(days=days_left)).replace(microsecond=0)
    leaf = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pki = Pki(tmp / "ca.pem", tmp / "server.pem", tmp / "server.key", not_after)
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return pki


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, body = {"/": (200, "町の電子申請 e-application OK"), "/broken": (500, "internal error")}.get(
            self.path, (404, "not found"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@dataclass
class Server:
    base: str
    pki: Pki


@pytest.fixture
def https(tmp_path: Path) -> Iterator[Server]:
    pki = make_pki(tmp_path, DAYS_LEFT)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.cert_file, pki.key_file)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(f"https://127.0.0.1:{server.server_address[1]}", pki)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound on loopback but not listening: a connect to it is refused, and nobody else can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


SETTINGS = HttpSettings(timeout_seconds=5)


def target(url: str, **kw: object) -> HttpTarget:
    return HttpTarget.model_validate({"name": "e-application", "url": url, **kw})


async def test_https_answer_status_and_certificate_days_left(https: Server) -> None:
    r = await check(target(https.base + "/", ca_file=str(https.pki.ca_file), body_regex="電子申請"), SETTINGS)
    assert r.success, r.reason
    assert r.status == 200 and r.reason == ""
    assert r.cert_expiry is not None
    assert abs(r.cert_expiry - https.pki.not_after.timestamp()) < 1  # the leaf's notAfter, to the second
    days_left = (r.cert_expiry - dt.datetime.now(dt.UTC).timestamp()) / 86400
    assert DAYS_LEFT - 1 < days_left <= DAYS_LEFT
    assert r.phases["connect"] > 0 and r.phases["tls"] > 0 and r.phases["processing"] > 0
    assert r.seconds >= r.phases["tls"]


async def test_server_error_is_a_failure_with_its_status(https: Server) -> None:
    r = await check(target(https.base + "/broken", ca_file=str(https.pki.ca_file)), SETTINGS)
    assert not r.success
    assert r.status == 500
    assert r.reason == "status 500 not in 2xx"
    assert r.cert_expiry is not None  # the certificate is read whatever the status


async def test_expected_status_set_and_body_regex(https: Server) -> None:
    ok = await check(target(https.base + "/broken", ca_file=str(https.pki.ca_file), valid_status_codes=[500]),
                     SETTINGS)
    assert ok.success, ok.reason
    miss = await check(target(https.base + "/", ca_file=str(https.pki.ca_file), body_regex="maintenance"),
                       SETTINGS)
    assert not miss.success and miss.reason == "body does not match body_regex"


async def test_redirects_followed_or_not(https: Server) -> None:
    followed = await check(target(https.base + "/old", ca_file=str(https.pki.ca_file)), SETTINGS)
    assert followed.success and followed.status == 200 and followed.redirects == 1
    kept = await check(target(https.base + "/old", ca_file=str(https.pki.ca_file), follow_redirects=False),
                       SETTINGS)
    assert not kept.success and kept.status == 301 and kept.reason == "status 301 not in 2xx"
    assert (await check(target(https.base + "/old", ca_file=str(https.pki.ca_file), follow_redirects=False,
                               valid_status_codes=[301]), SETTINGS)).success


async def test_untrusted_certificate_fails_unless_verification_is_off(https: Server) -> None:
    r = await check(target(https.base + "/"), SETTINGS)  # the system's CAs do not know the test CA
    assert not r.success and r.status is None
    assert r.reason.startswith("TLS certificate not valid"), r.reason
    unverified = await check(target(https.base + "/", verify_tls=False), SETTINGS)
    assert unverified.success, unverified.reason
    assert unverified.cert_expiry is not None and abs(unverified.cert_expiry - https.pki.not_after.timestamp()) < 1


async def test_closed_port_is_refused(closed_port: int) -> None:
    r = await check(target(f"http://127.0.0.1:{closed_port}/"), SETTINGS)
    assert not r.success and r.status is None and r.cert_expiry is None
    assert r.reason == "connection refused"


async def test_prober_publishes_service_families_and_counts_failed_cycles(https: Server, closed_port: int) -> None:
    cfg = ProbeConfig.model_validate({"http": {"timeout_seconds": 5, "targets": [
        {"name": "website", "url": https.base + "/", "ca_file": str(https.pki.ca_file), "district": "chiyoda"},
        {"name": "e-application", "url": f"http://127.0.0.1:{closed_port}/"},
    ]}})
    prober = Prober(cfg)
    for _ in range(2):
        fams = {f.name: f for f in await prober.http()}
    by_target = {name: {s.labels["target"]: s for s in f.samples} for name, f in fams.items()
                 if name not in ("ftthnoc_probe_success", "ftthnoc_probe_duration_seconds",
                                 "ftthnoc_probe_http_phase_seconds")}
    assert by_target["ftthnoc_probe_http_success"]["website"].value == 1.0
    assert by_target["ftthnoc_probe_http_success"]["e-application"].value == 0.0
    assert by_target["ftthnoc_probe_http_status_code"]["website"].value == 200.0
    assert by_target["ftthnoc_probe_http_status_code"]["e-application"].value == 0.0
    assert set(by_target["ftthnoc_probe_tls_cert_expiry_timestamp_seconds"]) == {"website"}
    failed = by_target["ftthnoc_probe_service_failed_cycles"]
    assert failed["website"].value == 0.0 and failed["e-application"].value == 2.0
    assert dict(failed["e-application"].labels) == {"target": "e-application", "kind": "service", "probe": "http"}
    assert dict(by_target["ftthnoc_probe_http_success"]["website"].labels) == {
        "target": "website", "kind": "service", "district": "chiyoda"}
    assert {s.labels["phase"] for s in fams["ftthnoc_probe_http_phase_seconds"].samples
            if s.labels["target"] == "website"} == set(PHASES)
    assert [(s.labels, s.value) for s in fams["ftthnoc_probe_success"].samples] == [({"probe": "http"}, 1.0)]


def test_families_module_names_every_http_family() -> None:
    names = {f.name for f in fam.http_families([])}
    assert names == {"ftthnoc_probe_http_success", "ftthnoc_probe_http_status_code",
                     "ftthnoc_probe_http_duration_seconds", "ftthnoc_probe_http_phase_seconds",
                     "ftthnoc_probe_http_redirects", "ftthnoc_probe_tls_cert_expiry_timestamp_seconds"}


async def test_run_repeats_the_service_checks_only_when_configured(https: Server) -> None:
    published: list[tuple[str, str, list[str]]] = []

    def publish(source: str, probe: str, families: list[Any]) -> None:
        published.append((source, probe, [f.name for f in families]))

    website = {"name": "website", "url": https.base + "/", "ca_file": str(https.pki.ca_file)}
    cfg = ProbeConfig.model_validate({"cycle_seconds": 0.5, "icmp": {"timeout_seconds": 0.3},
                                      "arp": {"cycle_seconds": 0.3},
                                      "http": {"timeout_seconds": 0.4, "targets": [website]}})
    await Prober(cfg).run(asyncio.Event(), publish, cycles=2)
    probes = sorted(p for _, p, _ in published)
    assert probes == ["arp", "arp", "http", "http", "icmp", "icmp", "tcp", "tcp"]  # no dns: it has no target
    assert all("ftthnoc_probe_http_success" in names for _, p, names in published if p == "http")
