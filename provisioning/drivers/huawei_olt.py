"""Huawei MA5800 / MA5600T over netmiko's ``huawei_olt`` (SmartAX) class.

Commands come from ``templates/huawei_olt.yaml``; answers are parsed with ntc-templates' SmartAX
parsers. ``ont add`` is judged by its success count (``success: 1``), never by a word, and any
``Failure:`` or ``% `` line is a refusal carrying the OLT's own words.
"""

from __future__ import annotations

import re
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


def _serial_of(printed: str) -> str:
    """``48575443A1B2C3D4 (HWTC-A1B2C3D4)`` or ``48575443A1B2C3D4`` → ``HWTC-A1B2C3D4``."""
    return normalise_serial(printed.split()[0])


class HuaweiOltDriver(NetmikoOltDriver):
    platform: ClassVar[str] = "huawei_olt"
    refusal: ClassVar[re.Pattern[str]] = re.compile(r"(?m)^\s*(Failure:|% )")

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
        if answer is None:
            return []
        rows = parse_textfsm(ntc_template("huawei_smartax_display_ont_autofind"), _AUTOFIND_TRAILER.sub("", answer))
        return [AutofindEntry(r["FSP"], _serial_of(r["SERIAL_NUMBER"]), r["ONT_EQUIPMENT_ID"]) for r in rows]

    def onts(self, pon_port: str) -> list[OntEntry]:
        answer = self._read("onts", _NO_ONT, **self._where(pon_port))
        if answer is None:
            return []
        states = parse_textfsm(ntc_template("huawei_smartax_display_ont_info_0_1_2"), answer)
        descriptions = {
            (r["FSP"], r["ONT_ID"]): r["DESCRIPTION"]
            for r in parse_textfsm(ntc_template("huawei_smartax_display_ont_info_description"), answer)
        }
        return [
            OntEntry(
                r["FSP"].replace(" ", ""), int(r["ONT_ID"]), _serial_of(r["SERIAL_NUMBER"]), r["RUN_STATE"],
                descriptions.get((r["FSP"], r["ONT_ID"]), ""),
            )
            for r in states
        ]

    def find_ont(self, serial: str) -> OntEntry | None:
        answer = self._read("find_ont", _NO_ONT, serial_hex=serial_hex(serial))
        if answer is None:
            return None
        rows = parse_textfsm(ntc_template("huawei_smartax_display_ont_info_0_1"), answer)
        if not rows or not rows[0]["ONT_ID"]:
            return None
        r = rows[0]
        return OntEntry(
            r["FSP"].replace(" ", ""), int(r["ONT_ID"]), _serial_of(r["SERIAL_NUMBER"]), r["RUN_STATE"],
            r["DESCRIPTION"],
        )

    def service_ports(self, pon_port: str, ont_id: int) -> list[int]:
        """Indexes of the ONT's service ports."""
        answer = self._read("services", _NO_SERVICE, ont_id=ont_id, **self._where(pon_port))
        if answer is None:
            return []
        rows = parse_textfsm(ntc_template("huawei_smartax_display_service-port_all"), answer)
        return [int(r["INDEX"]) for r in rows]

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
        rows = parse_textfsm(ntc_template("huawei_smartax_ont_add"), answers[add])
        if not rows or rows[0]["SUCCESS"] != "1" or rows[0]["ONT_ID"] != str(spec.ont_id):
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
