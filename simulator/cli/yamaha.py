"""A Yamaha RTX school router's command line, enough for netmiko's ``yamaha`` device type and DHCP bindings.

Modes as on an RTX: after SSH login the prompt is ``> `` (general user); ``administrator`` asks
``Password: `` and gives ``# ``; ``exit`` in administrator mode asks ``Save new configuration ? (Y/N)``
when the running configuration was changed and not saved, then returns to ``> ``; ``exit`` at ``> ``
ends the session. ``console prompt`` (a name before ``>``/``#``) is a constructor argument, default
none, which is the factory setting.

Commands understood (everything else answers ``Error: Invalid command name``):

* ``console lines infinity|N``, ``console character ascii|sjis|euc|utf8``, ``console columns N``
  (netmiko's session preparation sends the first)
* ``administrator``, ``exit``/``quit``, ``save``
* ``show config [| grep WORD]``, ``show status dhcp``, ``show environment``
* ``dhcp scope N FIRST-LAST/BITS``, ``dhcp scope bind N IP ethernet MAC`` (also without ``ethernet``),
  ``no dhcp scope bind N IP [...]``, ``dhcp scope lease type N bind-only|bind-priority``

Configuration commands and ``show config`` at ``> `` answer ``Error: Administrator privilege required``
(wording not checked against a real RTX). A wrong administrator password answers
``Error: Password is incorrect`` (likewise).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from simulator.cli.router_state import RouterRefusal, RouterState
from simulator.cli.shell import Reply

Mode = Literal["user", "password", "admin", "confirm"]

INVALID_COMMAND = "Error: Invalid command name"
NEED_ADMIN = "Error: Administrator privilege required"
BAD_PASSWORD = "Error: Password is incorrect"
BAD_PARAMETER = "Error: Invalid parameter"

_SCOPE = re.compile(r"^dhcp scope (\d+) (\S+)-(\S+)/(\d+)(?: .*)?$")
_BIND = re.compile(r"^dhcp scope bind (\d+) (\S+) (?:ethernet )?(\S+)$")
_UNBIND = re.compile(r"^no dhcp scope bind (\d+) (\S+)(?: .*)?$")
_LEASE = re.compile(r"^dhcp scope lease type (\d+) (\S+)(?: .*)?$")
_CONSOLE = re.compile(r"^console (?:lines (?:infinity|\d+)|character (?:ascii|sjis|euc|utf8)|columns \d+)$")
_SHOW_CONFIG = re.compile(r"^show config(?:\s*\|\s*grep (.+))?$")


class YamahaShell:
    """One CLI session of a simulated RTX; state lives in the shared ``RouterState``."""

    def __init__(
        self,
        state: RouterState,
        hostname: str = "RTX1220",
        admin_password: str = "admin-secret",
        *,
        prompt_name: str = "",
        revision: str = "Rev.15.04.06 (Fri Mar  5 13:57:16 2021)",
    ) -> None:
        self.state = state
        self.hostname = hostname
        self._admin_password = admin_password
        self.prompt_name = prompt_name
        self.revision = revision
        self.mode: Mode = "user"

    # -- Shell protocol -----------------------------------------------------------------------------

    def banner(self) -> str:
        return (
            f"\n{self.hostname} {self.revision}\n"
            "Copyright (c) 1994-2021 Yamaha Corporation. All Rights Reserved.\n"
            "To display the software copyright statement, use 'show copyright' command.\n"
            "00:a0:de:00:00:01, 00:a0:de:00:00:02, 00:a0:de:00:00:03\n"
            "Memory 256Mbytes, 3LAN, 1BRI\n"
        )

    def prompt(self) -> str:
        if self.mode == "password":
            return "Password: "
        if self.mode == "confirm":
            return "Save new configuration ? (Y/N)"
        return f"{self.prompt_name}{'#' if self.mode == 'admin' else '>'} "

    def echo(self) -> bool:
        return self.mode != "password"

    def handle(self, line: str) -> Reply:
        if self.mode == "password":
            self.mode = "admin" if line.rstrip("\r\n") == self._admin_password else "user"
            return Reply("" if self.mode == "admin" else BAD_PASSWORD)
        command = " ".join(line.split())
        if self.mode == "confirm":
            return self._confirm(command)
        if not command:
            return Reply("")
        try:
            return self._command(command)
        except RouterRefusal as exc:
            return Reply(exc.answer)

    # -- commands -----------------------------------------------------------------------------------

    def _confirm(self, answer: str) -> Reply:
        if answer.lower() in ("y", "yes"):
            self.state.save()
            self.mode = "user"
            return Reply("Saving ... CONFIG0 Done.")
        if answer.lower() in ("n", "no"):
            self.mode = "user"
            return Reply("")
        return Reply("")  # asks again

    def _command(self, command: str) -> Reply:
        admin = self.mode == "admin"
        if _CONSOLE.match(command):
            return Reply("")
        if command == "administrator":
            if admin:
                return Reply(INVALID_COMMAND)
            self.mode = "password"
            return Reply("")
        if command in ("exit", "quit"):
            if not admin:
                return Reply("", close=True)
            self.mode = "user" if self.state.saved else "confirm"
            return Reply("")
        if command == "show environment":
            return Reply(
                f"{self.hostname} BootROM Ver. 1.04\n{self.hostname} FlashROM Table Ver. 1.02\n{self.revision}"
            )
        if command == "show status dhcp":
            return Reply(self._status_dhcp())
        show = _SHOW_CONFIG.match(command)
        if show:
            if not admin:
                return Reply(NEED_ADMIN)
            return Reply(self._show_config(show.group(1)))
        if command == "save":
            if not admin:
                return Reply(NEED_ADMIN)
            self.state.save()
            return Reply("Saving ... CONFIG0 Done.")
        for pattern, apply in (
            (_BIND, self._bind),
            (_UNBIND, self._unbind),
            (_LEASE, self._lease),
            (_SCOPE, self._scope),
        ):
            m = pattern.match(command)
            if m:
                if not admin:
                    return Reply(NEED_ADMIN)
                apply(m)
                return Reply("")
        return Reply(INVALID_COMMAND)

    def _bind(self, m: re.Match[str]) -> None:
        self.state.bind(int(m.group(1)), m.group(2), m.group(3))

    def _unbind(self, m: re.Match[str]) -> None:
        self.state.unbind(int(m.group(1)), m.group(2))

    def _lease(self, m: re.Match[str]) -> None:
        self.state.set_lease_type(int(m.group(1)), m.group(2))

    def _scope(self, m: re.Match[str]) -> None:
        self.state.define_scope(int(m.group(1)), m.group(2), m.group(3), int(m.group(4)))

    def _show_config(self, grep: str | None) -> str:
        header = [
            f"# {self.hostname} {self.revision}",
            "# MAC Address : 00:a0:de:00:00:01, 00:a0:de:00:00:02, 00:a0:de:00:00:03",
            "# Memory 256Mbytes, 3LAN, 1BRI",
            "# Reporting Date: Apr 1 09:00:00 2025",
            "login user noc *",
            "administrator password *",
            "console character ascii",
        ]
        lines = [*header, *self.state.config_lines(), "dns server 192.168.100.1", "sshd service on"]
        if grep is not None:
            word = grep.strip()
            lines = [line for line in lines if word in line]
        return "\n".join(lines)

    def _status_dhcp(self) -> str:
        out: list[str] = []
        for number in self.state.scope_numbers():
            scope = self.state.scope(number)
            network = ipaddress.IPv4Network(f"{scope.first}/{scope.bits}", strict=False)
            usable = int(ipaddress.IPv4Address(scope.last)) - int(ipaddress.IPv4Address(scope.first)) + 1
            out += [
                f"DHCP Scope number: {number}",
                f"        Network address: {network.network_address}",
                "        Leased: 0",
                f"        Usable: {usable}",
                f"        Bound: {len(scope.bindings)}",
            ]
        return "\n".join(out)
