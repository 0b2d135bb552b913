"""The trap receiver against real packets: net-snmp's snmptrap/snmpinform and raw UDP, on loopback.

Every test starts its own receiver on 127.0.0.1 and a free port, sends, and reads back the events
and counters. net-snmp runs with an empty private configuration and state directory, so nothing
on the machine (snmp.conf, persistent engine IDs) changes what is sent.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from collectors.snmp import ber
from collectors.traps import TrapConfig, TrapDevice, TrapReceiver
from ftthnoc.config import Auth
from ftthnoc.errors import ConfigError
from ftthnoc.events import DeviceEvent
from tests.waiting import wait_until_async

COMMUNITY = "noc-trap-s3cret"
SENDER_ENGINE = "80001f8880aabbccddeeff0011"  # the OLT's own engine ID (net-snmp style, enterprise 8072)
AUTHS = {
    "olt_v2": Auth(version=2, community=COMMUNITY),
    "olt_v3": Auth(version=3, username="noc", security_level="authPriv", auth_protocol="SHA256",
                   password="trap-auth-key-1", priv_protocol="AES", priv_password="trap-priv-key-1"),
    "olt_v3_sha1": Auth(version=3, username="noc-sha1", security_level="authPriv", auth_protocol="SHA",
                        password="trap-auth-key-2", priv_protocol="AES", priv_password="trap-priv-key-2"),
}
V3_SHA256 = ["-v3", "-u", "noc", "-l", "authPriv", "-a", "SHA-256", "-A", "trap-auth-key-1",
             "-x", "AES", "-X", "trap-priv-key-1"]
V3_SHA1 = ["-v3", "-u", "noc-sha1", "-l", "authPriv", "-a", "SHA", "-A", "trap-auth-key-2",
           "-x", "AES", "-X", "trap-priv-key-2"]

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
COLD_START = "1.3.6.1.6.3.1.1.5.1"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
# HUAWEI-XPON-TRAP-MIB: profile-mode ONT alarms (hwXponDeviceOntAlarmTrapsPrefix), the online notification,
# and the varbinds they carry: hwFrameIndex, hwSlotIndex, hwPortIndex (HUAWEI-DEVICE-MIB), the ONT index
# and the equipment ID, each at its table's instance
HW_ONT_LOS = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0.12"       # hwGponProfOntLOSAlarmTrap
HW_ONT_DYING_GASP = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0.18"  # hwGponProfOntDGAlarmTrap
HW_ONT_LOS_RECOVER = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0.13"  # hwGponProfOntLOSRecoverAlarmTrap
HW_ONT_ONLINE = "1.3.6.1.4.1.2011.6.128.1.1.12.3.0.3"        # hwGponProfOntVersionTrap
HW_ONT_DYING_GASP_DISTRIBUTED = "1.3.6.1.4.1.2011.5.100.1.1.31.2.2.0.18"  # hwGponOntDGAlarmTrap
HW_FRAME = "1.3.6.1.4.1.2011.6.3.3.1.1.1"  # hwFrameIndex
HW_SLOT = "1.3.6.1.4.1.2011.6.3.3.2.1.1"   # hwSlotIndex
HW_PORT = "1.3.6.1.4.1.2011.6.3.3.4.1.1"   # hwPortIndex
HW_ONT_INDEX = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.1"        # hwGponDeviceOntIndex
HW_ONT_OBJECT_INDEX = "1.3.6.1.4.1.2011.5.100.1.1.1.5.1.1"  # hwGponDeviceOntObjectIndex
HW_EQUIPMENT_ID = "1.3.6.1.4.1.2011.6.128.1.1.2.45.1.4"     # hwGponDeviceOntEquipmentId
HW_PON_0_1_0 = 4194304000 + 1 * 8192  # GPON 0/1/0


def hw_ont_alarm(frame: int, slot: int, port: int, ont: int, index: str = HW_ONT_INDEX) -> list[str]:
    """The varbinds of a HUAWEI-XPON-TRAP-MIB ONT alarm, as snmptrap arguments."""
    pon = 4194304000 + frame * 2**19 + slot * 8192 + port * 256
    return [f"{HW_FRAME}.{frame}", "i", str(frame), f"{HW_SLOT}.{frame}.{slot}", "i", str(slot),
            f"{HW_PORT}.{frame}.{slot}.{port}", "i", str(port), f"{index}.{pon}.{ont}", "i", str(ont),
            f"{HW_EQUIPMENT_ID}.{pon}.{ont}", "s", "EG8145V5"]


@pytest.fixture(scope="session")
def snmptrap() -> str:
    path = shutil.which("snmptrap")
    if path is None:
        pytest.skip("net-snmp's snmptrap is not installed (Debian package snmp)")
    return path


@pytest.fixture
def netsnmp_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "netsnmp"
    home.mkdir()
    return {**os.environ, "SNMP_PERSISTENT_DIR": str(home), "SNMPCONFPATH": str(home), "MIBS": ""}


class Rx:
    """A running receiver and what it delivered."""

    def __init__(self, receiver: TrapReceiver, events: list[DeviceEvent], env: dict[str, str]) -> None:
        self.receiver, self.events, self.env = receiver, events, env

    @property
    def target(self) -> str:
        host = self.receiver.config.host
        return f"udp6:[{host}]:{self.receiver.port}" if ":" in host else f"{host}:{self.receiver.port}"

    async def send(self, tool: str, *args: str) -> int:
        exe = shutil.which(tool)
        assert exe is not None
        proc = await asyncio.create_subprocess_exec(
            exe, "-m", "", "-t", "2", "-r", "0", *args, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await proc.communicate()
        assert proc.returncode is not None
        if proc.returncode and tool == "snmptrap":
            raise AssertionError(f"snmptrap failed: {err.decode()}")
        return proc.returncode

    async def v2c(self, trap_oid: str, *varbinds: str, community: str = COMMUNITY) -> None:
        await self.send("snmptrap", "-v2c", "-c", community, self.target, "", trap_oid, *varbinds)

    async def v3(self, auth: list[str], trap_oid: str, *varbinds: str, engine: str = SENDER_ENGINE) -> None:
        await self.send("snmptrap", *auth, "-e", f"0x{engine}", self.target, "", trap_oid, *varbinds)

    def raw(self, payload: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(payload, ("127.0.0.1", self.receiver.port))

    async def event(self, n: int = 1, timeout: float = 5.0) -> DeviceEvent:
        await until(lambda: len(self.events) >= n, timeout)
        return self.events[n - 1]

    async def dropped(self, reason: str, n: int = 1) -> None:
        await until(lambda: self.receiver.counters.dropped_count(reason) >= n)  # type: ignore[arg-type]


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    await wait_until_async(cond, timeout, "the receiver")


def trap_config(**kw: object) -> TrapConfig:
    return TrapConfig.model_validate({
        "host": "127.0.0.1", "port": 0, "communities": ["olt_v2"], "users": ["olt_v3", "olt_v3_sha1"],
        "devices": [{"name": "chiyoda-olt1", "address": "127.0.0.1", "engine_id": SENDER_ENGINE}], **kw,
    })


@pytest.fixture
async def rx(snmptrap: str, netsnmp_env: dict[str, str]) -> AsyncIterator[Rx]:
    events: list[DeviceEvent] = []
    async with TrapReceiver(trap_config(), AUTHS, events.append) as receiver:
        yield Rx(receiver, events, netsnmp_env)


def received(rx: Rx, kind: str) -> float:
    fam = {f.name: f for f in rx.receiver.families()}["ftthnoc_traps_received_total"]
    return sum(s.value for s in fam.samples if s.labels == {"kind": kind, "source": "chiyoda-olt1"})


# ------------------------------------------------------------------------------------------ v2c / v1
async def test_v2c_link_down_with_if_index(rx: Rx) -> None:
    await rx.v2c(LINK_DOWN, f"{IF_INDEX}.3", "i", "3", "1.3.6.1.2.1.2.2.1.7.3", "i", "1",
                 "1.3.6.1.2.1.2.2.1.8.3", "i", "2")
    ev = await rx.event()
    assert (ev.kind, ev.if_index, ev.source, ev.trap_oid) == ("link_down", 3, "chiyoda-olt1", LINK_DOWN)
    assert ev.olt is None and ev.onu_id is None and ev.cause is None
    assert ev.at.tzinfo is not None and ev.at.utcoffset() is not None and not ev.at.utcoffset()
    assert ev.detail["version"] == "v2c" and ev.detail["auth"] == "olt_v2" and ev.detail["rule"] == "linkDown"
    assert received(rx, "link_down") == 1
    assert COMMUNITY not in repr(ev)


async def test_link_up_without_if_index_varbind_takes_the_status_instance(rx: Rx) -> None:
    await rx.v2c("1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.8.7", "i", "1")
    ev = await rx.event()
    assert (ev.kind, ev.if_index) == ("link_up", 7)


async def test_v2c_cold_start(rx: Rx) -> None:
    await rx.v2c(COLD_START)
    ev = await rx.event()
    assert (ev.kind, ev.if_index, ev.trap_oid) == ("cold_start", None, COLD_START)
    assert "uptime_ticks" in ev.detail


async def test_v1_trap_is_translated_and_the_community_never_reaches_the_event(rx: Rx) -> None:
    # generic-trap 2 = linkDown (RFC 3584 translation), agent-addr 127.0.0.1
    await rx.send("snmptrap", "-v1", "-c", COMMUNITY, rx.target, "1.3.6.1.4.1.8072", "127.0.0.1", "2", "0", "",
                  f"{IF_INDEX}.5", "i", "5")
    ev = await rx.event()
    assert (ev.kind, ev.if_index, ev.detail["version"]) == ("link_down", 5, "v1")
    assert COMMUNITY not in repr(ev)


async def test_v2c_inform_is_answered_and_delivered(rx: Rx) -> None:
    rc = await rx.send("snmpinform", "-v2c", "-c", COMMUNITY, rx.target, "", COLD_START)
    assert rc == 0  # snmpinform exits 0 only when the receiver acknowledged
    ev = await rx.event()
    assert (ev.kind, ev.detail["pdu"]) == ("cold_start", "inform")


# ------------------------------------------------------------------------------------------ v3
async def test_v3_sha256_aes_trap(rx: Rx) -> None:
    await rx.v3(V3_SHA256, COLD_START)
    ev = await rx.event()
    assert (ev.kind, ev.source, ev.detail["version"], ev.detail["auth"]) == ("cold_start", "chiyoda-olt1", "v3",
                                                                             "olt_v3")


async def test_v3_sha1_aes128_link_down(rx: Rx) -> None:
    await rx.v3(V3_SHA1, LINK_DOWN, f"{IF_INDEX}.12", "i", "12")
    ev = await rx.event()
    assert (ev.kind, ev.if_index, ev.detail["auth"]) == ("link_down", 12, "olt_v3_sha1")


async def test_v3_inform_discovers_the_receiver_engine(rx: Rx) -> None:
    rc = await rx.send("snmpinform", *V3_SHA256, rx.target, "", COLD_START)
    assert rc == 0
    ev = await rx.event()
    assert (ev.kind, ev.detail["pdu"]) == ("cold_start", "inform")
    assert rx.receiver.counters.dropped_count() == 0  # the discovery exchange is not a drop


async def test_v3_wrong_auth_key_is_dropped_as_bad_auth(rx: Rx) -> None:
    wrong = [a if a != "trap-auth-key-1" else "not-the-auth-key" for a in V3_SHA256]
    await rx.v3(wrong, COLD_START)
    await rx.dropped("bad_auth")
    await rx.v3(V3_SHA256, COLD_START)  # and the next good one still arrives
    ev = await rx.event()
    assert ev.kind == "cold_start" and len(rx.events) == 1


async def test_v3_wrong_priv_key_is_dropped_as_bad_auth(rx: Rx) -> None:
    wrong = [a if a != "trap-priv-key-1" else "not-the-priv-key" for a in V3_SHA256]
    await rx.v3(wrong, COLD_START)
    await rx.dropped("bad_auth")
    assert rx.events == []


async def test_v3_trap_from_an_unconfigured_engine_id_is_unknown_user(rx: Rx) -> None:
    await rx.v3(V3_SHA256, COLD_START, engine="80001f8880000000000000dead")
    await rx.dropped("unknown_user")
    assert rx.events == []


# ------------------------------------------------------------------------------------------ vendor ONU traps
async def test_huawei_ont_dying_gasp(rx: Rx) -> None:
    await rx.v2c(HW_ONT_DYING_GASP, *hw_ont_alarm(0, 1, 0, 3))
    ev = await rx.event()
    assert (ev.kind, ev.cause, ev.olt, ev.pon_port, ev.onu_id) == ("onu_down", "dying_gasp", "chiyoda-olt1", "0/1/0",
                                                                    "3")
    assert ev.detail["rule"] == "hwGponProfOntDGAlarmTrap" and ev.detail["verified"] == "false"
    assert ev.trap_oid == HW_ONT_DYING_GASP and "EG8145V5" not in repr(ev)  # the equipment ID is not read
    assert received(rx, "onu_down") == 1


async def test_huawei_ont_los(rx: Rx) -> None:
    await rx.v3(V3_SHA256, HW_ONT_LOS, *hw_ont_alarm(0, 2, 15, 17))
    ev = await rx.event()
    assert (ev.kind, ev.cause, ev.pon_port, ev.onu_id) == ("onu_down", "los", "0/2/15", "17")
    assert ev.detail["rule"] == "hwGponProfOntLOSAlarmTrap"


async def test_huawei_ont_back_online(rx: Rx) -> None:
    await rx.v2c(HW_ONT_LOS_RECOVER, *hw_ont_alarm(0, 1, 0, 3))
    # ifIndex is an Integer32 by the MIB: a GPON port's (above 2^31) can only travel as its 32-bit two's
    # complement; the rule reads the port from the varbinds' instances
    await rx.v2c(HW_ONT_ONLINE, f"{IF_INDEX}.{HW_PON_0_1_0}", "i", str(HW_PON_0_1_0 - 2**32),
                 f"{HW_ONT_INDEX}.{HW_PON_0_1_0}.3", "i", "3")
    recovered, online = await rx.event(1), await rx.event(2)
    assert (recovered.kind, recovered.cause, recovered.pon_port, recovered.onu_id) == ("onu_up", None, "0/1/0", "3")
    assert (online.kind, online.cause, online.pon_port, online.onu_id) == ("onu_up", None, "0/1/0", "3")
    assert online.detail["rule"] == "hwGponProfOntVersionTrap"


async def test_huawei_distributed_mode_dying_gasp_as_a_v1_trap(rx: Rx) -> None:
    """The same alarm from HUAWEI-GPON-MIB's tree, sent as SNMPv1 (enterprise .0, specific 18: RFC 3584)."""
    await rx.send("snmptrap", "-v1", "-c", COMMUNITY, rx.target, "1.3.6.1.4.1.2011.5.100.1.1.31.2.2", "127.0.0.1",
                  "6", "18", "", *hw_ont_alarm(0, 1, 2, 40, HW_ONT_OBJECT_INDEX))
    ev = await rx.event()
    assert ev.trap_oid == HW_ONT_DYING_GASP_DISTRIBUTED
    assert (ev.kind, ev.cause, ev.pon_port, ev.onu_id) == ("onu_down", "dying_gasp", "0/1/2", "40")


