"""The SNMPv3 transport against net-snmp's own agent (``snmpd``) and tools: every auth/priv pair.

One ``snmpd`` on a loopback port, started from a generated configuration in a temporary directory, holds
a user for each pair of authentication protocol (MD5, SHA, SHA-224/256/384/512) and privacy protocol
(DES, AES, AES-192/256 with Blumenthal's key extension, AES-192-C/256-C with Reeder's), one authNoPriv
user per authentication protocol and one noAuthNoPriv user. Each is polled by ``SnmpClient`` (engine
discovery, GET, a GETBULK walk) and the answers are checked against ``snmpbulkwalk -v3`` with the same
user. net-snmp's tools offer no Reeder (``-C``) privacy protocols (``snmpget -h``: DES|AES|AES-192|
AES-256); for those pairs the reference is the agent's own answer to the Blumenthal user, and a negative
test shows the two extensions are told apart.

The refusals are checked here too: an unknown user, a wrong authentication or privacy password, a
security level the user lacks, and the two Reports a manager must recover from on its own (a stale
engine time, another engine ID).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from collectors.snmp import ber
from collectors.snmp.client import Device, SnmpClient
from ftthnoc.config import Auth, AuthProtocol, PrivProtocol
from ftthnoc.errors import SnmpAuthError, SnmpTimeout
from tests.waiting import scaled, wait_until

SNMPD = "/usr/sbin/snmpd"
#: net-snmp makes the engine ID of ``engineID TEXT``: its enterprise (8072), format 4 (text), the text
ENGINE_TEXT = "ftthnoc-usm"
ENGINE_ID = bytes.fromhex("80001f8804") + ENGINE_TEXT.encode()
AUTH_PASSWORD = "auth-pass-1234"
PRIV_PASSWORD = "priv-pass-5678"

#: the configuration's names → net-snmp's (``createUser``, ``-a``/``-x``)
NET_SNMP_AUTH: dict[AuthProtocol, str] = {
    "MD5": "MD5", "SHA": "SHA", "SHA224": "SHA-224", "SHA256": "SHA-256", "SHA384": "SHA-384",
    "SHA512": "SHA-512",
}
NET_SNMP_PRIV: dict[PrivProtocol, str] = {
    "DES": "DES", "AES": "AES", "AES192": "AES-192", "AES256": "AES-256", "AES192C": "AES-192-C",
    "AES256C": "AES-256-C",
}
#: what ``snmpget -x`` accepts here: not the Reeder ones
TOOLS_PRIV = frozenset({"DES", "AES", "AES192", "AES256"})

SYSTEM = (1, 3, 6, 1, 2, 1, 1)
IF_TABLE = (1, 3, 6, 1, 2, 1, 2, 2)
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)
SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)

PAIRS = [(a, p) for a in NET_SNMP_AUTH for p in NET_SNMP_PRIV]


def user_name(auth: str | None, priv: str | None) -> str:
    return f"{(auth or 'noauth').lower()}_{(priv or 'nopriv').lower()}"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Snmpd:
    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        self.address = f"127.0.0.1:{port}"

    def auth(self, auth: AuthProtocol | None, priv: PrivProtocol | None, **change: object) -> Auth:
        level = "authPriv" if priv else "authNoPriv" if auth else "noAuthNoPriv"
        fields: dict[str, object] = {
            "version": 3, "username": user_name(auth, priv), "security_level": level,
            "auth_protocol": auth or "SHA", "password": SecretStr(AUTH_PASSWORD),
            "priv_protocol": priv or "AES", "priv_password": SecretStr(PRIV_PASSWORD),
        }
        fields.update(change)
        return Auth.model_validate(fields)

    def device(self, auth: Auth, timeout: float = 2.0, retries: int = 1) -> Device:
        return Device("snmpd", "127.0.0.1", self.port, auth, timeout=timeout, retries=retries)

    def tool_args(self, auth: AuthProtocol | None, priv: PrivProtocol | None) -> list[str]:
        level = "authPriv" if priv else "authNoPriv" if auth else "noAuthNoPriv"
        args = ["-v3", "-u", user_name(auth, priv), "-l", level]
        if auth:
            args += ["-a", NET_SNMP_AUTH[auth], "-A", AUTH_PASSWORD]
        if priv:
            args += ["-x", NET_SNMP_PRIV[priv], "-X", PRIV_PASSWORD]
        return args


def _config(port: int) -> str:
    lines = [f"agentAddress udp:127.0.0.1:{port}", f"engineID {ENGINE_TEXT}",
             f"sysName ftthnoc-usm-{port}", "sysLocation loopback", "sysContact nobody",
             "createUser noauth_nopriv", "rouser noauth_nopriv noauth"]
    for auth, a in NET_SNMP_AUTH.items():
        lines += [f"createUser {user_name(auth, None)} {a} {AUTH_PASSWORD}", f"rouser {user_name(auth, None)} auth"]
        for priv, p in NET_SNMP_PRIV.items():
            name = user_name(auth, priv)
            lines += [f"createUser {name} {a} {AUTH_PASSWORD} {p} {PRIV_PASSWORD}", f"rouser {name} priv"]
    return "\n".join(lines) + "\n"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"net-snmp tool {name} not installed (Debian package snmp)")
    return path


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    if not Path(SNMPD).exists():
        pytest.skip(f"net-snmp's agent is not installed ({SNMPD}; Debian package snmpd)")
    snmpget = _tool("snmpget")
    directory = tmp_path_factory.mktemp("snmpd")
    port = free_udp_port()
    conf = directory / "snmpd.conf"
    conf.write_text(_config(port))
    log = directory / "snmpd.log"
    # -C: only this configuration; -f: stay in the foreground (a child we can stop); MIBs are not needed
    proc = subprocess.Popen([SNMPD, "-f", "-C", "-c", str(conf), f"--persistentDir={directory / 'state'}",
                             "-Lf", str(log), "-M", str(directory), "-m", ""],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    agent = Snmpd(port, directory)

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"snmpd exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        probe = [snmpget, "-On", "-t", "0.5", "-r", "0", *agent.tool_args("SHA", None), agent.address,
                 ".1.3.6.1.2.1.1.5.0"]
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0

    try:
        wait_until(ready, 20, "snmpd to answer SNMPv3 on loopback",
                   detail=lambda: log.read_text(errors="replace")[-2000:] if log.exists() else "")
        yield agent
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def netsnmp_walk(snmpd: Snmpd, auth: AuthProtocol | None, priv: PrivProtocol | None,
                 root: tuple[int, ...]) -> dict[tuple[int, ...], str]:
    """``snmpbulkwalk -v3`` as OID → hex of the value's content (-Ox: strings as hex, numbers as decimal)."""
    out = subprocess.run([_tool("snmpbulkwalk"), "-On", "-Oqx", "-Cr25", "-t", "5", *snmpd.tool_args(auth, priv),
                          snmpd.address, ber.format_oid(root)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    rows: dict[tuple[int, ...], str] = {}
    oid: tuple[int, ...] = ()
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("."):
            oid = ber.parse_oid(name.strip("."))
            rows[oid] = value
        else:  # a long string's hex goes on over the next lines
            rows[oid] += " " + line
    return {o: " ".join(v.strip().strip('"').split()) for o, v in rows.items()}


def comparable(rows: dict[tuple[int, ...], str]) -> dict[tuple[int, ...], str]:
    """Rows whose value does not move between two walks (sysUpTime and the counters do)."""
    keep = {(1, 3, 6, 1, 2, 1, 1, 1), (1, 3, 6, 1, 2, 1, 1, 2), (1, 3, 6, 1, 2, 1, 1, 4), (1, 3, 6, 1, 2, 1, 1, 5),
            (1, 3, 6, 1, 2, 1, 1, 6), (1, 3, 6, 1, 2, 1, 2, 2, 1, 1), (1, 3, 6, 1, 2, 1, 2, 2, 1, 2),
            (1, 3, 6, 1, 2, 1, 2, 2, 1, 3), (1, 3, 6, 1, 2, 1, 2, 2, 1, 4), (1, 3, 6, 1, 2, 1, 2, 2, 1, 6)}
    return {o: v for o, v in rows.items() if o[:-1] in keep or o[:-2] in keep}


def as_text(vb: ber.VarBind) -> str:
    """A varbind's value as ``snmpbulkwalk -Oqx`` prints it."""
    if isinstance(vb.value, bytes):
        return " ".join(f"{b:02X}" for b in vb.value)
    if isinstance(vb.value, tuple):
        return "." + ber.format_oid(vb.value)
    return str(vb.value)


async def poll(snmpd: Snmpd, auth: Auth) -> dict[tuple[int, ...], str]:
    client = SnmpClient()
    try:
        dev = snmpd.device(auth)
        rows: dict[tuple[int, ...], str] = {}
        for root in (SYSTEM, IF_TABLE):
            result = await client.walk(dev, [root])
            rows.update((vb.oid, as_text(vb)) for vb in result.columns[root])
        got = await client.get(dev, [SYS_NAME, SYS_DESCR])
        assert [vb.oid for vb in got] == [SYS_NAME, SYS_DESCR]
        assert got[0].value == f"ftthnoc-usm-{snmpd.port}".encode()
    finally:
        client.close()
    return rows


@pytest.fixture(scope="module")
def reference(snmpd: Snmpd) -> dict[tuple[int, ...], str]:
    """The agent's walk through net-snmp's own tools, as the authNoPriv SHA user."""
    rows = {**netsnmp_walk(snmpd, "SHA", None, SYSTEM), **netsnmp_walk(snmpd, "SHA", None, IF_TABLE)}
    assert len(comparable(rows)) > 8, rows
    return comparable(rows)


@pytest.mark.parametrize(("auth", "priv"), PAIRS, ids=[user_name(a, p) for a, p in PAIRS])
async def test_auth_priv_pair_polls_net_snmp_agent(snmpd: Snmpd, reference: dict[tuple[int, ...], str],
                                                   auth: AuthProtocol, priv: PrivProtocol) -> None:
    ours = comparable(await poll(snmpd, snmpd.auth(auth, priv)))
    assert ours == reference
    if priv in TOOLS_PRIV:  # the same user through net-snmp's tools gives the same rows
        assert comparable(netsnmp_walk(snmpd, auth, priv, SYSTEM)) == {
            o: v for o, v in ours.items() if o[:len(SYSTEM)] == SYSTEM}


@pytest.mark.parametrize("auth", list(NET_SNMP_AUTH))
async def test_auth_no_priv_polls_net_snmp_agent(snmpd: Snmpd, reference: dict[tuple[int, ...], str],
                                                 auth: AuthProtocol) -> None:
    assert comparable(await poll(snmpd, snmpd.auth(auth, None))) == reference


async def test_no_auth_no_priv_polls_net_snmp_agent(snmpd: Snmpd, reference: dict[tuple[int, ...], str]) -> None:
    assert comparable(await poll(snmpd, snmpd.auth(None, None))) == reference


# ----------------------------------------------------------------------------------------- refusals
async def refusal(snmpd: Snmpd, auth: Auth, timeout: float = 2.0) -> str:
    client = SnmpClient()
    start = time.monotonic()
    try:
        with pytest.raises((SnmpAuthError, SnmpTimeout)) as info:
            await client.get(snmpd.device(auth, timeout=timeout, retries=1), [SYS_NAME])
    finally:
        client.close()
    # an answer or a bounded wait, never a hang (the bound stretched with the machine's load)
    assert time.monotonic() - start < scaled(4 * timeout + 5)
    text = str(info.value)
    assert AUTH_PASSWORD not in text and PRIV_PASSWORD not in text and "wrong-pass" not in text
    return text


async def test_unknown_user_is_named(snmpd: Snmpd) -> None:
    text = await refusal(snmpd, snmpd.auth("SHA", "AES", username="nobody_here"))
    assert "knows no user 'nobody_here'" in text and "usmStatsUnknownUserNames" in text


@pytest.mark.parametrize("priv", [None, "AES"])
async def test_wrong_auth_password_is_named(snmpd: Snmpd, priv: PrivProtocol | None) -> None:
    text = await refusal(snmpd, snmpd.auth("SHA256", priv, password=SecretStr("wrong-pass-auth")))
    assert "wrong authentication password or protocol (SHA256)" in text and "usmStatsWrongDigests" in text


async def test_wrong_auth_protocol_is_a_wrong_digest(snmpd: Snmpd) -> None:
    auth = snmpd.auth("SHA", "AES", username=user_name("MD5", "AES"))
    assert "usmStatsWrongDigests" in await refusal(snmpd, auth)


@pytest.mark.parametrize("priv", ["DES", "AES", "AES256"])
async def test_wrong_priv_password_is_named(snmpd: Snmpd, priv: PrivProtocol) -> None:
    """net-snmp drops what it cannot decrypt: the one authNoPriv probe tells a wrong privacy key from a
    dead agent."""
    text = await refusal(snmpd, snmpd.auth("SHA", priv, priv_password=SecretStr("wrong-pass-priv")), timeout=0.5)
    assert f"wrong privacy password or protocol ({priv})" in text


async def test_blumenthal_and_reeder_are_told_apart(snmpd: Snmpd) -> None:
    """SHA-1 gives 20 octets and AES-256 needs 32: the two extensions differ, and the agent knows which."""
    auth = snmpd.auth("SHA", "AES256", username=user_name("SHA", "AES256C"))
    assert "wrong privacy password or protocol (AES256)" in await refusal(snmpd, auth, timeout=0.5)


async def test_security_level_the_user_lacks_is_named(snmpd: Snmpd) -> None:
    auth = snmpd.auth("SHA", "AES", username=user_name("SHA", None))
    text = await refusal(snmpd, auth)
    assert "does not accept security level authPriv" in text and "usmStatsUnsupportedSecLevels" in text


async def test_stale_engine_time_is_resynchronised_once(snmpd: Snmpd) -> None:
    client = SnmpClient()
    try:
        dev = snmpd.device(snmpd.auth("SHA", "AES"))
        assert (await client.get(dev, [SYS_NAME]))[0].tag == ber.OCTET_STRING
        state = client.engine(dev)
        true_time = state.now()
        state.time, state.latest = max(0, true_time - 100_000), max(0, true_time - 100_000)  # as after a long sleep
        assert (await client.get(dev, [SYS_NAME]))[0].value == f"ftthnoc-usm-{snmpd.port}".encode()
        assert abs(state.now() - true_time) < 10
    finally:
        client.close()


async def test_another_engine_id_is_rediscovered(snmpd: Snmpd) -> None:
    client = SnmpClient()
    try:
        dev = snmpd.device(snmpd.auth("SHA", "AES"))
        state = client.engine(dev)
        state.learn(bytes.fromhex("80001f8880") + b"old-engine", 1, 1, True)  # the OLT was replaced
        assert (await client.get(dev, [SYS_NAME]))[0].value == f"ftthnoc-usm-{snmpd.port}".encode()
        assert state.engine_id == ENGINE_ID
    finally:
        client.close()
