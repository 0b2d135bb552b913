"""ZTE C300 / C320 (ZXAN) over netmiko, with a connection class of our own.

netmiko's ``zte_zxros`` is built for ZXROS routers, not the ZXAN OLT shell, so ``ZxanSSH`` teaches
netmiko the C300's prompts: it logs in at ``ZXAN#``, pages off with ``terminal length 0``, enters
``configure terminal``, leaves with ``end`` and saves with ``write``. Commands come from the ``zte`` pack's
``cli/zte_c300.yaml``; tables are parsed with the TextFSM templates beside it (checked against recorded
answers: ``tests/fixtures/vendors/zte/cli``). ``%Code ...`` and ``%Error ...`` lines are refusals in the
OLT's own words, except ``%Code 62310-GPONSRV : No related information to show.``, which is an empty table.

An enrolment ends with the ONU's management block (``pon-onu-mng gpon-onu_P:N``: the service on the GEM
port and the VLAN on the home's Ethernet port): without it the ONU ranges and the home has no service.
Removing the ONU (``no onu N``) removes that block with it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from netmiko.cisco_base_connection import CiscoBaseConnection

from ftthnoc.normalise import normalise_serial
from provisioning.drivers.base import AutofindEntry, OntEntry, OntSpec
from provisioning.drivers.netmiko_session import CliSession, NetmikoOltDriver, cli_word, parse_textfsm
from provisioning.drivers.templates import cli_file

_NOTHING = "No related information to show"
_NO_ONT = "ONU does not exist"
_FOUND = re.compile(r"gpon-onu_(\d+/\d+/\d+):(\d+)")
_SERVICE_PORT = re.compile(r"(?m)^\s*service-port (\d+) vport ")
_MNG_LINE = re.compile(r"(?m)^\s*(service \S+ gemport .*|vlan port eth_\S+ .*)$")


class ZxanSSH(CiscoBaseConnection):
    """netmiko connection class for the ZXAN OLT shell (C300/C320)."""

    def session_preparation(self) -> None:
        self._test_channel_read(pattern=r"[>#]")
        self.set_base_prompt()
        self.disable_paging(command="terminal length 0")

    def config_mode(self, config_command: str = "configure terminal", pattern: str = r"\)#", re_flags: int = 0) -> str:
        return str(super().config_mode(config_command=config_command, pattern=pattern, re_flags=re_flags))

    def check_config_mode(self, check_string: str = ")#", pattern: str = r"[>#]", force_regex: bool = False) -> bool:
        return bool(super().check_config_mode(check_string=check_string, pattern=pattern, force_regex=force_regex))

    def exit_config_mode(self, exit_config: str = "end", pattern: str = r"#") -> str:
        return str(super().exit_config_mode(exit_config=exit_config, pattern=pattern))

    def save_config(self, cmd: str = "write", confirm: bool = False, confirm_response: str = "") -> str:
        return str(self._send_command_str(cmd, expect_string=r"\[OK\]|#"))

    def cleanup(self, command: str = "exit") -> None:
        super().cleanup(command=command)


def serial_raw(serial: str) -> str:
    """``ZTEG-C0000001`` → ``ZTEGC0000001``, the form the C300 prints and takes."""
    return normalise_serial(serial).replace("-", "")


class ZteC300Driver(NetmikoOltDriver):
    platform: ClassVar[str] = "zte_c300"
    refusal: ClassVar[re.Pattern[str]] = re.compile(r"(?m)^\s*%(Code|Error)\b")
    #: ZXAN(config-if)# for both interfaces; ZXAN(gpon-onu-mng 1/1/1:5)# for the ONU's management block
    inside_prompts: ClassVar[tuple[str, ...]] = ("-if", "onu-mng")

    def _new_session(self) -> CliSession:
        def to_config_mode(conn: Any) -> None:
            conn.config_mode()

        return CliSession(
            self.target, self.transcript, dry_run=self.dry_run, refusal=self.refusal,
            factory=ZxanSSH, prepare=to_config_mode,
        )

    # ------------------------------------------------------------------ reads

    def autofind(self) -> list[AutofindEntry]:
        answer = self._read("autofind", _NOTHING)
        if answer is None:
            return []
        rows = parse_textfsm(cli_file("zte_c300_show_gpon_onu_uncfg.textfsm"), answer)
        return [AutofindEntry(r["PON_PORT"], normalise_serial(r["SERIAL"])) for r in rows]

    def onts(self, pon_port: str) -> list[OntEntry]:
        answer = self._read("onts", _NOTHING, pon_port=pon_port)
        if answer is None:
            return []
        states = self._read("onu_state", _NOTHING, pon_port=pon_port) or ""
        phase = {
            int(r["ONU_ID"]): r["PHASE_STATE"]
            for r in parse_textfsm(cli_file("zte_c300_show_gpon_onu_state.textfsm"), states)
        }
        rows = parse_textfsm(cli_file("zte_c300_show_gpon_onu_baseinfo.textfsm"), answer)
        return [
            OntEntry(
                r["PON_PORT"], int(r["ONU_ID"]), normalise_serial(r["SERIAL"]) if r["SERIAL"] else "",
                "online" if phase.get(int(r["ONU_ID"])) == "working" else "offline",
            )
            for r in rows  # an ONU authorised without a serial (password, LOID) still takes its id
        ]

    def find_ont(self, serial: str) -> OntEntry | None:
        answer = self._read("find_ont", _NOTHING, serial_raw=serial_raw(serial))
        found = _FOUND.search(answer or "")
        if found is None:
            return None
        return OntEntry(found[1], int(found[2]), normalise_serial(serial))

    def service_ports(self, pon_port: str, ont_id: int) -> list[int]:
        """The ONU's service-port numbers (ZTE numbers them inside the ONU interface)."""
        answer = self._read("services", _NO_ONT, pon_port=pon_port, ont_id=ont_id)
        return [int(n) for n in _SERVICE_PORT.findall(answer or "")]

    def onu_services(self, pon_port: str, ont_id: int) -> list[str]:
        """The ONU's management block as the OLT keeps it (``service …``, ``vlan port …`` lines)."""
        answer = self._read("onu_services", _NO_ONT, pon_port=pon_port, ont_id=ont_id)
        return [line.strip() for line in _MNG_LINE.findall(answer or "")]

    # ------------------------------------------------------------------ changes

    def add_ont(self, spec: OntSpec) -> None:
        self._run(
            "add_ont", pon_port=spec.pon_port, ont_id=spec.ont_id, serial_raw=serial_raw(spec.serial),
            description=cli_word(spec.description, "description"), plan=spec.plan,
        )

    def add_service(self, spec: OntSpec) -> None:
        self._run("add_service", pon_port=spec.pon_port, ont_id=spec.ont_id, plan=spec.plan)

    def delete_services(self, pon_port: str, ont_id: int) -> int:
        numbers = self.service_ports(pon_port, ont_id)
        if numbers:
            self._run("delete_services", pon_port=pon_port, ont_id=ont_id, services=numbers)
        return len(numbers)

    def delete_ont(self, pon_port: str, ont_id: int) -> None:
        self._run("delete_ont", pon_port=pon_port, ont_id=ont_id)

    def set_active(self, pon_port: str, ont_id: int, active: bool) -> None:
        self._run("resume" if active else "suspend", pon_port=pon_port, ont_id=ont_id)

    def save(self) -> None:
        self._run("save")
