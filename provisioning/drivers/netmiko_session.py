"""One netmiko CLI session as the drivers need it: opened from a ``CliTarget``, timed, transcribed.

netmiko logs in and prepares the session (paging off, prompt learnt, the vendor's quirks); after that
each command is written and read here, by watching for the prompt and for the channel closing. That is
what lets a dropped session surface at once as ``SessionLost`` (netmiko alone would wait out its read
timeout: paramiko reports a closed channel only as "nothing to read"), and it gives the transcript the
exact time spent waiting on the device. Netmiko's exceptions never leave this module.

netmiko logs at DEBUG every byte it writes to and reads from the channel: the device dialogue, whose
ONT descriptions are household codes. That dialogue is kept in the transcript (the audit), never in a
log, so netmiko's DEBUG records are dropped here (its warnings and errors pass).
"""

from __future__ import annotations

import logging
import re
import time
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import paramiko
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
    WriteException,
)

from provisioning.drivers.base import (
    CliTarget,
    DeviceAuthError,
    DeviceRefused,
    DeviceUnreachable,
    OltDriver,
    SessionLost,
    Transcript,
)
from provisioning.drivers.templates import templates_for

log = logging.getLogger(__name__)


def _no_channel_echo(record: logging.LogRecord) -> bool:
    """netmiko's DEBUG records echo the device dialogue (household codes in ONT descriptions): dropped."""
    return record.levelno > logging.DEBUG


logging.getLogger("netmiko").addFilter(_no_channel_echo)

