"""A ZTE C300 (ZXAN) command line over an ``OltState``, the counterpart of ``huawei.py``.

The C300 logs in straight at ``ZXAN#``; ``configure terminal`` → ``ZXAN(config)#``; both
``interface gpon-olt_1/1/1`` and ``interface gpon-onu_1/1/1:5`` → ``ZXAN(config-if)#``;
``pon-onu-mng gpon-onu_1/1/1:5`` → ``ZXAN(gpon-onu-mng 1/1/1:5)#`` (the ONU's management block:
``service 1 gemport 1 vlan 100``, ``vlan port eth_0/1 mode tag vlan 100``, recorded in the state and shown
by ``show onu running config``); ``exit`` goes up one level, ``end`` back to ``ZXAN#``. Wording from
recorded C320 answers where the ``zte`` pack names one (``%Code 62310-GPONSRV : No related information to
show.``, ``%Info 20272``, ``%Error 20200``, ``[Successful]``); the refusals for SN/ID conflicts and
suspend/resume (``shutdown`` / ``no shutdown`` inside ``interface gpon-onu``) are this project's choice,
listed as unverified in the pack; the command templates are ``ftthnoc/vendors/zte/cli/zte_c300.yaml``.
"""

from __future__ import annotations

import re

from simulator.cli.olt_state import CliRefusal, OltState, SimOnt, serial_raw
from simulator.cli.shell import Reply

#: what the C300 says when a show command finds nothing (not a refusal: drivers read it as empty)
NOTHING = "%Code 62310-GPONSRV : No related information to show."
_OLT = r"gpon-olt_(?P<pon>\d+/\d+/\d+)"
_ONU = r"gpon-onu_(?P<pon>\d+/\d+/\d+):(?P<id>\d+)"
_BANNER = "\nWelcome to ZXAN product C300 of ZTE Corporation\n\n"