async def test_zte_onu_dying_gasp(rx: Rx) -> None:
    await rx.v2c("1.3.6.1.4.1.3902.1012.3.28.0.1", "1.3.6.1.4.1.3902.1012.3.28.2.1.4.268501248.5", "i", "4")
    ev = await rx.event()
    assert (ev.kind, ev.cause, ev.pon_port, ev.onu_id) == ("onu_down", "dying_gasp", "1/1/1", "5")


async def test_unmapped_trap_is_delivered_as_other(rx: Rx) -> None:
    await rx.v2c("1.3.6.1.4.1.99999.0.1", "1.3.6.1.4.1.99999.1.1.0", "s", "household-HH-000123")
    ev = await rx.event()
    assert (ev.kind, ev.trap_oid) == ("other", "1.3.6.1.4.1.99999.0.1")
    assert "HH-000123" not in repr(ev)  # varbinds no rule names are never copied


async def test_unmapped_trap_can_be_dropped(snmptrap: str, netsnmp_env: dict[str, str]) -> None:
    events: list[DeviceEvent] = []
    async with TrapReceiver(trap_config(drop_unmapped=True), AUTHS, events.append) as receiver:
        r = Rx(receiver, events, netsnmp_env)
        await r.v2c("1.3.6.1.4.1.99999.0.1")
        await r.dropped("unmapped")
        await r.v2c(COLD_START)
        assert (await r.event()).kind == "cold_start"