_READ_PREFIXES = ("display ", "show ", "dis ")
_LOST = (OSError, EOFError, paramiko.SSHException, ReadException, WriteException, ReadTimeout)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]| \x1b\[\d+D")

#: builds the connection: ``factory(**netmiko_params)``; the default is netmiko's ConnectHandler
ConnectionFactory = Callable[..., Any]
#: runs after login (enter enable/config mode ...); counted in ``connect_seconds``
Prepare = Callable[[Any], None]


def is_read(command: str) -> bool:
    """A command that changes nothing (always sent, even in a dry run)."""
    return command.strip().startswith(_READ_PREFIXES)


class CliSession:
    """A logged-in CLI session; ``send`` writes one command and returns the device's answer."""

    def __init__(
        self,
        target: CliTarget,
        transcript: Transcript,
        *,
        dry_run: bool,
        refusal: re.Pattern[str],
        device_type: str = "",
        factory: ConnectionFactory | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        self.target = target
        self.transcript = transcript
        self.dry_run = dry_run
        self.refusal = refusal
        self.device_type = device_type
        self.factory = factory
        self.prepare = prepare
        #: the last prompt the device printed (e.g. ``MA5800-X7(config-if-gpon-0/1)#``)
        self.prompt = ""
        self._conn: Any = None
        self._prompt_re: re.Pattern[str] | None = None
        self._lost = False

    # ------------------------------------------------------------------ open / close

    def open(self) -> None:
        """Log in; DeviceUnreachable or DeviceAuthError, with the time spent in ``connect_seconds``."""
        t = self.target
        params: dict[str, Any] = {
            "host": t.host,
            "port": t.port,
            "username": t.username,
            "password": t.password.get_secret_value(),
            "secret": t.secret.get_secret_value(),
            "conn_timeout": t.timeout,
            "auth_timeout": t.timeout,
            "banner_timeout": t.timeout,
            "read_timeout_override": t.timeout,
            "fast_cli": True,
            "use_keys": False,
            "allow_agent": False,
            "ssh_config_file": None,
        }
        if self.device_type:
            params["device_type"] = self.device_type
        started = time.perf_counter()
        try:
            if self.factory is not None:
                conn = self.factory(**params)
            else:
                from netmiko import ConnectHandler

                conn = ConnectHandler(**params)
            self._conn = conn
            base = str(conn.base_prompt)
            self._prompt_re = re.compile(rf"(?:^|\n)[ \t]*({re.escape(base)}(?:\([^)\n]*\))?[>#])[ \t]*$")
            if self.prepare is not None:
                self.prepare(conn)
            self.prompt = str(conn.find_prompt())
        except NetmikoAuthenticationException as exc:
            self._abandon()
            raise DeviceAuthError(f"{t.name}: the device refused the credentials for {t.username!r}") from exc
        except (NetmikoTimeoutException, *_LOST) as exc:
            self._abandon()
            raise DeviceUnreachable(f"{t.name}: no CLI session to {t.host}:{t.port} ({_reason(exc)})") from exc
        finally:
            self.transcript.connect_seconds += time.perf_counter() - started
        log.info("%s: CLI session open (%s)", t.name, self.prompt)

    def close(self) -> None:
        """Log out politely if the session is alive; never raises."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        netmiko_log = logging.getLogger("netmiko")
        netmiko_log.addFilter(_quiet_logout)
        try:
            if self._lost:
                conn.paramiko_cleanup()
            else:
                conn.disconnect()
        except Exception:  # closing must not hide the error that led here
            log.debug("%s: error while closing the session", self.target.name, exc_info=True)
        finally:
            netmiko_log.removeFilter(_quiet_logout)

    def _abandon(self) -> None:
        self._lost = True
        self.close()

    # ------------------------------------------------------------------ commands

    def send(self, command: str, expect: str | None = None, *, check: bool = True) -> str:
        """Send one command and return the answer (without echo and prompt).

        Changes are not sent in a dry run: they are recorded with ``sent=False`` and answer "". The
        device's refusal raises DeviceRefused (unless ``check`` is false); a dropped session, or no
        prompt within the target's timeout, raises SessionLost.
        """
        if self.dry_run and not is_read(command):
            self.transcript.add(command, "", 0.0, sent=False)
            return ""
        conn = self._conn
        if conn is None or self._prompt_re is None:
            raise SessionLost(f"{self.target.name}: no open session for {command!r}")
        wanted = re.compile(expect) if expect is not None else self._prompt_re
        started = time.perf_counter()
        try:
            conn.read_channel()  # anything unsolicited belongs to no command
            conn.write_channel(command + conn.RETURN)
            raw = self._read_until(conn, wanted, command, started)
        except SessionLost:
            self._lost = True
            self.transcript.add(command, "", time.perf_counter() - started)
            raise
        except _LOST as exc:
            self._lost = True
            self.transcript.add(command, "", time.perf_counter() - started)
            raise SessionLost(f"{self.target.name}: session lost during {command!r} ({_reason(exc)})") from exc
        seconds = time.perf_counter() - started
        answer = self._answer(raw, wanted, command)
        self.transcript.add(command, answer, seconds)
        if check and self.refusal.search(answer):
            raise DeviceRefused(self.target.name, command, answer)
        return answer

    def _read_until(self, conn: Any, wanted: re.Pattern[str], command: str, started: float) -> str:
        channel = conn.remote_conn
        deadline = started + self.target.timeout
        buffer = ""
        pause = 0.001
        while True:
            chunk = conn.read_channel()
            if chunk:
                buffer += _ANSI.sub("", chunk).replace("\r\n", "\n").replace("\r", "")
                # the prompt counts only after the echoed command line
                rest = _after_echo(buffer, command)
                if rest is not None and wanted.search("\n" + rest):
                    return buffer
                pause = 0.001
                continue
            transport = channel.get_transport() if channel is not None else None
            if channel is None or channel.closed or transport is None or not transport.is_active():
                raise SessionLost(f"{self.target.name}: the device closed the session during {command!r}")
            if time.perf_counter() > deadline:
                raise SessionLost(f"{self.target.name}: no answer to {command!r} within {self.target.timeout:g} s")
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _answer(self, raw: str, wanted: re.Pattern[str], command: str) -> str:
        """The device's words: echo line and trailing prompt removed, right-stripped lines."""
        rest = _after_echo(raw, command) or ""
        matches = list(wanted.finditer("\n" + rest))
        found = matches[-1] if matches else None
        if found is not None:
            if found.groups():
                self.prompt = found.group(1)
            rest = ("\n" + rest)[: found.start()].lstrip("\n")
        return "\n".join(line.rstrip() for line in rest.split("\n")).strip("\n")


def _after_echo(buffer: str, command: str) -> str | None:
    """What follows the echoed command line, or None before the echo has arrived. Prompts arriving
    late from an earlier exchange (netmiko's prompt probes) may precede the echo: they are skipped."""
    at = buffer.find(command + "\n")
    return buffer[at + len(command) + 1 :] if at >= 0 else None


def _quiet_logout(record: logging.LogRecord) -> bool:
    """netmiko logs an ERROR when its liveness probe finds the session closed after logout: expected."""
    return record.getMessage() != "Unable to send"


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def parse_textfsm(template: Path, text: str) -> list[dict[str, str]]:
    """Rows of ``text`` parsed with one TextFSM template file, as dicts keyed by the Value names."""
    import textfsm

    with template.open(encoding="utf-8") as handle:
        fsm = textfsm.TextFSM(handle)
    rows = fsm.ParseText(text if text.endswith("\n") else text + "\n")
    return [dict(zip(fsm.header, (str(v) for v in row), strict=True)) for row in rows]


def ntc_template(name: str) -> Path:
    """A template shipped with ntc-templates, e.g. ``huawei_smartax_display_ont_autofind``."""
    import ntc_templates

    return Path(ntc_templates.__file__).resolve().parent / "templates" / f"{name}.textfsm"


_SAFE_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")


def cli_word(value: str, what: str) -> str:
    """A value safe to put in a CLI line as one word (descriptions are household codes, never names)."""
    if not _SAFE_WORD.match(value):
        raise ValueError(f"{what} {value!r} is not one CLI word (letters, digits, _ . : / - only)")
    return value


class NetmikoOltDriver(OltDriver):
    """What the netmiko OLT drivers share: the session, the templates, and running a verb."""

    #: refusal lines in the device's answers
    refusal: ClassVar[re.Pattern[str]]
    #: prompt fragments of the sub-modes a verb enters (left with ``leave_interface`` after a refusal)
    inside_prompts: ClassVar[tuple[str, ...]] = ("-if",)

    def __init__(self, target: CliTarget, transcript: Transcript | None = None, *, dry_run: bool = False) -> None:
        super().__init__(target, transcript, dry_run=dry_run)
        self.templates = templates_for(self.platform)
        self.session: CliSession | None = None

    @abstractmethod
    def _new_session(self) -> CliSession: ...

    def connect(self) -> None:
        if self.session is not None:
            return
        session = self._new_session()
        session.open()
        self.session = session

    def close(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.close()

    def _session(self) -> CliSession:
        if self.session is None:
            raise SessionLost(f"{self.target.name}: not connected")
        return self.session

    def _run(self, verb: str, **context: Any) -> list[str]:
        """Send a verb's commands in order; their answers. After a refusal inside an interface the
        session is taken back to config mode, so the next verb starts where it expects."""
        session = self._session()
        answers: list[str] = []
        try:
            for command in self.templates.render(verb, **context):
                answers.append(session.send(command))
        except DeviceRefused:
            if any(mark in session.prompt for mark in self.inside_prompts):
                for command in self.templates.render("leave_interface"):
                    session.send(command, check=False)
            raise
        return answers

    def _read(self, verb: str, empty: str, **context: Any) -> str | None:
        """A read verb's answer, or None when the device says there is nothing (``empty`` in its words)."""
        try:
            return "\n".join(self._run(verb, **context))
        except DeviceRefused as refused:
            if empty in refused.answer:
                return None
            raise
