"""The town's online services, simulated on loopback for the demo: an HTTPS "e-application portal" and the
town's DNS server, so that the prober's HTTP and DNS checks (and the Probes dashboard's Town services row)
have something real to check.

The portal's certificate is made here by a throw-away CA (both written to ``workdir``), valid
``CERT_DAYS`` days: the probe trusts that CA through ``ca_file`` and reads the days left. The DNS server
answers ``NAME`` with 127.0.0.1 (UDP and TCP) and NXDOMAIN for any other name. Both listen on 127.0.0.1
only, on ports the kernel picks.
"""

from __future__ import annotations

import datetime as dt
import errno
import http.server
import ipaddress
import socket
import socketserver
import ssl
import struct
import threading
from pathlib import Path
from types import TracebackType

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"
NAME = "www.kitahiroshima.example."
CERT_DAYS = 90
PAGE = "北広島町 電子申請 / e-application (simulated)".encode()


def make_certificate(workdir: Path, days: int = CERT_DAYS) -> tuple[Path, Path, Path]:
    """(CA file, certificate file, key file) for 127.0.0.1, the certificate expiring in ``days`` days."""
    workdir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("ftthnoc demo CA")).issuer_name(name("ftthnoc demo CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days + 365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(LOOPBACK)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = (workdir / "town-ca.pem", workdir / "portal.pem", workdir / "portal.key")
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    files[2].chmod(0o600)
    return files


class _Portal(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = (200, PAGE) if self.path == "/" else (404, b"not found")
        if getattr(self.server, "stopped", False):  # TownServices.stop("portal"): the application is down
            status, body = 503, b"service unavailable"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # the demo's terminal stays readable
        pass


class _QuietHttps(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:  # a client that gave up
        pass


def answer(wire: bytes) -> bytes:
    """The town DNS server's answer to one query: ``NAME`` A 127.0.0.1, NXDOMAIN for other names."""
    query = dns.message.from_wire(wire)
    response = dns.message.make_response(query)
    if query.question:
        question = query.question[0]
        if question.name != dns.name.from_text(NAME):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(question.name, 300, "IN", "A", LOOPBACK))
    return response.to_wire()


def _refusal(wire: bytes) -> bytes:
    """What a broken DNS server answers (``TownServices.stop("dns")``): SERVFAIL for every query."""
    response = dns.message.make_response(dns.message.from_wire(wire))
    response.set_rcode(dns.rcode.SERVFAIL)
    return bytes(response.to_wire())


def _reply(server: object, wire: bytes) -> bytes:
    return _refusal(wire) if getattr(server, "stopped", False) else answer(wire)


class _DnsUdp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        try:
            sock.sendto(_reply(self.server, data), self.client_address)
        except Exception:  # a malformed query gets no answer, as from a real server
            return


class _DnsTcp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        try:
            (length,) = struct.unpack("!H", conn.recv(2, socket.MSG_WAITALL))
            reply = _reply(self.server, conn.recv(length, socket.MSG_WAITALL))
            conn.sendall(struct.pack("!H", len(reply)) + reply)
        except Exception:
            return


class _Udp(socketserver.ThreadingUDPServer):
    daemon_threads = True


class _Tcp(socketserver.ThreadingTCPServer):
    daemon_threads = True


def _dns_pair(attempts: int = 20) -> tuple[_Udp, _Tcp]:
    """A UDP and a TCP server on one loopback port (DNS answers over both): the UDP port comes free from the
    kernel, but its TCP twin may be another program's (on a busy machine it was), so try again."""
    for _ in range(attempts):
        udp = _Udp((LOOPBACK, 0), _DnsUdp)
        try:
            return udp, _Tcp((LOOPBACK, udp.server_address[1]), _DnsTcp)
        except OSError as exc:
            udp.server_close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, f"no loopback port free for both UDP and TCP after {attempts} tries")


class TownServices:
    """``with TownServices(workdir) as s:`` the portal at ``s.url`` and the DNS server at ``s.dns_port``."""

    def __init__(self, workdir: Path) -> None:
        self.ca_file, cert, key = make_certificate(workdir)
        self.https = _QuietHttps((LOOPBACK, 0), _Portal)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.https.socket = ctx.wrap_socket(self.https.socket, server_side=True)
        self.udp, self.tcp = _dns_pair()
        self.dns_port: int = self.udp.server_address[1]
        self.url = f"https://{LOOPBACK}:{self.https.server_address[1]}/"
        self._threads: list[threading.Thread] = []

    def stop(self, service: str) -> None:
        """Take a service down while it keeps listening, as a crashed application behind a live server does:
        ``portal`` answers 503, ``dns`` SERVFAIL (the demo's and the tests' town service outage)."""
        for server in self._servers(service):
            server.stopped = True  # type: ignore[attr-defined]

    def start(self, service: str) -> None:
        """Bring a service stopped by ``stop`` back."""
        for server in self._servers(service):
            server.stopped = False  # type: ignore[attr-defined]

    def _servers(self, service: str) -> tuple[socketserver.BaseServer, ...]:
        if service == "portal":
            return (self.https,)
        if service == "dns":
            return (self.udp, self.tcp)
        raise ValueError(f"the town has no service {service!r}: portal or dns")

    def __enter__(self) -> TownServices:
        for server in (self.https, self.udp, self.tcp):
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                                 name=f"town-service-{type(server).__name__}")
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for server in (self.https, self.udp, self.tcp):
            server.shutdown()
            server.server_close()
        for t in self._threads:
            t.join(5)
