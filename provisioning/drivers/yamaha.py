"""Yamaha RTX school routers: DHCP bindings per tablet MAC over netmiko's ``yamaha`` device type.

Vendor specifics live in data: the commands in ``ftthnoc/vendors/yamaha/cli/yamaha.yaml`` (Jinja2, one verb
-> a list of commands) and the parser of the DHCP configuration in
``ftthnoc/vendors/yamaha/cli/yamaha_show_config_dhcp.textfsm``. The class only knows how to log in,
send, time and check; a driver for another router (AlliedWare Plus, Cisco IOS) keeps the same
shape with its own template pair.

The session is ``provisioning.drivers.netmiko_session.CliSession`` (login, timing, transcript, dry
run, lost sessions). What is Yamaha's, as checked against ``simulator.cli.yamaha`` with netmiko 4.8:

* netmiko's session preparation (``console lines infinity``) works with a bare ``> `` prompt, but its
  ``enable()`` reads until the *base* prompt, which is ``>`` on an RTX without ``console prompt``
  and never appears at ``# ``: so this driver enters administrator mode itself (``administrator``,
  ``Password:``, the secret, then a prompt ending in ``#``).
* Replies are read until a prompt at the very end of the output (``NAME# ``/``# ``), whatever the
  ``console prompt``: ``show config`` starts with ``# RTX1220 Rev...`` comment lines, which netmiko's
  default ``#`` pattern would take for the prompt.
* ``close()`` never answers ``Save new configuration ? (Y/N)``: it closes the SSH session. Changes
  not followed by ``save()`` stay in the running configuration only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jinja2

from provisioning.drivers.base import (
    Binding,
    CliTarget,
    DeviceAuthError,
    ProvisioningError,
    RouterDriver,
    SessionLost,
    Transcript,
)
from provisioning.drivers.netmiko_session import CliSession, parse_textfsm
from provisioning.drivers.templates import cli_file, templates_for

PLATFORM = "yamaha"
SHOW_CONFIG_TEMPLATE = cli_file("yamaha_show_config_dhcp.textfsm")

#: a prompt at the very end of what the device has written: ``RTX1220# ``, ``# ``, ``> ``
PROMPT_AT_END = re.compile(r"(?:^|[\r\n])([\w.\-]*[#>])[ \t]*\Z")
PASSWORD_PROMPT = r"[Pp]assword:?"
#: the prompt (or a refusal and the prompt) after the administrator password
AFTER_PASSWORD = r"[#>][ \t]*$"
#: a refusal, English or Japanese locale
REFUSAL = re.compile(r"^\s*(?:Error|エラー)\s*[:：]", re.MULTILINE)


def render(verb: str, platform: str = PLATFORM, **variables: Any) -> list[str]:
    """The commands of ``verb`` from ``templates/PLATFORM.yaml``; a missing variable raises, never renders empty."""
    try:
        return templates_for(platform).render(verb, **variables)
    except KeyError as exc:
        raise ProvisioningError(f"templates/{platform}.yaml has no verb {verb!r}") from exc
    except jinja2.UndefinedError as exc:
        raise ProvisioningError(f"templates/{platform}.yaml {verb}: {exc.message}") from None


# --------------------------------------------------------------------------------------------------
# Parsing


@dataclass(slots=True)
class DhcpScopeConfig:
    """One DHCP scope as the router's configuration states it."""

    number: int
    first: str = ""
    last: str = ""
    bits: int = 0
    lease_type: str = ""  # "" = the default (bind-priority)
    bindings: list[Binding] = field(default_factory=list)


def parse_dhcp_config(text: str) -> dict[int, DhcpScopeConfig]:
    """The DHCP scopes, their bindings and lease types from ``show config`` (or its ``| grep dhcp``)."""
    scopes: dict[int, DhcpScopeConfig] = {}
    for record in parse_textfsm(SHOW_CONFIG_TEMPLATE, text):
        number = int(record["SCOPE"])
        scope = scopes.setdefault(number, DhcpScopeConfig(number))
        if record["IP"]:
            scope.bindings.append(Binding(record["IP"], record["MAC"].lower()))
        elif record["LEASE"]:
            scope.lease_type = record["LEASE"]
        elif record["FIRST"]:
            scope.first, scope.last, scope.bits = record["FIRST"], record["LAST"], int(record["BITS"])
    return scopes


