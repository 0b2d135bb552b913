"""A Huawei MA5800 command line over an ``OltState``: enough of it to enrol, suspend and remove ONTs.

Output follows real MA5800 answers closely enough for ntc-templates' ``huawei_smartax_*`` parsers
(autofind blocks, ``ont add`` counts, the service-port table, ``display ont info``), because the
drivers parse it with those and a simulator that only its own parser understands proves nothing.
Modes: ``MA5800-X7>`` → ``enable`` → ``#`` → ``config`` → ``(config)#`` → ``interface gpon 0/1`` →
``(config-if-gpon-0/1)#``; ``quit`` goes up one level (and asks before logging out), ``return`` to ``#``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from simulator.cli.olt_state import CliRefusal, OltState, SimOnt, serial_hex
from simulator.cli.shell import Reply

_RULE = "  " + "-" * 77
_SN = r"(?P<sn>[0-9A-Fa-f]{16}|[A-Za-z0-9]{4}-?[0-9A-Fa-f]{8})"
_ONT_ADD = re.compile(
    rf"^ont add (?P<port>\d+)(?: (?P<id>\d+))? sn-auth {_SN} omci ont-lineprofile-id (?P<line>\d+)"
    rf" ont-srvprofile-id (?P<srv>\d+)(?: desc (?:\"(?P<qdesc>[^\"]*)\"|(?P<desc>\S+)))?$"
)
_SERVICE_PORT = re.compile(
    r"^service-port(?: (?P<index>\d+))? vlan (?P<vlan>\d+) gpon (?P<fsp>\d+/\d+/\d+) ont (?P<id>\d+)"
    r" gemport (?P<gem>\d+) multi-service user-vlan (?P<uvlan>\d+)(?: tag-transform translate)?$"
)
_BANNER = """
  Huawei Integrated Access Software (MA5800).
  Copyright(C) Huawei Technologies Co., Ltd. 2002-2023. All rights reserved.

  -----------------------------------------------------------------------------
    User last login information:
  -----------------------------------------------------------------------------
    Access Type : SSH
    IP-Address  : 127.0.0.1 ssh
  -----------------------------------------------------------------------------
