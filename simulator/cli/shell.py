"""The contract between the SSH device simulators' server and each platform's command interpreter.

A ``Shell`` is one CLI session's interpreter: the server (``simulator.cli.server``) writes its banner
and prompt, reads a line (echoing it as a real device does), hands it to ``handle`` and writes the
reply. Device state (configured ONTs, DHCP bindings ...) lives outside the shell, in an object every
session of that device shares, so that two sessions see each other's changes as on a real box.

``Faults`` lets a test make the device misbehave at a chosen command: drop the TCP connection before
the command is applied, or after it is applied but before the answer is written (the cruel case: the
change happened, the client cannot know), and go dark after such a drop (every later command of every
session drops before it is applied: the device is gone, no new session gets anywhere).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class Reply:
    """What the device writes after a command; ``close`` ends the session cleanly (``quit``/``exit``)."""

    output: str = ""
    close: bool = False


class Shell(Protocol):
    def banner(self) -> str:
        """Written once after login, before the first prompt."""
        ...

    def prompt(self) -> str:
        """The prompt to write now (it changes with mode: ``MA5800>``, ``MA5800(config)#``, ``Password:``)."""
        ...

    def echo(self) -> bool:
        """Whether the line being typed is echoed (not while a password is asked for)."""
        ...

    def handle(self, line: str) -> Reply: ...


ShellFactory = Callable[[str], Shell]  # username -> a new session's shell


@dataclass(slots=True)
class DropRule:
    pattern: re.Pattern[str]
    when: Literal["before", "after"]
    times: int  # how many more matching commands to drop on
    then_dark: bool = False  # after firing, the device drops every later command (it is gone)


@dataclass(slots=True)
class Faults:
    """Misbehaviour armed by tests; thread-safe, each rule fires ``times`` times then disarms."""

    rules: list[DropRule] = field(default_factory=list)
    #: seconds to wait before answering each command (a slow device)
    delay: float = 0.0
    #: every command drops before it is applied (the device is gone); set by a ``then_dark`` rule
    dark: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def drop(self, pattern: str, *, when: Literal["before", "after"] = "after", times: int = 1,
             then_dark: bool = False) -> None:
        """Drop the connection on the next command matching ``pattern`` (a regex searched in the line);
        with ``then_dark``, every command after that drops too, on every session."""
        with self._lock:
            self.rules.append(DropRule(re.compile(pattern), when, times, then_dark))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.delay = 0.0
            self.dark = False

    def take(self, line: str) -> Literal["before", "after"] | None:
        """The drop to perform for this command, if any (consumes one firing of the rule)."""
        with self._lock:
            if self.dark:
                return "before"
            for rule in self.rules:
                if rule.times > 0 and rule.pattern.search(line):
                    rule.times -= 1
                    self.dark = rule.then_dark
                    return rule.when
        return None