# ------------------------------------------------------------------------------------------ refused
async def test_unknown_community_is_counted_and_makes_no_event(rx: Rx) -> None:
    await rx.v2c(LINK_DOWN, f"{IF_INDEX}.3", "i", "3", community="guess-public")
    await rx.dropped("unknown_community")
    await rx.v2c(COLD_START)
    await rx.event()
    assert [e.kind for e in rx.events] == ["cold_start"]
    assert rx.receiver.counters.dropped_count() == 1


async def test_garbage_and_truncated_ber_are_counted_and_the_receiver_lives_on(rx: Rx) -> None:
    rx.raw(b"\x00 this is not SNMP \xff")
    await rx.dropped("malformed", 1)
    good = ber.encode_request(COMMUNITY.encode(), 0xA7, 42, [(1, 3, 6, 1, 2, 1, 1, 3, 0)])  # a v2c trap PDU
    rx.raw(good[: len(good) - 7])  # cut inside the varbind list
    await rx.dropped("malformed", 2)
    rx.raw(b"\x30\x84\xff\xff\xff\xff\x02\x01")  # a length far beyond the datagram
    await rx.dropped("malformed", 3)
    rx.raw(good)  # well-formed BER, right community, but no snmpTrapOID.0: not a trap
    await rx.dropped("malformed", 4)
    rc = await rx.send("snmpinform", "-v2c", "-c", COMMUNITY, rx.target, "", LINK_DOWN, f"{IF_INDEX}.9", "i", "9")
    assert rc == 0  # still answering
    ev = await rx.event()
    assert (ev.kind, ev.if_index) == ("link_down", 9)
    assert rx.receiver.counters.dropped_count() == 4


