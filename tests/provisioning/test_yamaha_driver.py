"""The Yamaha RTX driver over real SSH to the simulator: reads, changes, dry run, refusals, lost sessions."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from provisioning.drivers.base import (
    Binding,
    CliTarget,
    DeviceAuthError,
    DeviceRefused,
    DeviceUnreachable,
    ProvisioningError,
    SessionLost,
)
from provisioning.drivers.yamaha import YamahaDriver, parse_dhcp_config, render
from simulator.cli.router_state import RouterState
from simulator.cli.server import SshDeviceServer
from simulator.cli.yamaha import YamahaShell

SCOPE = (("192.168.100.2", "192.168.100.191", 24),)
SHOW = """\
# RTX1220 Rev.15.04.06 (Fri Mar  5 13:57:16 2021)
ip lan1 address 192.168.100.1/24
dhcp service server
dhcp scope 1 192.168.100.2-192.168.100.191/24 expire 24:00
dhcp scope bind 1 192.168.100.10 ethernet 00:A0:DE:12:34:56
dhcp scope bind 1 192.168.100.11 00:a0:de:12:34:57
dhcp scope lease type 1 bind-only
dhcp scope 2 10.0.0.2-10.0.0.50/24
"""


def test_parse_dhcp_config() -> None:
    scopes = parse_dhcp_config(SHOW)
    one = scopes[1]
    assert (one.first, one.last, one.bits, one.lease_type) == ("192.168.100.2", "192.168.100.191", 24, "bind-only")
    assert one.bindings == [
        Binding("192.168.100.10", "00:a0:de:12:34:56"),
        Binding("192.168.100.11", "00:a0:de:12:34:57"),
    ]
    assert scopes[2].bindings == [] and scopes[2].lease_type == ""


def test_render_is_strict() -> None:
    assert render("add_binding", scope=1, ip="192.168.100.10", mac="00:a0:de:12:34:56") == [
        "dhcp scope bind 1 192.168.100.10 ethernet 00:a0:de:12:34:56"
    ]
    assert render("remove_binding", scope=1, ip="192.168.100.10") == ["no dhcp scope bind 1 192.168.100.10"]
    with pytest.raises(ProvisioningError, match="mac"):
        render("add_binding", scope=1, ip="192.168.100.10")
    with pytest.raises(ProvisioningError, match="no verb"):
        render("reboot")


class Rtx:
    def __init__(self) -> None:
        self.state = RouterState({1: SCOPE[0]})
        self.server = SshDeviceServer(
            lambda _user: YamahaShell(self.state, admin_password="adm"), users={"noc": "pw"}, name="rtx"
        )

    def target(self, *, password: str = "pw", secret: str = "adm", port: int | None = None) -> CliTarget:
        return CliTarget(
            name="rtx-test",
            platform="yamaha",
            host="127.0.0.1",
            port=self.server.port if port is None else port,
            username="noc",
            password=SecretStr(password),
            secret=SecretStr(secret),
            timeout=5.0,
        )


@pytest.fixture(scope="module")
def module_rtx() -> Iterator[Rtx]:
    rtx = Rtx()
    with rtx.server:
        yield rtx


@pytest.fixture
def rtx(module_rtx: Rtx) -> Rtx:
    """The module's router, emptied: fresh state, no faults."""
    module_rtx.state = RouterState({1: SCOPE[0]})  # the shell factory reads it at each login
    module_rtx.server.faults.clear()
    return module_rtx


