"""The OLT drivers against the SSH simulators, over real SSH: netmiko logs in, the simulator's state
shows what the commands did. One server per vendor per module; every test gets a fresh OLT state."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from provisioning.drivers import driver_for
from provisioning.drivers.base import (
    CliTarget,
    DeviceAuthError,
    DeviceRefused,
    DeviceUnreachable,
    OltDriver,
    OntSpec,
    ServicePlan,
    SessionLost,
    Transcript,
)
from provisioning.drivers.huawei_olt import HuaweiOltDriver
from provisioning.drivers.zte_c300 import ZteC300Driver
from simulator.cli.huawei import HuaweiShell
from simulator.cli.olt_state import OltState, PluggedOnu
from simulator.cli.server import SshDeviceServer
from simulator.cli.shell import Shell
from simulator.cli.zte import ZteShell

PLAN = ServicePlan(line_profile=10, service_profile=10, vlan=100, user_vlan=100, gemport=1, onu_type="ZTE-F660")
USERS = {"noc": "olt-test-pw"}


@dataclass
class Rig:
    vendor: str
    platform: str
    server: SshDeviceServer
    holder: dict[str, OltState]
    pon: str  # a PON port of the simulated OLT
    other_pon: str
    first_id: int
    new_serial: str  # plugged, not configured
    old_serial: str  # configured at (pon, first_id) with one service port

    @property
    def state(self) -> OltState:
        return self.holder["state"]

    def target(self, *, password: str = "olt-test-pw", port: int | None = None, timeout: float = 5.0) -> CliTarget:
        return CliTarget(
            name=f"{self.vendor}-olt",
            platform=self.platform,
            host="127.0.0.1",
            port=self.server.port if port is None else port,
            username="noc",
            password=SecretStr(password),
            timeout=timeout,
        )

    def driver(self, transcript: Transcript | None = None, *, dry_run: bool = False) -> OltDriver:
        driver = driver_for(self.target(), transcript, dry_run=dry_run)
        assert isinstance(driver, OltDriver)
        return driver

    def spec(self, ont_id: int | None = None, serial: str | None = None) -> OntSpec:
        return OntSpec(
            self.pon, self.first_id + 1 if ont_id is None else ont_id, serial or self.new_serial, "HH-000123", PLAN
        )

    def reset(self) -> None:
        vendor = "huawei" if self.vendor == "huawei" else "zte"
        state = OltState(f"{self.vendor}-olt", vendor, [self.pon, self.other_pon])
        state.plug(PluggedOnu(self.pon, self.new_serial))
        state.plug(PluggedOnu(self.pon, self.old_serial))
        state.add_ont(self.pon, self.first_id, self.old_serial, 10, 10, "HH-000001", onu_type="ZTE-F660")
        state.add_service(self.pon, self.first_id, 100, 100, 1)
        state.save()
        self.holder["state"] = state
        self.server.faults.clear()


def _rig(vendor: str) -> Iterator[Rig]:
    holder: dict[str, OltState] = {}

    def factory(username: str) -> Shell:
        if vendor == "huawei":
            return HuaweiShell(holder["state"])
        return ZteShell(holder["state"])

    with SshDeviceServer(factory, users=USERS, name=vendor) as server:
        if vendor == "huawei":
            yield Rig("huawei", "huawei_olt", server, holder, "0/1/0", "0/1/1", 0, "HWTC-A1B2C3D4", "HWTC-00000001")
        else:
            yield Rig("zte", "zte_c300", server, holder, "1/1/1", "1/1/2", 1, "ZTEG-C0000002", "ZTEG-C0000001")


@pytest.fixture(scope="module")
def huawei_rig() -> Iterator[Rig]:
    yield from _rig("huawei")


@pytest.fixture(scope="module")
def zte_rig() -> Iterator[Rig]:
    yield from _rig("zte")


@pytest.fixture(params=["huawei", "zte"])
def rig(request: pytest.FixtureRequest) -> Rig:
    r: Rig = request.getfixturevalue(f"{request.param}_rig")
    r.reset()
    return r


@pytest.fixture
def hw(huawei_rig: Rig) -> Rig:
    huawei_rig.reset()
    return huawei_rig


def test_registry_picks_the_platform_driver(rig: Rig) -> None:
    driver = rig.driver()
    assert isinstance(driver, HuaweiOltDriver if rig.vendor == "huawei" else ZteC300Driver)
    assert driver.first_ont_id == rig.first_id


def test_autofind_lists_only_unconfigured_onus(rig: Rig) -> None:
    rig.state.plug(PluggedOnu(rig.other_pon, rig.new_serial[:5] + "99999999"))
    with rig.driver() as d:
        assert isinstance(d, OltDriver)
        found = sorted((e.pon_port, e.serial) for e in d.autofind())
    assert found == sorted([(rig.pon, rig.new_serial), (rig.other_pon, rig.new_serial[:5] + "99999999")])


def test_autofind_empty(rig: Rig) -> None:
    rig.state.unplug(rig.new_serial)
    with rig.driver() as d:
        assert isinstance(d, OltDriver)
        assert d.autofind() == []


def test_enrol_adds_ont_and_service_and_saves(rig: Rig) -> None:
    transcript = Transcript()
    spec = rig.spec()
    with rig.driver(transcript) as d:
        assert isinstance(d, OltDriver)
        d.add_ont(spec)
        d.add_service(spec)
        d.save()
        listed = {e.ont_id: e for e in d.onts(rig.pon)}
        found = d.find_ont(rig.new_serial)
        assert d.autofind() == []
    ont = rig.state.ont(rig.pon, spec.ont_id)
    assert ont is not None and ont.serial == rig.new_serial and ont.description == "HH-000123"
    [service] = rig.state.services_of(rig.pon, spec.ont_id)
    assert (service.vlan, service.user_vlan, service.gemport) == (100, 100, 1)
    assert rig.state.saved
    assert sorted(listed) == [rig.first_id, spec.ont_id]
    assert listed[spec.ont_id].serial == rig.new_serial and listed[spec.ont_id].run_state == "online"
    assert found is not None and (found.pon_port, found.ont_id, found.serial) == (rig.pon, spec.ont_id, rig.new_serial)
    # every exchange was sent and timed, and the login was timed too
    assert transcript.connect_seconds > 0
    assert all(e.sent and e.seconds > 0 for e in transcript.exchanges)
    assert transcript.device_seconds > transcript.connect_seconds


def test_huawei_sends_the_documented_commands(hw: Rig) -> None:
    transcript = Transcript()
    spec = hw.spec(ont_id=3)
    with hw.driver(transcript) as d:
        assert isinstance(d, OltDriver)
        d.add_ont(spec)
        d.add_service(spec)
        d.set_active(hw.pon, 3, False)
        d.set_active(hw.pon, 3, True)
        d.save()
    assert [e.command for e in transcript.exchanges] == [
        "interface gpon 0/1",
        'ont add 0 3 sn-auth 48575443A1B2C3D4 omci ont-lineprofile-id 10 ont-srvprofile-id 10 desc "HH-000123"',
        "quit",
        "service-port vlan 100 gpon 0/1/0 ont 3 gemport 1 multi-service user-vlan 100 tag-transform translate",
        "interface gpon 0/1",
        "ont deactivate 0 3",
        "quit",
        "interface gpon 0/1",
        "ont activate 0 3",
        "quit",
        "save",
    ]
    assert "success: 1" in transcript.exchanges[1].answer


def test_serial_already_configured_is_refused_in_the_devices_words(rig: Rig) -> None:
    with rig.driver() as d:
        assert isinstance(d, OltDriver)
        with pytest.raises(DeviceRefused) as refused:
            d.add_ont(rig.spec(serial=rig.old_serial))
        # the session is back in config mode: the next verb works
        assert [e.ont_id for e in d.onts(rig.pon)] == [rig.first_id]
    assert "SN already exists" in refused.value.answer
    assert "SN already exists" in str(refused.value)
    assert rig.state.ont(rig.pon, rig.first_id + 1) is None


def test_ont_id_taken_is_refused(rig: Rig) -> None:
    with rig.driver() as d, pytest.raises(DeviceRefused) as refused:
        assert isinstance(d, OltDriver)
        d.add_ont(rig.spec(ont_id=rig.first_id))
    assert "already exist" in refused.value.answer
    assert rig.state.find_serial(rig.new_serial) is None


def test_delete_services_then_ont(rig: Rig) -> None:
    with rig.driver() as d:
        assert isinstance(d, OltDriver)
        assert d.delete_services(rig.pon, rig.first_id) == 1
        assert d.delete_services(rig.pon, rig.first_id) == 0
        d.delete_ont(rig.pon, rig.first_id)
        assert d.onts(rig.pon) == []
        assert d.find_ont(rig.old_serial) is None
    assert rig.state.onts() == [] and rig.state.services() == []


def test_huawei_refuses_to_delete_an_ont_with_service_ports(hw: Rig) -> None:
    with hw.driver() as d:
        assert isinstance(d, OltDriver)
        with pytest.raises(DeviceRefused) as refused:
            d.delete_ont(hw.pon, 0)
        assert "service virtual ports" in refused.value.answer
        d.delete_services(hw.pon, 0)
        d.delete_ont(hw.pon, 0)
    assert hw.state.onts() == []


def test_suspend_and_resume(rig: Rig) -> None:
    with rig.driver() as d:
        assert isinstance(d, OltDriver)
        d.set_active(rig.pon, rig.first_id, False)
        ont = rig.state.ont(rig.pon, rig.first_id)
        assert ont is not None and not ont.active
        assert [e.run_state for e in d.onts(rig.pon)] == ["offline"]
        d.set_active(rig.pon, rig.first_id, True)
        ont = rig.state.ont(rig.pon, rig.first_id)
        assert ont is not None and ont.active
        assert [e.run_state for e in d.onts(rig.pon)] == ["online"]


def test_dry_run_sends_no_change(rig: Rig) -> None:
    transcript = Transcript()
    seen = len(rig.server.commands)
    changes = rig.state.changes
    spec = rig.spec()
    with rig.driver(transcript, dry_run=True) as d:
        assert isinstance(d, OltDriver)
        assert [e.serial for e in d.autofind()] == [rig.new_serial]  # reads still go to the device
        d.add_ont(spec)
        d.add_service(spec)
        d.delete_services(rig.pon, rig.first_id)
        d.delete_ont(rig.pon, rig.first_id)
        d.save()
    assert rig.state.changes == changes and rig.state.saved
    assert rig.state.find_serial(rig.new_serial) is None and len(rig.state.services()) == 1
    unsent = [e.command for e in transcript.exchanges if not e.sent]
    assert unsent == [e.command for e in transcript.changes()]
    sent_to_device = rig.server.commands[seen:]
    assert not (set(unsent) - {"quit", "exit"}) & set(sent_to_device)
    if rig.vendor == "huawei":
        assert unsent == [
            "interface gpon 0/1",
            'ont add 0 1 sn-auth 48575443A1B2C3D4 omci ont-lineprofile-id 10 ont-srvprofile-id 10 desc "HH-000123"',
            "quit",
            "service-port vlan 100 gpon 0/1/0 ont 1 gemport 1 multi-service user-vlan 100 tag-transform translate",
            "undo service-port 0",
            "interface gpon 0/1",
            "ont delete 0 0",
            "quit",
            "save",
        ]
    else:
        assert unsent == [
            "interface gpon-olt_1/1/1",
            "onu 2 type ZTE-F660 sn ZTEGC0000002",
            "exit",
            "interface gpon-onu_1/1/1:2",
            "name HH-000123",
            "tcont 1 profile 1G",
            "gemport 1 tcont 1",
            "exit",
            "interface gpon-onu_1/1/1:2",
            "service-port 1 vport 1 user-vlan 100 vlan 100",
            "exit",
            "pon-onu-mng gpon-onu_1/1/1:2",
            "service 1 gemport 1 vlan 100",
            "vlan port eth_0/1 mode tag vlan 100",
            "exit",
            "interface gpon-onu_1/1/1:1",
            "no service-port 1",
            "exit",
            "interface gpon-olt_1/1/1",
            "no onu 1",
            "exit",
            "write",
        ]


def test_wrong_credentials(rig: Rig) -> None:
    failed = rig.server.failed_logins
    driver = driver_for(rig.target(password="wrong"))
    with pytest.raises(DeviceAuthError) as err:
        driver.connect()
    assert "wrong" not in str(err.value)
    assert rig.server.failed_logins > failed


def test_nothing_listening() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = CliTarget("gone", "huawei_olt", "127.0.0.1", port, "noc", SecretStr("x"), timeout=2.0)
    transcript = Transcript()
    with pytest.raises(DeviceUnreachable):
        driver_for(target, transcript).connect()
    assert transcript.connect_seconds > 0


def test_drop_after_ont_add_leaves_the_ont_for_undo(rig: Rig) -> None:
    rig.server.faults.drop(r"^(ont add|onu \d+ type)", when="after")
    spec = rig.spec()
    transcript = Transcript()
    with rig.driver(transcript) as d:
        assert isinstance(d, OltDriver)
        with pytest.raises(SessionLost):
            d.add_ont(spec)
    assert rig.state.find_serial(rig.new_serial) is not None  # applied, though the driver could not know
    assert transcript.exchanges[-1].answer == ""
    # the workflow's undo on a fresh session
    with rig.driver() as d:
        assert isinstance(d, OltDriver)
        found = d.find_ont(rig.new_serial)
        assert found is not None and found.ont_id == spec.ont_id
        assert d.delete_services(rig.pon, spec.ont_id) == 0
        d.delete_ont(rig.pon, spec.ont_id)
    assert rig.state.find_serial(rig.new_serial) is None


def test_drop_before_service_port_applies_nothing(rig: Rig) -> None:
    rig.server.faults.drop(r"service-port", when="before")
    spec = rig.spec()
    with rig.driver() as d:
        assert isinstance(d, OltDriver)
        d.add_ont(spec)
        with pytest.raises(SessionLost):
            d.add_service(spec)
    assert rig.state.ont(rig.pon, spec.ont_id) is not None
    assert rig.state.services_of(rig.pon, spec.ont_id) == []


def test_slow_device_is_timed(hw: Rig) -> None:
    transcript = Transcript()
    with hw.driver(transcript) as d:
        assert isinstance(d, OltDriver)
        hw.server.faults.delay = 0.2
        d.autofind()
        hw.server.faults.delay = 0.0
    [exchange] = transcript.exchanges
    assert exchange.seconds >= 0.2


def test_silent_device_times_out_as_session_lost(hw: Rig) -> None:
    with driver_for(hw.target(timeout=0.5)) as d:
        assert isinstance(d, OltDriver)
        hw.server.faults.delay = 2.0
        with pytest.raises(SessionLost, match="no answer"):
            d.autofind()


def test_zte_enrolment_ends_with_the_onu_management_block_and_no_onu_removes_it(zte_rig: Rig) -> None:
    """Without pon-onu-mng the ONU ranges but the home has no service; `no onu` takes the block with it."""
    zte_rig.reset()
    spec = zte_rig.spec()
    with zte_rig.driver() as d:
        assert isinstance(d, ZteC300Driver)
        d.add_ont(spec)
        d.add_service(spec)
        assert d.onu_services(zte_rig.pon, spec.ont_id) == ["service 1 gemport 1 vlan 100",
                                                            "vlan port eth_0/1 mode tag vlan 100"]
        d.save()
    assert zte_rig.state.onu_config(zte_rig.pon, spec.ont_id) == ("service 1 gemport 1 vlan 100",
                                                                  "vlan port eth_0/1 mode tag vlan 100")
    assert zte_rig.state.startup.onu_configs == ((zte_rig.pon, spec.ont_id, zte_rig.state.onu_config(
        zte_rig.pon, spec.ont_id)),)
    sent = zte_rig.server.commands
    mng = sent.index(f"pon-onu-mng gpon-onu_{zte_rig.pon}:{spec.ont_id}")
    assert sent[mng + 1 : mng + 4] == ["service 1 gemport 1 vlan 100", "vlan port eth_0/1 mode tag vlan 100", "exit"]
    with zte_rig.driver() as d:
        assert d.delete_services(zte_rig.pon, spec.ont_id) == 1
        d.delete_ont(zte_rig.pon, spec.ont_id)
        d.save()
    assert zte_rig.state.ont(zte_rig.pon, spec.ont_id) is None
    assert zte_rig.state.onu_config(zte_rig.pon, spec.ont_id) == () and zte_rig.state.startup.onu_configs == ()


def test_a_refusal_inside_the_onu_management_block_returns_to_config_mode(zte_rig: Rig) -> None:
    zte_rig.reset()
    plan = ServicePlan(line_profile=10, service_profile=10, vlan=100, user_vlan=4095, onu_type="ZTE-F660")
    spec = OntSpec(zte_rig.pon, zte_rig.first_id + 1, zte_rig.new_serial, "HH-000123", plan)  # VLAN 4095: refused
    with zte_rig.driver() as d:
        d.add_ont(spec)
        with pytest.raises(DeviceRefused, match="20200"):
            d.add_service(spec)
        assert d.autofind() == []  # the session is usable again: back in config mode, not in the block
        assert d.session is not None and d.session.prompt.endswith("(config)#")
