"""What every provisioning driver offers, so that workflows never see netmiko or a vendor's CLI.

A driver holds one CLI session to one device. Every command it sends and every answer it reads is
appended to its ``Transcript``: the audit stores it, dry runs print it, and the enrolment benchmark
adds up the time spent waiting on the device from it. Reads (autofind, ONT lists, bindings) are always
sent; changes are refused by a driver opened with ``dry_run=True``, which records the command as it
would have been sent instead (``Exchange.sent`` false) and answers as if it had succeeded.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import ClassVar, Self

from pydantic import SecretStr

from ftthnoc import vendors
from ftthnoc.errors import FtthnocError


class ProvisioningError(FtthnocError):
    """A provisioning step failed; ``str()`` is one line for support staff."""


class DeviceUnreachable(ProvisioningError):
    """No SSH session could be opened (refused, timed out, no route)."""


class DeviceAuthError(ProvisioningError):
    """The device refused the credentials."""


class SessionLost(ProvisioningError):
    """The session dropped while a command was in flight: whether the device applied it is unknown."""


class DeviceRefused(ProvisioningError):
    """The device answered a command with an error; ``answer`` holds its own words."""

    def __init__(self, device: str, command: str, answer: str) -> None:
        words = " ".join(answer.split())
        super().__init__(f"{device} refused {command!r}: {words}")
        self.device = device
        self.command = command
        self.answer = answer


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command and the device's answer; ``seconds`` is the time spent waiting for that answer."""

    command: str
    answer: str
    seconds: float
    sent: bool = True


@dataclass(slots=True)
class Transcript:
    """Everything said to one or more devices during a workflow, in order."""

    exchanges: list[Exchange] = field(default_factory=list)
    #: time spent opening sessions (SSH handshake, login, session preparation)
    connect_seconds: float = 0.0

    def add(self, command: str, answer: str, seconds: float, sent: bool = True) -> Exchange:
        ex = Exchange(command, answer, seconds, sent)
        self.exchanges.append(ex)
        return ex

    @property
    def device_seconds(self) -> float:
        return self.connect_seconds + sum(e.seconds for e in self.exchanges)

    def changes(self) -> list[Exchange]:
        """The exchanges that are not reads (what a dry run would have sent)."""
        return [e for e in self.exchanges if not e.sent or not _is_read(e.command)]

    def as_json(self) -> list[dict[str, object]]:
        return [
            {"command": e.command, "answer": e.answer, "seconds": round(e.seconds, 4), "sent": e.sent}
            for e in self.exchanges
        ]


_READ_PREFIXES = ("display ", "show ", "dis ")


def _is_read(command: str) -> bool:
    return command.strip().startswith(_READ_PREFIXES)


@dataclass(frozen=True, slots=True)
class CliTarget:
    """Where and how to log in to a device's CLI. The password never reaches a log or the audit."""

    name: str
    platform: str
    host: str
    port: int
    username: str
    password: SecretStr
    #: enable/administrator password where the platform asks for one
    secret: SecretStr = field(default_factory=lambda: SecretStr(""))
    timeout: float = 20.0


class Driver(ABC):
    """One CLI session to one device, opened by ``connect()`` or ``with``."""

    platform: ClassVar[str]

    def __init__(self, target: CliTarget, transcript: Transcript | None = None, *, dry_run: bool = False) -> None:
        self.target = target
        self.transcript = transcript if transcript is not None else Transcript()
        self.dry_run = dry_run

    @abstractmethod
    def connect(self) -> None:
        """Open the session; raises DeviceUnreachable or DeviceAuthError."""

    @abstractmethod
    def close(self) -> None:
        """Close the session; never raises."""

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class AutofindEntry:
    """An ONU the OLT sees on a PON port but has not been told to serve."""

    pon_port: str  # F/S/P as the OLT prints it
    serial: str  # normalised, e.g. HWTC-A1B2C3D4
    equipment: str = ""


@dataclass(frozen=True, slots=True)
class OntEntry:
    """An ONU configured on the OLT."""

    pon_port: str
    ont_id: int
    serial: str
    run_state: str = ""  # "online" / "offline" / "" when not printed
    description: str = ""


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """What a subscription plan means on an OLT: profiles, VLANs, and ZTE's ONU type and T-CONT."""

    line_profile: int
    service_profile: int
    vlan: int
    user_vlan: int
    gemport: int = 1
    onu_type: str = "ZTE-F660"
    tcont_profile: str = "1G"


@dataclass(frozen=True, slots=True)
class OntSpec:
    """One ONU to add."""

    pon_port: str
    ont_id: int
    serial: str
    description: str  # the household code: never a name
    plan: ServicePlan


class OltDriver(Driver):
    """An OLT's provisioning verbs; commands come from the platform's template file, and the ONT ids a
    PON port offers from the vendor pack whose ``cli_platform`` this driver is."""

    @property
    def first_ont_id(self) -> int:
        return vendors.olt_for_platform(self.platform).first_ont_id.value

    @property
    def max_onts_per_port(self) -> int:
        facts = vendors.olt_for_platform(self.platform)
        return facts.last_ont_id.value - facts.first_ont_id.value + 1

    @abstractmethod
    def autofind(self) -> list[AutofindEntry]: ...

    @abstractmethod
    def onts(self, pon_port: str) -> list[OntEntry]:
        """The ONTs configured on a port (their ids are taken)."""

    @abstractmethod
    def find_ont(self, serial: str) -> OntEntry | None:
        """The ONT with this serial anywhere on the OLT, or None."""

    @abstractmethod
    def add_ont(self, spec: OntSpec) -> None:
        """Authorise the ONT by serial with the plan's profiles; raises DeviceRefused with the OLT's words."""

    @abstractmethod
    def add_service(self, spec: OntSpec) -> None:
        """Give the ONT its service port(s) on the plan's VLAN."""

    @abstractmethod
    def delete_services(self, pon_port: str, ont_id: int) -> int:
        """Remove every service port of the ONT; returns how many were removed."""

    @abstractmethod
    def delete_ont(self, pon_port: str, ont_id: int) -> None: ...

    @abstractmethod
    def set_active(self, pon_port: str, ont_id: int, active: bool) -> None:
        """Suspend (deactivate) or resume (activate) an ONT without forgetting it."""

    @abstractmethod
    def save(self) -> None:
        """Make the running configuration survive a reboot."""


@dataclass(frozen=True, slots=True)
class Binding:
    """A DHCP binding on a school router: this MAC gets this address, and nobody else gets one."""

    ip: str
    mac: str  # lower-case colon form


class RouterDriver(Driver):
    """A school router's DHCP bindings (only registered tablets get addresses)."""

    @abstractmethod
    def bindings(self, scope: int) -> list[Binding]: ...

    @abstractmethod
    def scope_range(self, scope: int) -> tuple[str, str]:
        """First and last address the scope hands out."""

    @abstractmethod
    def add_binding(self, scope: int, binding: Binding) -> None: ...

    @abstractmethod
    def remove_binding(self, scope: int, binding: Binding) -> None: ...

    @abstractmethod
    def save(self) -> None: ...


@dataclass(slots=True)
class Stopwatch:
    """Times a block: ``with Stopwatch() as w: ...; w.seconds``."""

    seconds: float = 0.0
    _t0: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


def chunks(text: str) -> Iterator[str]:
    """Non-empty lines of a device answer, right-stripped."""
    for line in text.splitlines():
        if line.strip():
            yield line.rstrip()