def test_read_change_save_and_transcript(rtx: Rtx) -> None:
    with YamahaDriver(rtx.target()) as driver:
        assert isinstance(driver, YamahaDriver)
        assert driver.scope_range(1) == ("192.168.100.2", "192.168.100.191")
        assert driver.bindings(1) == [] and not driver.bind_only(1)
        driver.add_binding(1, Binding("192.168.100.10", "00:a0:de:12:34:56"))
        driver.add_binding(1, Binding("192.168.100.11", "00:a0:de:12:34:57"))
        driver.remove_binding(1, Binding("192.168.100.10", "00:a0:de:12:34:56"))
        driver.set_bind_only(1)
        driver.save()
        assert driver.bindings(1) == [Binding("192.168.100.11", "00:a0:de:12:34:57")]
        assert driver.bind_only(1)
    assert rtx.state.bindings(1) == {"192.168.100.11": "00:a0:de:12:34:57"}
    assert rtx.state.saved and rtx.state.saves == 1
    commands = [e.command for e in driver.transcript.exchanges]
    assert commands == [
        "show config | grep dhcp",
        "dhcp scope bind 1 192.168.100.10 ethernet 00:a0:de:12:34:56",
        "dhcp scope bind 1 192.168.100.11 ethernet 00:a0:de:12:34:57",
        "no dhcp scope bind 1 192.168.100.10",
        "dhcp scope lease type 1 bind-only",
        "save",
        "show config | grep dhcp",
    ]
    assert driver.transcript.exchanges[5].answer == "Saving ... CONFIG0 Done."
    assert all(e.sent for e in driver.transcript.exchanges)
    assert driver.transcript.connect_seconds > 0
    # the administrator password is typed at login, never recorded: not by ftthnoc, not by the simulator
    assert "adm" not in str(driver.transcript.as_json())
    assert "administrator" in rtx.server.commands and "adm" not in rtx.server.commands
    assert "<not echoed>" in rtx.server.commands


def test_dry_run_records_changes_without_sending(rtx: Rtx) -> None:
    with YamahaDriver(rtx.target(), dry_run=True) as driver:
        assert driver.bindings(1) == []
        driver.add_binding(1, Binding("192.168.100.10", "00:a0:de:12:34:56"))
        driver.save()
    assert rtx.state.bindings(1) == {} and rtx.state.changes == 0 and rtx.state.saves == 0
    changes = driver.transcript.changes()
    assert [(e.command, e.sent) for e in changes] == [
        ("dhcp scope bind 1 192.168.100.10 ethernet 00:a0:de:12:34:56", False),
        ("save", False),
    ]
    assert not any(c.startswith("dhcp") or c == "save" for c in rtx.server.commands[-3:])


def test_refusal_carries_the_routers_words(rtx: Rtx) -> None:
    rtx.state.bind(1, "192.168.100.10", "00:a0:de:00:00:01")
    with YamahaDriver(rtx.target()) as driver, pytest.raises(DeviceRefused) as info:
        driver.add_binding(1, Binding("192.168.100.10", "00:a0:de:12:34:56"))
    assert info.value.answer == "Error: IP address 192.168.100.10 is already bound"
    assert info.value.command == "dhcp scope bind 1 192.168.100.10 ethernet 00:a0:de:12:34:56"


def test_scope_not_configured(rtx: Rtx) -> None:
    with YamahaDriver(rtx.target()) as driver, pytest.raises(ProvisioningError, match="scope 3"):
        driver.bindings(3)


def test_login_failures(rtx: Rtx) -> None:
    with pytest.raises(DeviceAuthError):
        YamahaDriver(rtx.target(password="nope")).connect()
    with pytest.raises(DeviceAuthError, match="administrator"):
        YamahaDriver(rtx.target(secret="nope")).connect()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(DeviceUnreachable):
        YamahaDriver(rtx.target(port=free)).connect()


@pytest.mark.parametrize("when", ["before", "after"])
def test_dropped_session_is_session_lost(rtx: Rtx, when: str) -> None:
    rtx.server.faults.drop(r"^dhcp scope bind", when=when)  # type: ignore[arg-type]
    driver = YamahaDriver(rtx.target())
    driver.connect()
    try:
        with pytest.raises(SessionLost):
            driver.add_binding(1, Binding("192.168.100.10", "00:a0:de:12:34:56"))
        with pytest.raises(SessionLost):
            driver.bindings(1)  # the session is gone for good
    finally:
        driver.close()
    applied = rtx.state.bindings(1) == {"192.168.100.10": "00:a0:de:12:34:56"}
    assert applied == (when == "after")
