"""Huawei MA5800 / MA5600T over netmiko's ``huawei_olt`` (SmartAX) class.

Commands come from ``templates/huawei_olt.yaml``; answers are parsed with ntc-templates' SmartAX
parsers. ``ont add`` is judged by its success count (``success: 1``), never by a word, and any
``Failure:`` or ``% `` line is a refusal carrying the OLT's own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from ftthnoc.normalise import normalise_serial
from provisioning.drivers.base import AutofindEntry, DeviceRefused, OntEntry, OntSpec
from provisioning.drivers.netmiko_session import (
    CliSession,
    NetmikoOltDriver,
    cli_word,
    ntc_template,
    parse_textfsm,
)

_AUTOFIND_TRAILER = re.compile(r"(?m)^\s*The number of GPON autofind ONT is \d+\s*$")
_NO_AUTOFIND = "The automatically found ONTs do not exist"
_NO_ONT = "The ONT does not exist"
_NO_SERVICE = "No service virtual port can be operated"


def serial_hex(serial: str) -> str:
    """``HWTC-A1B2C3D4`` → ``48575443A1B2C3D4``, the form ``sn-auth`` takes."""
    vendor, _, rest = normalise_serial(serial).partition("-")
    return vendor.encode("ascii").hex().upper() + rest


_PRINTED = re.compile(r"\(([^()]+)\)")


def _serial_of(printed: str) -> str:
    """``48575443A1B2C3D4 (HWTC-A1B2C3D4)`` or ``48575443A1B2C3D4`` → ``HWTC-A1B2C3D4``. A serial that is
    no GPON serial in either form (a recording with the serial scrubbed) stays as the OLT printed it: the
    ONT is there, and a row is never dropped or the whole answer refused for its serial's spelling."""
    for form in (printed.split()[0] if printed.split() else "", *_PRINTED.findall(printed)):
        try:
            return normalise_serial(form)
        except ValueError:
            continue
    return printed.split()[0] if printed.split() else printed


def _fsp(printed: str) -> str:
    """``0/ 1/0`` (the ONT tables pad the slot) → ``0/1/0``."""
    return printed.replace(" ", "")


# ---------------------------------------------------------------------------- parsers (answer → result)
# Pure functions of the device's answer, so that recorded answers (tests/fixtures/vendors/huawei/cli/) check
# exactly what the driver reads from a real OLT.


def parse_autofind(answer: str) -> list[AutofindEntry]:
    """``display ont autofind all``: one entry per ONU in autofind; none when the OLT says there are none."""
    if _NO_AUTOFIND in answer:
        return []
    rows = parse_textfsm(ntc_template("huawei_smartax_display_ont_autofind"), _AUTOFIND_TRAILER.sub("", answer))
    return [AutofindEntry(_fsp(r["FSP"]), _serial_of(r["SERIAL_NUMBER"]), r["ONT_EQUIPMENT_ID"]) for r in rows]


def parse_onts(answer: str) -> list[OntEntry]:
    """``display ont info F S P all``: the ONTs configured on one port, with their run state and description."""
    if _NO_ONT in answer:
        return []
    states = parse_textfsm(ntc_template("huawei_smartax_display_ont_info_0_1_2"), answer)
    descriptions = {
        (_fsp(r["FSP"]), r["ONT_ID"]): r["DESCRIPTION"]
        for r in parse_textfsm(ntc_template("huawei_smartax_display_ont_info_description"), answer)
    }
    return [
        OntEntry(_fsp(r["FSP"]), int(r["ONT_ID"]), _serial_of(r["SERIAL_NUMBER"]), r["RUN_STATE"],
                 descriptions.get((_fsp(r["FSP"]), r["ONT_ID"]), ""))
        for r in states
    ]


def parse_find_ont(answer: str) -> OntEntry | None:
    """``display ont info by-sn SN``: the ONT with that serial, or None."""
    if _NO_ONT in answer:
        return None
    rows = parse_textfsm(ntc_template("huawei_smartax_display_ont_info_0_1"), answer)
    if not rows or not rows[0]["ONT_ID"]:
        return None
    r = rows[0]
    return OntEntry(_fsp(r["FSP"]), int(r["ONT_ID"]), _serial_of(r["SERIAL_NUMBER"]), r["RUN_STATE"],
                    r["DESCRIPTION"])


