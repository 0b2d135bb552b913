"""The Yamaha RTX driver over real SSH to the simulator: reads, changes, dry run, refusals, lost sessions."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
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
from provisioning.drivers.yamaha import YamahaDriver, dewrap, parse_dhcp_config, render
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


GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "vendors" / "yamaha" / "cli" / "yamaha"
TRANSCRIPTS = sorted(GOLDEN.glob("*.txt"))


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[t.stem for t in TRANSCRIPTS])
def test_golden_transcripts_parse_as_their_source_says(transcript: Path) -> None:
    """Transcripts we did not make (a live RTX1210's session, the command reference's examples, a
    published configuration), with the parse written by hand: ``tests/fixtures/vendors/yamaha/README.md``."""
    expected = yaml.safe_load(transcript.with_suffix(".expected.yaml").read_text(encoding="utf-8"))["scopes"]
    scopes = parse_dhcp_config(transcript.read_bytes().decode("utf-8"))
    assert sorted(scopes) == sorted(expected)
    for number, want in expected.items():
        got = scopes[number]
        assert (got.first, got.last, got.bits, got.lease_type) == (
            want["first"], want["last"], want["bits"], want["lease_type"])
        assert [(b.ip, b.mac) for b in got.bindings] == [tuple(b) for b in want["bindings"]]
        assert got.unmanaged == want["unmanaged"]


def test_every_netmask_form_of_the_command_reference() -> None:
    for mask in ("24", "255.255.255.0", "0xffffff00", "0XFFFFFF00"):
        [scope] = parse_dhcp_config(f"dhcp scope 3 10.1.0.2-10.1.0.200/{mask} expire 24:00\n").values()
        assert (scope.first, scope.last, scope.bits) == ("10.1.0.2", "10.1.0.200", 24), mask


def test_a_wrapped_client_id_reservation_is_joined_and_a_prompt_never_is() -> None:
    line = "dhcp scope bind 1 192.168.182.100 ff 6b 84 6a ce 00 02 00 00 ab 11 04 7f eb 92 af 0e 50 a6"
    wrapped = line[:79] + "\r\n" + line[79:] + "\r\n"  # the console's 80 columns: 79 characters, CR LF
    assert dewrap(wrapped).split("\n")[0] == line
    [scope] = parse_dhcp_config(wrapped + "dhcp scope 1 192.168.182.2-192.168.182.254/24\r\n").values()
    assert scope.bindings == [Binding("192.168.182.100", "client-id " + line.split(" ", 5)[5])]
    exact = "dhcp scope bind 1 192.168.182.101 " + "01 " * 14 + "012"  # 79 characters, not wrapped
    assert len(exact) == 79 and dewrap(exact + "\r\n[RTX1210] >").split("\n") == [exact, "[RTX1210] >"]


def test_reservations_ftthnoc_cannot_manage_stop_the_scope_not_the_parse() -> None:
    scopes = parse_dhcp_config(
        "dhcp scope 1 192.168.100.2-192.168.100.191/24\n"
        "dhcp scope bind 1 192.168.100.10 ethernet 00:a0:de:12:34:56\n"
        "dhcp scope bind 1 * ethernet 00:a0:de:12:34:58\n"
        "dhcp scope bind 1 192.168.100.20 ipcp\n")
    assert scopes[1].bindings == [Binding("192.168.100.10", "00:a0:de:12:34:56")]
    assert scopes[1].unmanaged == ["dhcp scope bind 1 * ethernet 00:a0:de:12:34:58",
                                   "dhcp scope bind 1 192.168.100.20 ipcp"]
    driver = YamahaDriver(CliTarget(name="es-1-rtx", platform="yamaha", host="127.0.0.1", port=1, username="u",
                                    password=SecretStr("p")), dry_run=True)
    driver._config = scopes
    with pytest.raises(ProvisioningError, match=r"not one address for one device.*nothing was changed"):
        driver.bindings(1)


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