"""


class HuaweiShell:
    """One MA5800 CLI session; every session of an OLT shares its ``OltState``."""

    def __init__(self, state: OltState, hostname: str = "MA5800-X7") -> None:
        self.state = state
        self.hostname = hostname
        self.mode = "user"  # user | enable | config | interface | logout
        self.interface = ""  # F/S of the gpon board in interface mode, e.g. "0/1"
        self._handlers: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
            (re.compile(r"^display ont autofind (?:all|(?P<fsp>\d+/\d+/\d+))$"), self._autofind),
            (re.compile(r"^display ont info by-sn (?P<sn>\S+)$"), self._info_by_sn),
            (re.compile(r"^display ont info (?P<f>\d+) (?P<s>\d+) (?P<p>\d+) (?P<id>\d+)$"), self._info_one),
            (re.compile(r"^display ont info (?P<f>\d+) (?P<s>\d+) (?P<p>\d+) all$"), self._info_table),
            (re.compile(r"^display ont info summary (?P<fsp>\d+/\d+/\d+)$"), self._info_summary),
            (re.compile(r"^display service-port all$"), self._services_all),
            (re.compile(r"^display service-port port (?P<fsp>\d+/\d+/\d+)(?: ont (?P<id>\d+))?$"), self._services_of),
        ]

    # ------------------------------------------------------------------ Shell protocol

    def banner(self) -> str:
        return _BANNER

    def prompt(self) -> str:
        return {
            "user": f"{self.hostname}>",
            "enable": f"{self.hostname}#",
            "config": f"{self.hostname}(config)#",
            "interface": f"{self.hostname}(config-if-gpon-{self.interface})#",
            "logout": "  Are you sure to log out? (y/n)[n]:",
        }[self.mode]

    def echo(self) -> bool:
        return True

    def handle(self, line: str) -> Reply:
        command = " ".join(line.split())
        if self.mode == "logout":
            if command.lower() in ("y", "yes"):
                return Reply("\n  Thank you for using the MA5800!\n", close=True)
            self.mode = self._before_logout
            return Reply("")
        if not command:
            return Reply("")
        try:
            return Reply(self._dispatch(command, line))
        except CliRefusal as refusal:
            return Reply(f"  {refusal}\n")

    # ------------------------------------------------------------------ dispatch

    _before_logout = "user"

    def _dispatch(self, command: str, line: str) -> str:
        mode = self.mode
        if command in ("undo smart", "smart", "infoswitch cli OFF", "infoswitch cli ON", "mmi-mode enable",
                       "mmi-mode disable") or re.fullmatch(r"scroll(?: \d+)?", command):
            return ""
        if command == "enable" and mode == "user":
            self.mode = "enable"
            return ""
        if command == "enable":
            return ""
        if command == "disable" and mode == "enable":
            self.mode = "user"
            return ""
        if command in ("config", "configure terminal") and mode == "enable":
            self.mode = "config"
            return ""
        if command == "quit":
            return self._quit()
        if command == "return" and mode in ("config", "interface"):
            self.mode = "enable"
            return ""
        m = re.fullmatch(r"interface gpon (\d+/\d+)", command)
        if m and mode in ("config", "interface"):
            if not any(p.rpartition("/")[0] == m.group(1) for p in self.state.pon_ports):
                return "  Failure: The board does not exist\n"
            self.mode, self.interface = "interface", m.group(1)
            return ""
        if command.startswith("display "):
            for pattern, handler in self._handlers:
                found = pattern.fullmatch(command)
                if found:
                    return handler(found)
            return _unknown(self.prompt(), line)
        if command == "save" and mode in ("enable", "config", "interface"):
            self.state.save()
            return (
                "  It will take several minutes to save configuration file, please wait...\n"
                "  The data of the system is saved completely\n"
            )
        if mode == "interface":
            return self._interface_command(command, line)
        if mode == "config":
            return self._config_command(command, line)
        return _unknown(self.prompt(), line)

    def _quit(self) -> str:
        if self.mode == "interface":
            self.mode = "config"
        elif self.mode == "config":
            self.mode = "enable"
        else:
            self._before_logout = self.mode
            self.mode = "logout"
            return "  Check whether system data has been changed. Please save data before logout.\n"
        return ""

    def _fsp(self, port: str) -> str:
        return f"{self.interface}/{int(port)}"

    def _interface_command(self, command: str, line: str) -> str:
        m = _ONT_ADD.fullmatch(command)
        if m:
            ont = self.state.add_ont(
                self._fsp(m["port"]), int(m["id"]) if m["id"] is not None else None, m["sn"],
                int(m["line"]), int(m["srv"]), m["qdesc"] if m["qdesc"] is not None else (m["desc"] or ""),
            )
            return (
                "  Number of ONTs that can be added: 1, success: 1\n"
                f"  PortID :{int(m['port'])}, ONTID :{ont.ont_id}\n"
            )
        m = re.fullmatch(r"ont delete (\d+) (\d+)", command)
        if m:
            self.state.delete_ont(self._fsp(m[1]), int(m[2]))
            return "  Number of ONTs that can be deleted: 1, success: 1\n"
        m = re.fullmatch(r"ont (activate|deactivate) (\d+) (\d+)", command)
        if m:
            self.state.set_active(self._fsp(m[2]), int(m[3]), m[1] == "activate")
            return ""
        return _unknown(self.prompt(), line)

    def _config_command(self, command: str, line: str) -> str:
        m = _SERVICE_PORT.fullmatch(command)
        if m:
            if m["index"] is not None and self.state.service(int(m["index"])) is not None:
                raise CliRefusal("Failure: The service virtual port has already existed")
            self.state.add_service(m["fsp"], int(m["id"]), int(m["vlan"]), int(m["uvlan"]), int(m["gem"]))
            return ""
        m = re.fullmatch(r"undo service-port (\d+)", command)
        if m:
            self.state.delete_service(int(m[1]))
            return ""
        return _unknown(self.prompt(), line)

    # ------------------------------------------------------------------ displays

    def _autofind(self, m: re.Match[str]) -> str:
        found = [o for o in self.state.autofind() if m["fsp"] is None or o.pon_port == m["fsp"]]
        if not found:
            return "  Failure: The automatically found ONTs do not exist\n"
        rule = "   " + "-" * 76
        out = [rule]
        for n, onu in enumerate(found, 1):
            vendor = onu.serial[:4]
            out += [
                f"   Number              : {n}",
                f"   F/S/P               : {onu.pon_port}",
                f"   Ont SN              : {serial_hex(onu.serial)} ({onu.serial})",
                "   Password            : 0x00000000000000000000",
                "   Loid                :",
                "   Checkcode           :",
                f"   VendorID            : {vendor}",
                "   Ont Version         : 10C7.A",
                "   Ont SoftwareVersion : V5R020C00S115",
                f"   Ont EquipmentID     : {onu.equipment}",
                "   Ont Customized Info : COMMON",
                f"   Ont MAC             : {_mac(onu.serial)}",
                f"   Ont Equipment SN    : {serial_hex(onu.serial)}",
                "   Ont autofind time   : 2026-04-01 09:00:00+09:00",
                "   Multi channel       : -",
                rule,
            ]
        out.append(f"   The number of GPON autofind ONT is {len(found)}")
        return "\n".join(out) + "\n"

    def _find(self, fsp: str, ont_id: int) -> SimOnt:
        ont = self.state.ont(fsp, ont_id)
        if ont is None:
            raise CliRefusal("Failure: The ONT does not exist")
        return ont

    def _info_one(self, m: re.Match[str]) -> str:
        return self._info_block(self._find(f"{int(m['f'])}/{int(m['s'])}/{int(m['p'])}", int(m["id"])))

    def _info_by_sn(self, m: re.Match[str]) -> str:
        try:
            ont = self.state.find_serial(m["sn"])
        except ValueError:
            ont = None
        if ont is None:
            raise CliRefusal("Failure: The ONT does not exist")
        return self._info_block(ont)

    def _run_state(self, ont: SimOnt) -> tuple[str, str, str]:
        """(run state, config state, match state) as the OLT prints them."""
        if self.state.online(ont):
            return "online", "normal", "match"
        return "offline", "initial", "initial"

    def _info_block(self, ont: SimOnt) -> str:
        run, config, match = self._run_state(ont)
        onu = self.state.plugged(ont.serial)
        distance = onu.distance_m if onu is not None and onu.distance_m is not None and run == "online" else None
        f, s, p = ont.pon_port.split("/")
        lines = [
            _RULE,
            f"  F/S/P                   : {f}/{s}/{p}",
            f"  ONT-ID                  : {ont.ont_id}",
            f"  Control flag            : {'active' if ont.active else 'deactive'}",
            f"  Run state               : {run}",
            f"  Config state            : {config}",
            f"  Match state             : {match}",
            "  DBA type                : SR",
            f"  ONT distance(m)         : {distance if distance is not None else '-'}",
            "  ONT battery state       : not support",
            "  Authentic type          : SN-auth",
            f"  SN                      : {serial_hex(ont.serial)} ({ont.serial})",
            "  Management mode         : OMCI",
            "  Software work mode      : normal",
            "  Isolation state         : normal",
            f"  Description             : {ont.description}",
            "  Global ONT-ID           : 0",
            _RULE,
            f"  Line profile ID      : {ont.line_profile}",
            f"  Line profile name    : line-profile_{ont.line_profile}",
            _RULE,
            f"  Service profile ID   : {ont.service_profile}",
            f"  Service profile name : srv-profile_{ont.service_profile}",
            _RULE,
        ]
        return "\n".join(lines) + "\n"

    def _info_table(self, m: re.Match[str]) -> str:
        fsp = f"{int(m['f'])}/{int(m['s'])}/{int(m['p'])}"
        if fsp not in self.state.pon_ports:
            raise CliRefusal("Failure: The port does not exist")
        onts = self.state.onts(fsp)
        if not onts:
            raise CliRefusal("Failure: The ONT does not exist")
        spaced = f"{m['f']}/ {m['s']}/{m['p']}"
        out = [
            _RULE,
            "  F/S/P   ONT         SN         Control     Run      Config   Match    Protect",
            "          ID                     flag        state    state    state    side",
            _RULE,
        ]
        online = 0
        for ont in onts:
            run, config, match = self._run_state(ont)
            online += run == "online"
            flag = "active" if ont.active else "deactive"
            out.append(
                f"  {spaced} {ont.ont_id:>4}  {serial_hex(ont.serial)}  {flag:<11} {run:<8} {config:<8} {match:<8} no"
            )
        out += [_RULE, "  F/S/P   ONT-ID   Description", _RULE]
        out += [f"  {spaced} {ont.ont_id:>7}   {ont.description or '-'}" for ont in onts]
        out += [
            _RULE,
            f"  In port {spaced}, the total number of ONTs are: {len(onts)}, online: {online}, "
            f"offline: {len(onts) - online}",
            _RULE,
        ]
        return "\n".join(out) + "\n"

    def _info_summary(self, m: re.Match[str]) -> str:
        fsp = m["fsp"]
        if fsp not in self.state.pon_ports:
            raise CliRefusal("Failure: The port does not exist")
        onts = self.state.onts(fsp)
        states = [(ont, self._run_state(ont)[0]) for ont in onts]
        online = sum(run == "online" for _, run in states)
        out = [
            _RULE,
            f"  In port {fsp}, the total of ONTs are: {len(onts)}, online: {online}",
            _RULE,
            "  ONT  Run     Last                Last                Last",
            "  ID   State   UpTime              DownTime            DownCause",
            _RULE,
        ]
        for ont, run in states:
            out.append(f"  {ont.ont_id:<4} {run:<7} 2026-04-01 09:00:00 -                   -")
        out += [
            _RULE,
            "  ONT        SN        Type          Distance Rx/Tx power  Description",
            "  ID                                    (m)      (dBm)",
            _RULE,
        ]
        for ont, run in states:
            onu = self.state.plugged(ont.serial)
            if run == "online" and onu is not None:
                tx = f"{onu.tx_dbm:.2f}" if onu.tx_dbm is not None else "-"
                power = f"{onu.rx_dbm:.2f}/{tx}"
                distance = str(onu.distance_m) if onu.distance_m is not None else "-"
                kind = onu.equipment
            else:
                power, distance, kind = "-/-", "-", "-"
            out.append(
                f"  {ont.ont_id:<3} {serial_hex(ont.serial)} {kind:<13} {distance:>5}   {power:<12} "
                f"{ont.description or '-'}"
            )
        out.append(_RULE)
        return "\n".join(out) + "\n"

    def _services_table(self, rows: list[tuple[int, int, str, int, int, int, str]]) -> str:
        out = [
            "  Switch-Oriented Flow List",
            _RULE,
            "   INDEX VLAN VLAN     PORT F/ S/ P VPI  VCI   FLOW  FLOW       RX   TX   STATE",
            "         ID   ATTR     TYPE                    TYPE  PARA",
            _RULE,
        ]
        for index, vlan, fsp, ont_id, gem, user_vlan, state in rows:
            f, s, p = fsp.split("/")
            port = f"{f}/{s:<2}/{p:<2}"
            out.append(
                f"  {index:>6} {vlan:<4} common   gpon {port} {ont_id:<4} {gem:<5} vlan  {user_vlan:<10}"
                f" -    -    {state}"
            )
        up = sum(r[6] == "up" for r in rows)
        out += [_RULE, f"   Total : {len(rows)}  (Up/Down :    {up}/{len(rows) - up})", _RULE]
        return "\n".join(out) + "\n"

    def _service_rows(self, fsp: str | None, ont_id: int | None) -> list[tuple[int, int, str, int, int, int, str]]:
        rows = []
        for sp in self.state.services():
            if (fsp is not None and sp.pon_port != fsp) or (ont_id is not None and sp.ont_id != ont_id):
                continue
            ont = self.state.ont(sp.pon_port, sp.ont_id)
            up = ont is not None and self.state.online(ont)
            rows.append((sp.index, sp.vlan, sp.pon_port, sp.ont_id, sp.gemport, sp.user_vlan, "up" if up else "down"))
        return rows

    def _services_all(self, m: re.Match[str]) -> str:
        rows = self._service_rows(None, None)
        if not rows:
            raise CliRefusal("Failure: No service virtual port can be operated")
        return self._services_table(rows)

    def _services_of(self, m: re.Match[str]) -> str:
        if m["fsp"] not in self.state.pon_ports:
            raise CliRefusal("Failure: The port does not exist")
        rows = self._service_rows(m["fsp"], int(m["id"]) if m["id"] is not None else None)
        if not rows:
            raise CliRefusal("Failure: No service virtual port can be operated")
        return self._services_table(rows)


def _unknown(prompt: str, line: str) -> str:
    """Huawei's caret under the first word it could not take (here: the start of the command)."""
    column = len(prompt) + len(line) - len(line.lstrip())
    return " " * column + "^\n  % Unknown command, the error locates at '^'\n"


def _mac(serial: str) -> str:
    digits = serial_hex(serial)[-8:].lower()
    return f"00e0-{digits[:4]}-{digits[4:]}"