def parse_service_ports(answer: str) -> list[int]:
    """``display service-port port F/S/P ont N``: the indexes of the listed service ports."""
    if _NO_SERVICE in answer:
        return []
    return [int(r["INDEX"]) for r in parse_textfsm(ntc_template("huawei_smartax_display_service-port_all"), answer)]


def parse_ont_add(answer: str) -> tuple[int, int | None]:
    """``ont add``'s answer: (ONTs added, the ONT id it reports). Judged by the count, never by a word."""
    rows = parse_textfsm(ntc_template("huawei_smartax_ont_add"), answer)
    if not rows or not rows[0]["SUCCESS"].isdigit():
        return 0, None
    ont_id = rows[0]["ONT_ID"]
    return int(rows[0]["SUCCESS"]), int(ont_id) if ont_id.isdigit() else None


class HuaweiOltDriver(NetmikoOltDriver):
    platform: ClassVar[str] = "huawei_olt"
    refusal: ClassVar[re.Pattern[str]] = re.compile(r"(?m)^\s*(Failure:|% )")
    #: what the driver reads from each answer, by the name golden transcripts give (``parser:``)
    parsers: ClassVar[dict[str, Callable[[str], Any]]] = {
        "autofind": parse_autofind, "onts": parse_onts, "find_ont": parse_find_ont,
        "service_ports": parse_service_ports, "ont_add": parse_ont_add,
    }

    def _new_session(self) -> CliSession:
        def to_config_mode(conn: Any) -> None:
            conn.enable()
            conn.config_mode()

        return CliSession(
            self.target, self.transcript, dry_run=self.dry_run, refusal=self.refusal,
            device_type="huawei_olt", prepare=to_config_mode,
        )

    @staticmethod
    def _where(pon_port: str) -> dict[str, str]:
        frame, slot, port = pon_port.split("/")
        return {"pon_port": pon_port, "frame": frame, "slot": slot, "port": port, "board": f"{frame}/{slot}"}

    # ------------------------------------------------------------------ reads

    def autofind(self) -> list[AutofindEntry]:
        answer = self._read("autofind", _NO_AUTOFIND)
        return [] if answer is None else parse_autofind(answer)

    def onts(self, pon_port: str) -> list[OntEntry]:
        answer = self._read("onts", _NO_ONT, **self._where(pon_port))
        return [] if answer is None else parse_onts(answer)

    def find_ont(self, serial: str) -> OntEntry | None:
        answer = self._read("find_ont", _NO_ONT, serial_hex=serial_hex(serial))
        return None if answer is None else parse_find_ont(answer)

    def service_ports(self, pon_port: str, ont_id: int) -> list[int]:
        """Indexes of the ONT's service ports."""
        answer = self._read("services", _NO_SERVICE, ont_id=ont_id, **self._where(pon_port))
        return [] if answer is None else parse_service_ports(answer)

    # ------------------------------------------------------------------ changes

    def add_ont(self, spec: OntSpec) -> None:
        context = {
            **self._where(spec.pon_port), "ont_id": spec.ont_id, "serial_hex": serial_hex(spec.serial),
            "description": cli_word(spec.description, "description"), "plan": spec.plan,
        }
        commands = self.templates.render("add_ont", **context)
        answers = self._run("add_ont", **context)
        if self.dry_run:
            return
        add = next(i for i, c in enumerate(commands) if c.startswith("ont add "))
        if parse_ont_add(answers[add]) != (1, spec.ont_id):
            raise DeviceRefused(self.target.name, commands[add], answers[add])

    def add_service(self, spec: OntSpec) -> None:
        self._run("add_service", ont_id=spec.ont_id, plan=spec.plan, **self._where(spec.pon_port))

    def delete_services(self, pon_port: str, ont_id: int) -> int:
        indexes = self.service_ports(pon_port, ont_id)
        if indexes:
            self._run("delete_services", services=indexes, ont_id=ont_id, **self._where(pon_port))
        return len(indexes)

    def delete_ont(self, pon_port: str, ont_id: int) -> None:
        self._run("delete_ont", ont_id=ont_id, **self._where(pon_port))

    def set_active(self, pon_port: str, ont_id: int, active: bool) -> None:
        self._run("resume" if active else "suspend", ont_id=ont_id, **self._where(pon_port))

    def save(self) -> None:
        self._run("save")
