"""The state of one simulated school router (Yamaha RTX): DHCP scopes and their MAC bindings.

One ``RouterState`` is shared by every SSH session of that router, so that a change made in one
session is seen by the next, as on a real box. Everything is guarded by one lock.

Refusals carry the device's own words (``RouterRefusal.answer``). A Japanese-locale RTX prints
``エラー: ...``; the simulator speaks the English locale (``console character ascii``). The wording
below is modelled on the RTX command reference's style and is *not* copied from a real device:

=====================================================  ==============================================
situation                                              answer
=====================================================  ==============================================
malformed address                                      ``Error: Invalid IP address``
malformed MAC                                          ``Error: Invalid MAC address``
scope number never defined                             ``Error: DHCP scope 2 is not defined``
address outside the scope's range                      ``Error: IP address is out of the scope range``
address already bound to another MAC                   ``Error: IP address 192.0.2.10 is already bound``
MAC already bound to another address in the scope      ``Error: MAC address 00:a0:de:.. is already bound``
=====================================================  ==============================================

A binding entered again unchanged is accepted without change; ``no dhcp scope bind`` of an address
that is not bound is accepted silently (as RTX accepts ``no`` of an absent setting).
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


class RouterRefusal(Exception):
    """The router refused a command; ``answer`` is what it prints (one line)."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


@dataclass(frozen=True, slots=True)
class RouterEvent:
    """A change applied to the router: ``kind`` is bind, unbind, lease, scope or save."""

    kind: str
    scope: int = 0
    ip: str = ""
    mac: str = ""


Listener = Callable[[RouterEvent], None]


@dataclass(slots=True)
class DhcpScope:
    first: str
    last: str
    bits: int
    lease_type: str = ""
    bindings: dict[str, str] = field(default_factory=dict)  # ip -> mac (lower-case colon form)

    def contains(self, ip: str) -> bool:
        return (
            int(ipaddress.IPv4Address(self.first))
            <= int(ipaddress.IPv4Address(ip))
            <= int(ipaddress.IPv4Address(self.last))
        )


_MAC = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$")


def _ip(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise RouterRefusal("Error: Invalid IP address") from None


def _mac(text: str) -> str:
    mac = text.strip().lower()
    if not _MAC.match(mac):
        raise RouterRefusal("Error: Invalid MAC address")
    return mac


def _ip_key(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))


class RouterState:
    """DHCP configuration of one router, thread-safe; ``changes`` and ``saves`` count what happened."""

    def __init__(
        self,
        scopes: dict[int, tuple[str, str, int]] | None = None,
        *,
        lan_address: str = "192.168.100.1/24",
        lease_type: str = "",
    ) -> None:
        self._lock = threading.RLock()
        self.lan_address = lan_address
        self.dhcp_server = True
        self._scopes: dict[int, DhcpScope] = {}
        for number, (first, last, bits) in (scopes or {}).items():
            self._scopes[number] = DhcpScope(_ip(first), _ip(last), bits, lease_type)
        #: effective configuration changes since start (a command that changes nothing does not count)
        self.changes = 0
        #: ``save`` commands executed
        self.saves = 0
        #: whether the running configuration equals the saved one
        self.saved = True
        self._listeners: list[Listener] = []

    # -- observation --------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def _emit(self, event: RouterEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _changed(self, event: RouterEvent) -> None:
        self.changes += 1
        self.saved = False
        self._emit(event)

    def scope_numbers(self) -> list[int]:
        with self._lock:
            return sorted(self._scopes)

    def scope(self, number: int) -> DhcpScope:
        """A copy of the scope (raises RouterRefusal when it is not defined)."""
        with self._lock:
            s = self._get(number)
            return DhcpScope(s.first, s.last, s.bits, s.lease_type, dict(s.bindings))

    def bindings(self, number: int) -> dict[str, str]:
        with self._lock:
            return dict(self._get(number).bindings)

    def _get(self, number: int) -> DhcpScope:
        try:
            return self._scopes[number]
        except KeyError:
            raise RouterRefusal(f"Error: DHCP scope {number} is not defined") from None

    # -- configuration commands ---------------------------------------------------------------------

    def define_scope(self, number: int, first: str, last: str, bits: int) -> None:
        with self._lock:
            first, last = _ip(first), _ip(last)
            if not 0 < bits <= 32 or _ip_key(first) > _ip_key(last):
                raise RouterRefusal("Error: Invalid parameter")
            old = self._scopes.get(number)
            if old is not None and (old.first, old.last, old.bits) == (first, last, bits):
                return
            self._scopes[number] = DhcpScope(
                first, last, bits, old.lease_type if old else "", dict(old.bindings) if old else {}
            )
            self._changed(RouterEvent("scope", number))

    def bind(self, number: int, ip: str, mac: str) -> None:
        with self._lock:
            scope = self._get(number)
            ip, mac = _ip(ip), _mac(mac)
            if not scope.contains(ip):
                raise RouterRefusal("Error: IP address is out of the scope range")
            current = scope.bindings.get(ip)
            if current == mac:
                return
            if current is not None:
                raise RouterRefusal(f"Error: IP address {ip} is already bound")
            if mac in scope.bindings.values():
                raise RouterRefusal(f"Error: MAC address {mac} is already bound")
            scope.bindings[ip] = mac
            self._changed(RouterEvent("bind", number, ip, mac))

    def unbind(self, number: int, ip: str) -> None:
        with self._lock:
            scope = self._get(number)
            ip = _ip(ip)
            mac = scope.bindings.pop(ip, None)
            if mac is not None:
                self._changed(RouterEvent("unbind", number, ip, mac))

    def set_lease_type(self, number: int, kind: str) -> None:
        with self._lock:
            scope = self._get(number)
            if kind not in ("bind-priority", "bind-only"):
                raise RouterRefusal("Error: Invalid parameter")
            if scope.lease_type == kind or (kind == "bind-priority" and not scope.lease_type):
                return
            scope.lease_type = "" if kind == "bind-priority" else kind  # bind-priority is the default
            self._changed(RouterEvent("lease", number))

    def save(self) -> None:
        with self._lock:
            self.saves += 1
            self.saved = True
            self._emit(RouterEvent("save"))

    # -- rendering ----------------------------------------------------------------------------------

    def config_lines(self) -> list[str]:
        """The DHCP part of ``show config``, in the order an RTX prints it."""
        with self._lock:
            lines = [f"ip lan1 address {self.lan_address}"]
            if self.dhcp_server:
                lines.append("dhcp service server")
                lines.append("dhcp server rfc2131 compliant except remain-silent")
            for number in sorted(self._scopes):
                s = self._scopes[number]
                lines.append(f"dhcp scope {number} {s.first}-{s.last}/{s.bits}")
                for ip in sorted(s.bindings, key=_ip_key):
                    lines.append(f"dhcp scope bind {number} {ip} ethernet {s.bindings[ip]}")
                if s.lease_type:
                    lines.append(f"dhcp scope lease type {number} {s.lease_type}")
            return lines