# --------------------------------------------------------------------------------------------------
# The driver


class YamahaDriver(RouterDriver):
    """One administrator session to an RTX; reads always sent, changes only recorded when ``dry_run``."""

    platform = PLATFORM
    netmiko_device_type = "yamaha"

    def __init__(self, target: CliTarget, transcript: Transcript | None = None, *, dry_run: bool = False) -> None:
        super().__init__(target, transcript, dry_run=dry_run)
        self._session: CliSession | None = None
        self._config: dict[int, DhcpScopeConfig] | None = None

    # -- session ------------------------------------------------------------------------------------

    def connect(self) -> None:
        session = CliSession(
            self.target,
            self.transcript,
            dry_run=self.dry_run,
            refusal=REFUSAL,
            device_type=self.netmiko_device_type,
            prepare=self._administrator,
        )
        try:
            session.open()
        except BaseException:
            session.close()
            raise
        self._session = session

    def __enter__(self) -> YamahaDriver:
        self.connect()
        return self

    def _administrator(self, conn: Any) -> None:
        """Enter administrator mode (the password is typed, never transcribed)."""
        timeout = self.target.timeout
        conn.write_channel("administrator" + conn.RETURN)
        conn.read_until_pattern(PASSWORD_PROMPT, read_timeout=timeout)
        conn.write_channel(self.target.secret.get_secret_value() + conn.RETURN)
        out = str(conn.read_until_pattern(AFTER_PASSWORD, read_timeout=timeout))
        last = out.replace("\r", "\n").rstrip().rsplit("\n", 1)[-1]
        if not last.endswith("#"):
            raise DeviceAuthError(f"{self.target.name}: the router refused the administrator password")

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _send(self, command: str) -> str:
        if self._session is None:
            raise SessionLost(f"{self.target.name}: not connected")
        return self._session.send(command, expect=PROMPT_AT_END.pattern)

    def _change(self, verb: str, **variables: Any) -> None:
        for command in render(verb, **variables):
            if not self.dry_run:
                self._config = None  # whatever happens next, the cached configuration is stale
            self._send(command)

    # -- reads --------------------------------------------------------------------------------------

    def dhcp_config(self, *, refresh: bool = False) -> dict[int, DhcpScopeConfig]:
        """The router's DHCP scopes (read once, again after a change or when ``refresh``)."""
        if self._config is None or refresh:
            text = "\n".join(self._send(c) for c in render("show_dhcp_config"))
            self._config = parse_dhcp_config(text)
        return self._config

    def _scope(self, scope: int) -> DhcpScopeConfig:
        found = self.dhcp_config().get(scope)
        if found is None or not found.first:
            raise ProvisioningError(f"{self.target.name}: DHCP scope {scope} is not configured on the router")
        return found

    def bindings(self, scope: int) -> list[Binding]:
        return list(self._scope(scope).bindings)

    def scope_range(self, scope: int) -> tuple[str, str]:
        s = self._scope(scope)
        return s.first, s.last

    def bind_only(self, scope: int) -> bool:
        """Whether the scope gives addresses to bound MACs only."""
        return self._scope(scope).lease_type == "bind-only"

    # -- changes ------------------------------------------------------------------------------------

    def set_bind_only(self, scope: int) -> None:
        self._change("bind_only", scope=scope)

    def add_binding(self, scope: int, binding: Binding) -> None:
        self._change("add_binding", scope=scope, ip=binding.ip, mac=binding.mac)

    def remove_binding(self, scope: int, binding: Binding) -> None:
        self._change("remove_binding", scope=scope, ip=binding.ip, mac=binding.mac)

    def save(self) -> None:
        self._change("save")


__all__ = [
    "DhcpScopeConfig",
    "YamahaDriver",
    "parse_dhcp_config",
    "render",
]
