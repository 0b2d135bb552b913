"""The Yamaha RTX simulator: its command interpreter alone, then behind real SSH with netmiko's ``yamaha``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from netmiko import ConnectHandler

from simulator.cli.router_state import RouterEvent, RouterRefusal, RouterState
from simulator.cli.server import SshDeviceServer
from simulator.cli.yamaha import YamahaShell

SCOPE = {1: ("192.168.100.2", "192.168.100.191", 24)}
MAC = "00:a0:de:12:34:56"
PROMPT_END = r"(?:^|[\r\n])[\w.\-]*[#>] ?\Z"


def admin_shell(state: RouterState) -> YamahaShell:
    shell = YamahaShell(state, admin_password="adm")
    shell.handle("administrator")
    assert shell.prompt() == "Password: " and not shell.echo()
    shell.handle("adm")
    assert shell.prompt() == "# "
    return shell


# -- the interpreter ---------------------------------------------------------------------------------


def test_login_modes_and_wrong_password() -> None:
    shell = YamahaShell(RouterState(SCOPE), admin_password="adm")
    assert shell.prompt() == "> " and shell.echo()
    assert "RTX1220 Rev." in shell.banner()
    shell.handle("administrator")
    assert shell.handle("wrong").output == "Error: Password is incorrect"
    assert shell.prompt() == "> "
    named = YamahaShell(RouterState(SCOPE), prompt_name="RTX1220")
    assert named.prompt() == "RTX1220> "


def test_console_commands_accepted_in_user_mode() -> None:
    shell = YamahaShell(RouterState(SCOPE))
    for command in ("console lines infinity", "console character ascii", "console columns 200"):
        assert shell.handle(command).output == ""
    assert shell.handle("").output == ""
    assert shell.handle("frobnicate").output == "Error: Invalid command name"


def test_configuration_needs_administrator() -> None:
    state = RouterState(SCOPE)
    shell = YamahaShell(state)
    assert shell.handle(f"dhcp scope bind 1 192.168.100.10 ethernet {MAC}").output.startswith("Error:")
    assert shell.handle("show config").output.startswith("Error:")
    assert state.bindings(1) == {}


def test_bindings_show_config_and_refusals() -> None:
    state = RouterState(SCOPE)
    shell = admin_shell(state)
    assert shell.handle(f"dhcp scope bind 1 192.168.100.10 ethernet {MAC}").output == ""
    assert shell.handle("dhcp scope lease type 1 bind-only").output == ""
    config = shell.handle("show config").output.splitlines()
    assert "dhcp service server" in config
    assert "dhcp scope 1 192.168.100.2-192.168.100.191/24" in config
    assert f"dhcp scope bind 1 192.168.100.10 ethernet {MAC}" in config
    assert "dhcp scope lease type 1 bind-only" in config
    grep = shell.handle("show config | grep dhcp").output.splitlines()
    assert grep and all("dhcp" in line for line in grep)

    refusals = {
        "dhcp scope bind 1 192.168.100.10 ethernet 00:a0:de:00:00:01": (
            "Error: IP address 192.168.100.10 is already bound"
        ),
        f"dhcp scope bind 1 192.168.100.11 ethernet {MAC}": f"Error: MAC address {MAC} is already bound",
        "dhcp scope bind 1 192.168.100.250 ethernet 00:a0:de:00:00:02": "Error: IP address is out of the scope range",
        "dhcp scope bind 1 192.168.100.300 ethernet 00:a0:de:00:00:02": "Error: Invalid IP address",
        "dhcp scope bind 1 192.168.100.12 ethernet 00:a0:de:00:00": "Error: Invalid MAC address",
        "dhcp scope bind 2 10.0.0.1 ethernet 00:a0:de:00:00:02": "Error: DHCP scope 2 is not defined",
    }
    for command, answer in refusals.items():
        assert shell.handle(command).output == answer, command
    # the same binding again is no change; removing an absent one is silent
    changes = state.changes
    assert shell.handle(f"dhcp scope bind 1 192.168.100.10 ethernet {MAC}").output == ""
    assert shell.handle("no dhcp scope bind 1 192.168.100.99").output == ""
    assert state.changes == changes
    assert shell.handle("no dhcp scope bind 1 192.168.100.10").output == ""
    assert state.bindings(1) == {}


def test_exit_asks_to_save_only_when_changed() -> None:
    state = RouterState(SCOPE)
    shell = admin_shell(state)
    assert shell.handle("exit").output == "" and shell.prompt() == "> "
    shell = admin_shell(state)
    shell.handle(f"dhcp scope bind 1 192.168.100.10 ethernet {MAC}")
    assert not state.saved
    shell.handle("exit")
    assert shell.prompt() == "Save new configuration ? (Y/N)"
    assert shell.handle("Y").output == "Saving ... CONFIG0 Done."
    assert state.saved and state.saves == 1 and shell.prompt() == "> "
    assert shell.handle("exit").close


def test_state_refusal_and_listeners() -> None:
    state = RouterState(SCOPE)
    seen: list[RouterEvent] = []
    state.add_listener(seen.append)
    state.bind(1, "192.168.100.20", MAC.upper())
    state.save()
    assert [e.kind for e in seen] == ["bind", "save"]
    assert seen[0].mac == MAC
    with pytest.raises(RouterRefusal) as info:
        state.set_lease_type(1, "anything")
    assert info.value.answer == "Error: Invalid parameter"


# -- over SSH ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def router() -> Iterator[tuple[SshDeviceServer, RouterState]]:
    state = RouterState(SCOPE)
    shells = {"bare": "", "named": "RTX1220"}

    def factory(username: str) -> YamahaShell:
        return YamahaShell(state, admin_password="adm", prompt_name=shells[username])

    with SshDeviceServer(factory, users={"bare": "pw", "named": "pw"}, name="rtx") as server:
        yield server, state


def _connect(server: SshDeviceServer, username: str) -> object:
    return ConnectHandler(
        device_type="yamaha",
        host="127.0.0.1",
        port=server.port,
        username=username,
        password="pw",
        secret="adm",
        fast_cli=True,
        allow_agent=False,
        use_keys=False,
    )


def test_netmiko_yamaha_session_with_console_prompt(router: tuple[SshDeviceServer, RouterState]) -> None:
    server, state = router
    conn = _connect(server, "named")
    try:
        assert conn.base_prompt == "RTX1220"  # type: ignore[attr-defined]
        conn.enable()  # type: ignore[attr-defined]
        assert conn.check_config_mode()  # type: ignore[attr-defined]
        out = conn.send_command(  # type: ignore[attr-defined]
            f"dhcp scope bind 1 192.168.100.30 ethernet {MAC}", expect_string=PROMPT_END
        )
        assert out == ""
        config = conn.send_command("show config", expect_string=PROMPT_END)  # type: ignore[attr-defined]
        assert f"dhcp scope bind 1 192.168.100.30 ethernet {MAC}" in config
        assert "Done" in conn.save_config()  # type: ignore[attr-defined]
    finally:
        conn.disconnect()  # type: ignore[attr-defined]
    assert state.bindings(1)["192.168.100.30"] == MAC and state.saved
    assert "console lines infinity" in server.commands


def test_netmiko_session_preparation_with_bare_prompt(router: tuple[SshDeviceServer, RouterState]) -> None:
    """fakenos resets here; the simulator must let netmiko finish its preparation (DOMAIN.md section 8)."""
    server, state = router
    state.bind(1, "192.168.100.40", "00:a0:de:00:00:40")  # as if another session had bound it
    conn = _connect(server, "bare")
    try:
        assert conn.base_prompt == ">"  # type: ignore[attr-defined]
        assert conn.find_prompt() == ">"  # type: ignore[attr-defined]
        # this session sees what another one bound (shared state)
        conn.write_channel("administrator\n")  # type: ignore[attr-defined]
        conn.read_until_pattern("Password")  # type: ignore[attr-defined]
        conn.write_channel("adm\n")  # type: ignore[attr-defined]
        conn.read_until_pattern(r"# ?$")  # type: ignore[attr-defined]
        out = conn.send_command("show config | grep bind", expect_string=PROMPT_END)  # type: ignore[attr-defined]
        assert "dhcp scope bind 1 192.168.100.40 ethernet 00:a0:de:00:00:40" in out.splitlines()
    finally:
        conn.disconnect()  # type: ignore[attr-defined]