class ZteShell:
    """One C300 CLI session; every session of an OLT shares its ``OltState``."""

    def __init__(self, state: OltState, hostname: str = "ZXAN") -> None:
        self.state = state
        self.hostname = hostname
        self.mode = "enable"  # enable | config | olt | onu | mng
        self.pon = ""
        self.onu_id = 0

    # ------------------------------------------------------------------ Shell protocol

    def banner(self) -> str:
        return _BANNER

    def prompt(self) -> str:
        suffix = {"enable": "#", "config": "(config)#", "olt": "(config-if)#", "onu": "(config-if)#",
                  "mng": f"(gpon-onu-mng {self.pon}:{self.onu_id})#"}[self.mode]
        return self.hostname + suffix

    def echo(self) -> bool:
        return True

    def handle(self, line: str) -> Reply:
        command = " ".join(line.split())
        if not command:
            return Reply("")
        if command == "exit" and self.mode == "enable":
            return Reply("", close=True)
        try:
            return Reply(self._dispatch(command, line))
        except CliRefusal as refusal:
            return Reply(f"{refusal}\n")

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, command: str, line: str) -> str:
        if command == "terminal length 0" or re.fullmatch(r"terminal width \d+", command):
            return ""
        if command == "exit":
            self.mode = {"config": "enable", "olt": "config", "onu": "config", "mng": "config"}[self.mode]
            return ""
        if command == "end":
            self.mode = "enable"
            return ""
        if command == "write":
            self.state.save()
            return "Building configuration...\n..[OK]\n"
        if command.startswith("show "):
            return self._show(command, line)
        if command == "configure terminal" and self.mode == "enable":
            self.mode = "config"
            return "%Info 20272: Enter configuration commands, one per line. End with CTRL/Z.\n"
        if self.mode != "enable":
            m = re.fullmatch(rf"interface {_OLT}", command)
            if m:
                if m["pon"] not in self.state.pon_ports:
                    raise CliRefusal("%Code 32300-GPONSRV : The PON port does not exist.")
                self.mode, self.pon = "olt", m["pon"]
                return ""
            m = re.fullmatch(rf"(interface|pon-onu-mng) {_ONU}", command)
            if m:
                if self.state.ont(m["pon"], int(m["id"])) is None:
                    raise CliRefusal("%Code 32305-GPONSRV : ONU does not exist.")
                self.mode = "onu" if m[1] == "interface" else "mng"
                self.pon, self.onu_id = m["pon"], int(m["id"])
                return ""
        if self.mode == "olt":
            return self._olt_command(command, line)
        if self.mode == "onu":
            return self._onu_command(command, line)
        if self.mode == "mng":
            return self._mng_command(command, line)
        return _invalid(self.prompt(), line)

    def _olt_command(self, command: str, line: str) -> str:
        m = re.fullmatch(r"onu (\d+) type (\S+) sn ([A-Za-z0-9]{4}-?[0-9A-Fa-f]{8})", command)
        if m:
            self.state.add_ont(self.pon, int(m[1]), m[3], 0, 0, "", onu_type=m[2])
            return "[Successful]\n"
        m = re.fullmatch(r"no onu (\d+)", command)
        if m:  # the ONU goes with its interface configuration, service ports and management block
            self.state.delete_ont(self.pon, int(m[1]), cascade=True)
            return "[Successful]\n"
        return _invalid(self.prompt(), line)

    def _onu_command(self, command: str, line: str) -> str:
        m = re.fullmatch(r"(?:name|description) (\S+)", command)
        if m:
            self.state.set_description(self.pon, self.onu_id, m[1])
            return ""
        if re.fullmatch(r"tcont \d+ profile \S+|gemport \d+ tcont \d+", command):
            return ""  # accepted; T-CONTs and GEM ports are not modelled
        m = re.fullmatch(r"service-port (\d+) vport (\d+) user-vlan (\d+) vlan (\d+)", command)
        if m:
            self.state.add_service(self.pon, self.onu_id, int(m[4]), int(m[3]), int(m[2]), local=int(m[1]))
            return ""
        m = re.fullmatch(r"no service-port (\d+)", command)
        if m:
            for sp in self.state.services_of(self.pon, self.onu_id):
                if sp.local == int(m[1]):
                    self.state.delete_service(sp.index)
                    return ""
            raise CliRefusal("%Code 32307-GPONSRV : No such service-port.")
        if command in ("shutdown", "no shutdown"):
            self.state.set_active(self.pon, self.onu_id, command == "no shutdown")
            return ""
        return _invalid(self.prompt(), line)

    def _mng_command(self, command: str, line: str) -> str:
        """Inside ``pon-onu-mng``: the ONU's service on a GEM port and the VLAN of its Ethernet port."""
        vlans = [int(v) for v in re.findall(r"\bvlan (\d+)", command)]
        if any(not 1 <= v <= 4094 for v in vlans):
            return _invalid(self.prompt(), line)
        if re.fullmatch(r"service \S+ gemport \d+(?: veip \d+)? vlan \d+", command):
            self.state.add_onu_config(self.pon, self.onu_id, command)
            return ""
        if re.fullmatch(r"vlan port eth_0/\d+ mode (?:tag vlan \d+|transparent)", command):
            port = command.split()[2]
            self.state.remove_onu_config(self.pon, self.onu_id, lambda ln: ln.startswith(f"vlan port {port} "))
            self.state.add_onu_config(self.pon, self.onu_id, command)
            return ""
        m = re.fullmatch(r"no (service \S+|vlan port eth_0/\d+)", command)
        if m:
            prefix = m[1] + " "
            self.state.remove_onu_config(self.pon, self.onu_id, lambda ln: ln.startswith(prefix))
            return ""
        return _invalid(self.prompt(), line)

    # ------------------------------------------------------------------ shows

    def _show(self, command: str, line: str) -> str:
        m = re.fullmatch(rf"show gpon onu uncfg(?: {_OLT})?", command)
        if m:
            return self._uncfg(m["pon"])
        m = re.fullmatch(rf"show gpon onu state {_OLT}", command)
        if m:
            return self._onu_state(m["pon"])
        m = re.fullmatch(rf"show gpon onu baseinfo {_OLT}", command)
        if m:
            return self._baseinfo(m["pon"])
        m = re.fullmatch(r"show gpon onu by sn (\S+)", command)
        if m:
            try:
                ont = self.state.find_serial(m[1])
            except ValueError:
                ont = None
            if ont is None:
                return NOTHING + "\n"
            return f"SearchResult\n-----------------\ngpon-onu_{ont.pon_port}:{ont.ont_id}\n"
        m = re.fullmatch(rf"show running-config interface {_ONU}", command)
        if m:
            return self._onu_config(m["pon"], int(m["id"]))
        m = re.fullmatch(rf"show onu running config {_ONU}", command)
        if m:
            return self._onu_mng_config(m["pon"], int(m["id"]))
        return _invalid(self.prompt(), line)

    def _port_onts(self, pon: str) -> list[SimOnt]:
        if pon not in self.state.pon_ports:
            raise CliRefusal("%Code 32300-GPONSRV : The PON port does not exist.")
        return self.state.onts(pon)

    def _uncfg(self, pon: str | None) -> str:
        found = [o for o in self.state.autofind() if pon is None or o.pon_port == pon]
        if not found:
            return NOTHING + "\n"
        out = ["OnuIndex                 Sn                  State", "-" * 69]
        seen: dict[str, int] = {}
        for onu in found:
            seen[onu.pon_port] = seen.get(onu.pon_port, 0) + 1
            index = f"gpon-onu_{onu.pon_port}:{seen[onu.pon_port]}"
            out.append(f"{index:<24} {serial_raw(onu.serial):<19} unknown")
        return "\n".join(out) + "\n"

    def _onu_state(self, pon: str) -> str:
        onts = self._port_onts(pon)
        if not onts:
            return NOTHING + "\n"
        out = ["OnuIndex   Admin State  OMCC State  Phase State  Channel", "-" * 62]
        working = 0
        for ont in onts:
            up = self.state.online(ont)
            working += up
            admin = "enable" if ont.active else "disable"
            omcc = "enable" if up else "disable"
            phase = "working" if up else ("offline" if ont.active else "disable")
            out.append(f"{pon}:{ont.ont_id:<4} {admin:<12} {omcc:<11} {phase:<12} 1(GPON)")
        out.append(f"ONU Number: {working}/{len(onts)}")
        return "\n".join(out) + "\n"

    def _baseinfo(self, pon: str) -> str:
        onts = self._port_onts(pon)
        if not onts:
            return NOTHING + "\n"
        out = ["OnuIndex                 Type          Mode        AuthInfo                   State", "-" * 86]
        for ont in onts:
            state = "ready" if self.state.online(ont) else "offline"
            auth = f"SN:{serial_raw(ont.serial)}"
            out.append(f"{f'gpon-onu_{pon}:{ont.ont_id}':<24} {ont.onu_type:<13} sn          {auth:<26} {state}")
        return "\n".join(out) + "\n"

    def _onu_config(self, pon: str, onu_id: int) -> str:
        ont = self.state.ont(pon, onu_id)
        if ont is None:
            raise CliRefusal("%Code 32305-GPONSRV : ONU does not exist.")
        out = ["Building configuration...", f"interface gpon-onu_{pon}:{onu_id}"]
        if ont.description:
            out.append(f"  name {ont.description}")
        if not ont.active:
            out.append("  shutdown")
        for sp in self.state.services_of(pon, onu_id):
            out.append(f"  service-port {sp.local} vport {sp.gemport} user-vlan {sp.user_vlan} vlan {sp.vlan}")
        out += ["!", "end"]
        return "\n".join(out) + "\n"


    def _onu_mng_config(self, pon: str, onu_id: int) -> str:
        if self.state.ont(pon, onu_id) is None:
            raise CliRefusal("%Code 32305-GPONSRV : ONU does not exist.")
        out = [f"pon-onu-mng gpon-onu_{pon}:{onu_id}"]
        out += [f"  {line}" for line in self.state.onu_config(pon, onu_id)]
        out.append("!")
        return "\n".join(out) + "\n"


def _invalid(prompt: str, line: str) -> str:
    column = len(prompt) + len(line) - len(line.lstrip())
    return " " * column + "^\n%Error 20200: Invalid input detected at '^' marker.\n"