async def test_a_get_sent_to_the_trap_port_is_unsupported_pdu(rx: Rx) -> None:
    rx.raw(ber.encode_request(COMMUNITY.encode(), ber.GET, 7, [(1, 3, 6, 1, 2, 1, 1, 5, 0)]))
    await rx.dropped("unsupported_pdu")
    assert rx.events == []


async def test_a_failing_consumer_does_not_stop_the_receiver(snmptrap: str, netsnmp_env: dict[str, str]) -> None:
    seen: list[DeviceEvent] = []

    def consumer(ev: DeviceEvent) -> None:
        seen.append(ev)
        if len(seen) == 1:
            raise RuntimeError("incident engine bug")

    async with TrapReceiver(trap_config(), AUTHS, consumer) as receiver:
        r = Rx(receiver, seen, netsnmp_env)
        await r.v2c(COLD_START)
        await r.v2c(LINK_DOWN, f"{IF_INDEX}.1", "i", "1")
        await r.event(2)
        assert receiver.counters.received_count() == 2


async def test_families_and_the_port_is_freed_on_stop(rx: Rx) -> None:
    await rx.v2c(COLD_START)
    await rx.event()
    fams = {f.name: f for f in rx.receiver.families()}
    assert fams["ftthnoc_traps_received_total"].type == "counter"
    assert [(s.labels, s.value) for s in fams["ftthnoc_traps_received_total"].samples] == [
        ({"kind": "cold_start", "source": "chiyoda-olt1"}, 1)]
    drops = {s.labels["reason"]: s.value for s in fams["ftthnoc_traps_dropped_total"].samples}
    assert drops["unknown_community"] == 0 and drops["bad_auth"] == 0 and drops["malformed"] == 0
    port = rx.receiver.port
    await rx.receiver.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))


