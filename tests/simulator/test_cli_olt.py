"""The OLT simulators: the state's rules, and the shells behind real SSH (netmiko and asyncssh clients).
Output is checked with ntc-templates' own parsers, the ones real MA5800 output is tested against."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import ntc_templates
import pytest
import textfsm
from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException

from simulator.cli.huawei import HuaweiShell
from simulator.cli.olt_state import CliRefusal, OltState, PluggedOnu, serial_hex
from simulator.cli.server import SshDeviceServer
from simulator.cli.shell import Shell
from simulator.cli.zte import ZteShell
from simulator.town import generate_town
from tests.waiting import scaled

USERS = {"noc": "sim-pw"}
NTC = Path(ntc_templates.__file__).resolve().parent / "templates"


def parse(template: str, text: str) -> list[dict[str, str]]:
    with (NTC / f"{template}.textfsm").open() as handle:
        fsm = textfsm.TextFSM(handle)
    return [dict(zip(fsm.header, row, strict=True)) for row in fsm.ParseText(text + "\n")]


def huawei_state() -> OltState:
    state = OltState("olt-h", "huawei", ["0/1/0", "0/1/1"])
    state.plug(PluggedOnu("0/1/0", "HWTC-A1B2C3D4"))
    state.plug(PluggedOnu("0/1/1", "HWTC-0000BEEF", equipment="HG8010H"))
    return state


# ---------------------------------------------------------------------------- state rules


def test_serial_and_id_are_unique() -> None:
    state = huawei_state()
    state.add_ont("0/1/0", 0, "48575443A1B2C3D4", 10, 10, "HH-1")
    assert state.find_serial("HWTC-A1B2C3D4") is not None
    with pytest.raises(CliRefusal, match=r"^Failure: SN already exists$"):
        state.add_ont("0/1/1", 5, "HWTCA1B2C3D4", 10, 10, "HH-2")
    with pytest.raises(CliRefusal, match=r"^Failure: The ONT ID has already existed$"):
        state.add_ont("0/1/0", 0, "HWTC-0000BEEF", 10, 10, "HH-2")
    with pytest.raises(CliRefusal, match="port does not exist"):
        state.add_ont("0/9/0", 0, "HWTC-0000BEEF", 10, 10, "HH-2")


def test_omitted_id_takes_the_lowest_free_and_the_port_fills_up() -> None:
    state = OltState("olt-z", "zte", ["1/1/1"], max_onts_per_port=2)
    assert state.first_ont_id == 1
    assert state.add_ont("1/1/1", 2, "ZTEGC0000001", 0, 0, "").ont_id == 2
    assert state.add_ont("1/1/1", None, "ZTEGC0000002", 0, 0, "").ont_id == 1
    with pytest.raises(CliRefusal, match="reaches the maximum"):
        state.add_ont("1/1/1", None, "ZTEGC0000003", 0, 0, "")
    with pytest.raises(CliRefusal, match="Invalid ONU ID"):
        OltState("x", "zte", ["1/1/1"]).add_ont("1/1/1", 0, "ZTEGC0000003", 0, 0, "")


def test_ont_with_service_ports_cannot_be_deleted_and_indexes_are_reused() -> None:
    state = huawei_state()
    state.add_ont("0/1/0", 0, "HWTC-A1B2C3D4", 10, 10, "HH-1")
    state.add_ont("0/1/0", 1, "HWTC-0000BEEF", 10, 10, "HH-2")
    assert [state.add_service("0/1/0", i, 100, 100, 1) for i in (0, 1, 1)] == [0, 1, 2]
    with pytest.raises(CliRefusal, match="service virtual ports"):
        state.delete_ont("0/1/0", 1)
    state.delete_service(1)
    assert state.add_service("0/1/0", 0, 200, 200, 2) == 1  # lowest free index
    state.delete_ont("0/1/0", 0, cascade=True)
    assert [s.index for s in state.services()] == [2]
    with pytest.raises(CliRefusal, match="ONT does not exist"):
        state.add_service("0/1/0", 0, 100, 100, 1)


def test_autofind_saved_flag_and_listeners() -> None:
    state = huawei_state()
    heard: list[int] = []
    state.add_listener(lambda s: heard.append(s.changes))
    assert [o.serial for o in state.autofind()] == ["HWTC-A1B2C3D4", "HWTC-0000BEEF"]
    assert state.saved
    state.add_ont("0/1/0", 0, "HWTC-A1B2C3D4", 10, 10, "HH-1")
    assert [o.serial for o in state.autofind()] == ["HWTC-0000BEEF"]
    state.add_ont("0/1/0", 1, "HWTC-0000BEEF", 10, 10, "HH-stale")  # configured on the wrong port
    assert [(o.pon_port, o.serial) for o in state.autofind()] == [("0/1/1", "HWTC-0000BEEF")]
    state.delete_ont("0/1/0", 1)
    assert not state.saved and heard == [1, 2, 3]
    state.set_active("0/1/0", 0, False)
    ont = state.ont("0/1/0", 0)
    assert ont is not None and not state.online(ont)
    state.save()
    assert state.saved and state.changes == 4
    state.unplug("HWTC-0000BEEF")  # not configuration, but listeners hear of it
    assert state.saved and heard == [1, 2, 3, 4, 4]


def test_save_copies_running_to_startup_and_a_restart_loads_it() -> None:
    state = huawei_state()
    state.add_ont("0/1/0", 0, "HWTC-A1B2C3D4", 10, 10, "HH-1")
    state.add_service("0/1/0", 0, 100, 100, 1)
    assert state.startup.onts == () and not state.saved
    state.save()
    assert state.saved and state.saves == 1
    assert state.startup.find_serial("HWTC-A1B2C3D4") == state.ont("0/1/0", 0)
    assert [s.index for s in state.startup.services_of("0/1/0", 0)] == [0]
    # running changes leave the startup configuration as it was saved
    state.delete_ont("0/1/0", 0, cascade=True)
    state.add_ont("0/1/1", 3, "HWTC-0000BEEF", 10, 10, "HH-2")
    assert state.ont("0/1/0", 0) is None and state.startup.ont("0/1/0", 0) is not None
    assert state.startup.find_serial("HWTC-0000BEEF") is None
    heard: list[int] = []
    state.add_listener(lambda s: heard.append(s.changes))
    changes = state.changes
    state.reboot()  # the unsaved removal and addition are lost
    assert state.saved and heard == [changes + 1]
    assert [(o.pon_port, o.ont_id, o.serial) for o in state.onts()] == [("0/1/0", 0, "HWTC-A1B2C3D4")]
    assert [s.index for s in state.services_of("0/1/0", 0)] == [0]
    state.reboot()  # nothing unsaved: nothing to hear
    assert heard == [changes + 1]


def test_from_town_olt_configures_every_onu() -> None:
    town = generate_town(seed=7, onus=60)
    for olt in town.olts:
        state = OltState.from_town_olt(olt, vlan=300)
        onus = list(olt.onus())
        assert len(state.onts()) == len(onus) and len(state.services()) == len(onus)
        assert state.autofind() == []
        assert {s.vlan for s in state.services()} <= {300}
        assert state.first_ont_id == (0 if olt.vendor == "huawei" else 1)
        assert state.saved and len(state.startup.onts) == len(onus)  # the town's OLTs start saved
        for onu in onus[:5]:
            ont = state.find_serial(onu.serial)
            assert ont is not None and (ont.pon_port, ont.ont_id) == (onu.pon_port, onu.onu_id)


# ---------------------------------------------------------------------------- over SSH


@pytest.fixture(scope="module")
def holder() -> dict[str, OltState]:
    return {}


@pytest.fixture(scope="module")
def server(holder: dict[str, OltState]) -> Iterator[SshDeviceServer]:
    def factory(username: str) -> Shell:
        state = holder["state"]
        return HuaweiShell(state) if state.vendor == "huawei" else ZteShell(state)

    with SshDeviceServer(factory, users=USERS, name="olt-sim") as srv:
        yield srv


@pytest.fixture
def state(holder: dict[str, OltState], server: SshDeviceServer) -> OltState:
    holder["state"] = huawei_state()
    server.faults.clear()
    return holder["state"]


def netmiko_huawei(server: SshDeviceServer, password: str = "sim-pw") -> Any:
    return ConnectHandler(
        device_type="huawei_olt", host="127.0.0.1", port=server.port, username="noc", password=password,
        fast_cli=True, use_keys=False, allow_agent=False, ssh_config_file=None,
    )


def test_netmiko_huawei_session_modes_and_ntc_parsable_output(server: SshDeviceServer, state: OltState) -> None:
    conn = netmiko_huawei(server)
    try:
        assert conn.find_prompt() == "MA5800-X7>"
        conn.enable()
        assert conn.find_prompt() == "MA5800-X7#"
        conn.config_mode()
        assert conn.find_prompt() == "MA5800-X7(config)#"

        autofind = conn.send_command("display ont autofind all")
        assert autofind.rstrip().endswith("The number of GPON autofind ONT is 2")
        blocks = autofind.rstrip().rpartition("\n")[0]  # ntc's template stops before the count line
        rows = parse("huawei_smartax_display_ont_autofind", blocks)
        assert [(r["FSP"], r["SERIAL_NUMBER"], r["ONT_EQUIPMENT_ID"]) for r in rows] == [
            ("0/1/0", "48575443A1B2C3D4 (HWTC-A1B2C3D4)", "EG8145V5"),
            ("0/1/1", "485754430000BEEF (HWTC-0000BEEF)", "HG8010H"),
        ]

        out = conn.send_command("interface gpon 0/1", expect_string=r"config-if-gpon-0/1\)#")
        assert out == ""
        add = conn.send_command(
            'ont add 0 sn-auth 48575443A1B2C3D4 omci ont-lineprofile-id 10 ont-srvprofile-id 20 desc "HH-000123"'
        )
        assert parse("huawei_smartax_ont_add", add) == [{"ONTS": "1", "SUCCESS": "1", "PORT_ID": "0", "ONT_ID": "0"}]
        again = conn.send_command(
            "ont add 1 7 sn-auth HWTC-A1B2C3D4 omci ont-lineprofile-id 10 ont-srvprofile-id 20"
        )
        assert again.strip() == "Failure: SN already exists"
        conn.send_command("quit", expect_string=r"\(config\)#")
        conn.send_command(
            "service-port vlan 100 gpon 0/1/0 ont 0 gemport 1 multi-service user-vlan 100 tag-transform translate"
        )
        services = parse(
            "huawei_smartax_display_service-port_all",
            conn.send_command("display service-port all"),
        )
        columns = ("INDEX", "VLAN_ID", "ONT_ID", "GEM_INDEX", "VLAN_ACCESS", "STATE")
        assert [tuple(r[c] for c in columns) for r in services] == [("0", "100", "0", "1", "100", "up")]
        info = parse("huawei_smartax_display_ont_info_0_1", conn.send_command("display ont info 0 1 0 0"))
        assert info[0]["SERIAL_NUMBER"] == "48575443A1B2C3D4 (HWTC-A1B2C3D4)"
        assert (info[0]["RUN_STATE"], info[0]["DESCRIPTION"]) == ("online", "HH-000123")
        assert info[0]["LINE_PROFILE_ID"] == "10"
        summary = conn.send_command("display ont info summary 0/1/0")
        ont_rows = parse("huawei_smartax_display_ont_info_summary_ont", summary)
        assert [(r["ONT_ID"], r["RUN_STATE"]) for r in ont_rows] == [("0", "online")]
        sn_rows = parse("huawei_smartax_display_ont_info_summary_sn", summary)
        assert [r["SERIAL_NUMBER"] for r in sn_rows if r["ONT_ID"]] == [
            serial_hex("HWTC-A1B2C3D4")
        ]
        missing = conn.send_command("display ont info by-sn 4857544300000000")
        assert missing.strip() == "Failure: The ONT does not exist"
        unknown = conn.send_command("frobnicate now")
        assert "% Unknown command, the error locates at '^'" in unknown
        assert not state.saved and state.startup.ont("0/1/0", 0) is None  # running only, until saved
        conn.send_command("save")
        assert state.saved and state.saves == 1
        saved = state.startup.ont("0/1/0", 0)
        assert saved is not None and saved.serial == "HWTC-A1B2C3D4"
        assert [s.index for s in state.startup.services_of("0/1/0", 0)] == [0]
        conn.send_command("return", expect_string=r"X7#")
        assert conn.find_prompt() == "MA5800-X7#"
    finally:
        conn.disconnect()
    ont = state.ont("0/1/0", 0)
    assert ont is not None and ont.service_profile == 20


def test_wrong_password_is_refused_and_counted(server: SshDeviceServer, state: OltState) -> None:
    failed, opened = server.failed_logins, server.sessions_opened
    with pytest.raises(NetmikoAuthenticationException):
        netmiko_huawei(server, password="nope")
    assert server.failed_logins == failed + 1
    assert server.sessions_opened == opened


async def _shell(server: SshDeviceServer) -> tuple[asyncssh.SSHClientConnection, asyncssh.SSHClientProcess[str]]:
    conn = await asyncssh.connect(
        "127.0.0.1", server.port, username="noc", password="sim-pw", known_hosts=None, client_keys=None
    )
    process = await conn.create_process(term_type="vt100")
    return conn, process


async def _until(process: asyncssh.SSHClientProcess[str], text: str) -> str:
    return await asyncio.wait_for(process.stdout.readuntil(text), scaled(5))


async def test_line_endings_backspace_and_quit_confirmation(server: SshDeviceServer, state: OltState) -> None:
    conn, process = await _shell(server)
    async with conn:
        await _until(process, "MA5800-X7>")
        process.stdin.write("enablx\x7fe\r\n")  # backspace, then CR LF
        out = await _until(process, "MA5800-X7#")
        assert "enablx\b \be" in out  # echoed as typed
        process.stdin.write("config\r")  # CR alone
        await _until(process, "(config)#")
        process.stdin.write("interface gpon 0/1\n")  # LF alone
        await _until(process, "(config-if-gpon-0/1)#")
        process.stdin.write("quit\nquit\nquit\n")
        await _until(process, "(y/n)[n]:")
        process.stdin.write("y\n")
        rest = await asyncio.wait_for(process.stdout.read(), scaled(5))
        assert "Thank you" in rest
        await asyncio.wait_for(process.wait_closed(), scaled(5))


async def test_drop_before_applies_nothing_and_drop_after_applies(server: SshDeviceServer, state: OltState) -> None:
    commands = ["enable", "config", "interface gpon 0/1"]
    add = "ont add 0 4 sn-auth HWTC-A1B2C3D4 omci ont-lineprofile-id 10 ont-srvprofile-id 10"
    for when, applied in (("before", False), ("after", True)):
        server.faults.drop(r"^ont add", when=when)  # type: ignore[arg-type]
        conn, process = await _shell(server)
        async with conn:
            await _until(process, ">")
            for command in commands:
                process.stdin.write(command + "\n")
                await _until(process, "#")
            process.stdin.write(add + "\n")
            rest = await asyncio.wait_for(process.stdout.read(), scaled(5))
            assert "success" not in rest  # the answer never arrives
        assert (state.ont("0/1/0", 4) is not None) is applied


async def test_exec_is_refused_and_sessions_are_counted(server: SshDeviceServer, state: OltState) -> None:
    opened, refused = server.sessions_opened, server.exec_refused
    async with asyncssh.connect(
        "127.0.0.1", server.port, username="noc", password="sim-pw", known_hosts=None, client_keys=None
    ) as conn:
        result = await conn.run("display version", check=False)
        assert result.exit_status == 1
    assert server.exec_refused == refused + 1 and server.sessions_opened == opened


async def test_delay_holds_the_answer(server: SshDeviceServer, state: OltState) -> None:
    conn, process = await _shell(server)
    async with conn:
        await _until(process, ">")
        server.faults.delay = 0.3
        loop = asyncio.get_running_loop()
        started = loop.time()
        process.stdin.write("enable\n")
        await _until(process, "#")
        assert loop.time() - started >= 0.3
        server.faults.delay = 0.0


async def test_zte_prompts_and_tables(server: SshDeviceServer, holder: dict[str, OltState]) -> None:
    state = OltState("olt-z", "zte", ["1/1/1", "1/1/2"])
    state.plug(PluggedOnu("1/1/1", "ZTEGC0000001"))
    holder["state"] = state
    conn, process = await _shell(server)
    async with conn:

        async def say(command: str, prompt: str) -> str:
            process.stdin.write(command + "\n")
            out = await _until(process, prompt)
            return out.replace("\r\n", "\n").split("\n", 1)[1].rpartition("\n")[0]

        await _until(process, "ZXAN#")
        assert "gpon-onu_1/1/1:1         ZTEGC0000001        unknown" in await say("show gpon onu uncfg", "ZXAN#")
        assert await say("configure terminal", "ZXAN(config)#")
        await say("interface gpon-olt_1/1/1", "ZXAN(config-if)#")
        assert await say("onu 5 type ZTE-F660 sn ZTEGC0000001", "ZXAN(config-if)#") == "[Successful]"
        assert "SN already exists" in await say("onu 6 type ZTE-F660 sn ZTEGC0000001", "ZXAN(config-if)#")
        await say("exit", "ZXAN(config)#")
        await say("interface gpon-onu_1/1/1:5", "ZXAN(config-if)#")
        await say("service-port 1 vport 1 user-vlan 100 vlan 100", "ZXAN(config-if)#")
        await say("shutdown", "ZXAN(config-if)#")
        await say("exit", "ZXAN(config)#")
        await say("pon-onu-mng gpon-onu_1/1/1:5", "ZXAN(gpon-onu-mng 1/1/1:5)#")
        assert await say("service 1 gemport 1 vlan 100", "ZXAN(gpon-onu-mng 1/1/1:5)#") == ""
        assert await say("vlan port eth_0/1 mode tag vlan 100", "ZXAN(gpon-onu-mng 1/1/1:5)#") == ""
        assert "%Error 20200" in await say("vlan port eth_0/1 mode tag vlan 4095", "ZXAN(gpon-onu-mng 1/1/1:5)#")
        await say("end", "ZXAN#")
        block = await say("show onu running config gpon-onu_1/1/1:5", "ZXAN#")
        assert block.split("\n") == ["pon-onu-mng gpon-onu_1/1/1:5", "  service 1 gemport 1 vlan 100",
                                     "  vlan port eth_0/1 mode tag vlan 100", "!"]
        assert await say("show gpon onu uncfg", "ZXAN#") == "%Code 62310-GPONSRV : No related information to show."
        table = await say("show gpon onu state gpon-olt_1/1/1", "ZXAN#")
        assert "1/1/1:5    disable      disable     disable      1(GPON)" in table
        assert "gpon-onu_1/1/1:5" in await say("show gpon onu by sn ZTEGC0000001", "ZXAN#")
        assert "%Error 20200" in await say("bogus", "ZXAN#")
        assert state.startup.ont("1/1/1", 5) is None and not state.saved  # running only, until written
        assert "[OK]" in await say("write", "ZXAN#")
        saved = state.startup.ont("1/1/1", 5)
        assert saved is not None and not saved.active
        assert [(s.local, s.vlan) for s in state.startup.services_of("1/1/1", 5)] == [(1, 100)]
        assert state.startup.onu_configs == (("1/1/1", 5, state.onu_config("1/1/1", 5)),)
        await say("configure terminal", "ZXAN(config)#")
        await say("interface gpon-olt_1/1/1", "ZXAN(config-if)#")
        assert await say("no onu 5", "ZXAN(config-if)#") == "[Successful]"
        assert state.onu_config("1/1/1", 5) == ()  # the management block went with the ONU
        state.reboot()  # not written: the saved configuration brings all of it back
        assert state.onu_config("1/1/1", 5) == ("service 1 gemport 1 vlan 100", "vlan port eth_0/1 mode tag vlan 100")
    ont = state.ont("1/1/1", 5)
    assert ont is not None and not ont.active and ont.onu_type == "ZTE-F660"
    assert [(s.local, s.vlan) for s in state.services_of("1/1/1", 5)] == [(1, 100)]
    assert state.saved
