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
    #: reservations ftthnoc cannot manage as one address per device (an IP range or "*", an OUI wildcard,
    #: ipcp), as the configuration writes them: a scope that has any is not reconciled
    unmanaged: list[str] = field(default_factory=list)


#: the console width an RTX wraps ``show config`` lines at (80 columns: 79 characters and the newline)
WRAP_AT = 79
_HEX_OCTET = re.compile(r"[0-9a-fA-F]{1,2}")
_MAC = re.compile(r"[0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5}")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def dewrap(text: str) -> str:
    """Join the lines an RTX console wrapped. The RTX wraps at the console width (80 columns: 79
    characters, then CR LF, with no continuation mark), whatever the SSH terminal's width; an RTX1210 was
    recorded splitting ``... classless_sta`` / ``tic_route=...``. So a ``dhcp`` line of 79 characters or
    more followed by a line without "dhcp" is one configuration line (every line of ``show config | grep
    dhcp`` contains "dhcp"). A prompt (``[RTX1210] >``, ``# ``) is never a continuation: configuration
    values do not end in ``>`` or ``#``."""
    out: list[str] = []
    physical = ""  # the last physical line, whose length says whether the console wrapped it
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        tail = line.rstrip()
        if (out and out[-1].lstrip().startswith("dhcp") and len(physical) >= WRAP_AT and tail
                and "dhcp" not in line and not tail.endswith((">", "#"))):
            out[-1] += line
        else:
            out.append(line)
        physical = line
    return "\n".join(out)


def _netmask_bits(mask: str) -> int:
    """The prefix length of ``/24``, ``/255.255.255.0`` or ``/0xffffff00`` (command reference 12.1.4)."""
    if _IPV4.fullmatch(mask):
        return sum(bin(int(octet)).count("1") for octet in mask.split("."))
    if mask[:2].lower() == "0x":
        return bin(int(mask, 16)).count("1")
    return int(mask)


def _mac(text: str) -> str:
    return ":".join(f"{int(part, 16):02x}" for part in text.split(":"))


def reservation(ip: str, ident: str) -> Binding | None:
    """One ``dhcp scope bind`` line's address and client, or None when it is not one address for one device.

    Command reference 12.1.5: ``ethernet MAC`` is the Client-Identifier type 1 with the MAC, the same client
    as the octets ``01`` followed by the MAC's six (12.1.7 converts one into the other); a bare MAC names the
    client by chaddr. Each of these is the device with that MAC (``mac`` lower-case, colon form). Any other
    client identifier (``text ...``, other octets) is a device ftthnoc cannot name by MAC: its ``mac`` is
    ``client-id`` and the identifier, which no tablet's MAC equals. An address range, ``*``, an OUI
    wildcard (``00:a0:de:*``) or ``ipcp`` is not one address for one device: None.
    """
    if not _IPV4.fullmatch(ip):
        return None  # "*" (no fixed address) or a range FIRST-LAST
    words = ident.split()
    if len(words) == 2 and words[0].lower() == "ethernet" and _MAC.fullmatch(words[1]):
        return Binding(ip, _mac(words[1]))
    if len(words) == 1 and _MAC.fullmatch(words[0]):
        return Binding(ip, _mac(words[0]))
    octets = [w for word in words for w in word.split(":")]
    if octets and all(_HEX_OCTET.fullmatch(o) for o in octets):
        if len(octets) == 7 and int(octets[0], 16) == 1:
            return Binding(ip, ":".join(f"{int(o, 16):02x}" for o in octets[1:]))
        return Binding(ip, "client-id " + " ".join(f"{int(o, 16):02x}" for o in octets))
    if len(words) >= 2 and words[0].lower() == "text":
        return Binding(ip, "client-id text " + " ".join(words[1:]))
    return None  # "ipcp", an OUI wildcard, anything this parser does not know


def parse_dhcp_config(text: str) -> dict[int, DhcpScopeConfig]:
    """The DHCP scopes, their bindings and lease types from ``show config`` (or its ``| grep dhcp``)."""
    scopes: dict[int, DhcpScopeConfig] = {}
    for record in parse_textfsm(SHOW_CONFIG_TEMPLATE, dewrap(text)):
        number = int(record["SCOPE"])
        scope = scopes.setdefault(number, DhcpScopeConfig(number))
        if record["IP"]:
            found = reservation(record["IP"], record["ID"])
            if found is None:
                scope.unmanaged.append(f"dhcp scope bind {number} {record['IP']} {record['ID']}")
            else:
                scope.bindings.append(found)
        elif record["LEASE"]:
            scope.lease_type = record["LEASE"]
        elif record["FIRST"]:
            scope.first, scope.last = record["FIRST"], record["LAST"]
            scope.bits = _netmask_bits(record["NETMASK"])
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
        if found.unmanaged:
            raise ProvisioningError(
                f"{self.target.name}: DHCP scope {scope} has reservations that are not one address for one device, "
                f"which ftthnoc does not manage: {'; '.join(found.unmanaged)}; nothing was changed"
            )
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
    "dewrap",
    "parse_dhcp_config",
    "render",
    "reservation",
]