async def test_unknown_source_keeps_its_address(snmptrap: str, netsnmp_env: dict[str, str]) -> None:
    events: list[DeviceEvent] = []
    config = trap_config(devices=[TrapDevice(name="oasa-olt1", address="127.0.0.2").model_dump()])
    async with TrapReceiver(config, AUTHS, events.append) as receiver:
        await Rx(receiver, events, netsnmp_env).v2c(COLD_START)
        await until(lambda: bool(events))
    assert events[0].source == "127.0.0.1"


async def test_ipv6_listener(snmptrap: str, netsnmp_env: dict[str, str]) -> None:
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()
    except OSError:
        pytest.skip("no IPv6 on this machine")
    events: list[DeviceEvent] = []
    config = trap_config(host="::1", devices=[{"name": "chiyoda-olt1", "address": "::1"}])
    async with TrapReceiver(config, AUTHS, events.append) as receiver:
        r = Rx(receiver, events, netsnmp_env)
        await r.v2c(LINK_DOWN, f"{IF_INDEX}.2", "i", "2")
        ev = await r.event()
    assert (ev.kind, ev.if_index, ev.source, ev.detail["address"]) == ("link_down", 2, "chiyoda-olt1", "::1")


async def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        config = trap_config(port=busy.getsockname()[1])
        with pytest.raises(ConfigError, match=r"cannot listen for traps on 127\.0\.0\.1"):
            await TrapReceiver(config, AUTHS, lambda ev: None).start()


async def test_the_receiver_engine_id_can_be_fixed() -> None:
    config = trap_config(engine_id="0x80001f8880010203040506")
    async with TrapReceiver(config, AUTHS, lambda ev: None) as receiver:
        assert receiver.engine_id == "80001f8880010203040506"
        assert receiver.port > 0


async def test_datagrams_the_kernel_drops_are_counted(rx: Rx) -> None:
    """A trap storm while the receiver is held up: the kernel's receive buffer overflows, and what it
    dropped shows on /metrics (read from the socket's row in /proc/net/udp)."""

    def kernel_dropped() -> float:
        fams = {f.name: f for f in rx.receiver.families()}
        return fams["ftthnoc_traps_kernel_dropped_total"].samples[0].value

    assert kernel_dropped() == 0
    payload = b"\x30\x00" + b"x" * 1000  # its size matters, not its content
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        # the loop is held by this coroutine (no await): nothing reads the receiver's socket meanwhile
        sent = 0
        while sent < 100_000:
            s.sendto(payload, ("127.0.0.1", rx.receiver.port))
            sent += 1
            if sent % 1000 == 0 and kernel_dropped() > 0:
                break
    assert kernel_dropped() > 0
    await until(lambda: rx.receiver.counters.dropped_count("malformed") > 0)  # and it lives on
