"""A provisioning job in the page's language: its steps and outcome in our words (translated), the device's
own words apart and verbatim.

The Provisioner reports progress as ``(step, message)`` with an English message for the logs and the API;
the pages translate by the step's key, taking the details (serial, ONT id, OLT, port, VLAN) from the
message where it has them and falling back to the step's plain words where it has not, so a new message
never reaches a Japanese page in English. An outcome is told from its fields (kind, state, serial, ONT,
Rx), never from its English ``message``; that message stays available as the record's original (marked
``lang="en"``), and when the device refused a command, the command and the device's answer are shown as
the device gave them (``<samp class="device">``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.web.i18n import Translator
from ftthnoc.inventory.models import EnrolmentState

#: (pattern over the Provisioner's English message, the translation's key), tried in order per step.
_STEP_PATTERNS: Mapping[str, Sequence[tuple[re.Pattern[str], str]]] = {
    "find": [(re.compile(r"looking for (?P<serial>\S+) in autofind"), "step_find_serial")],
    "add": [(re.compile(r"adding (?P<serial>\S+) as ONT (?P<ont_id>\d+)(?: on (?P<olt>\S+) (?P<pon_port>\S+))?"),
             "step_add_at")],
    "service": [(re.compile(r"service port on VLAN (?P<vlan>\d+)"), "step_service_vlan")],
    "undo": [(re.compile(r"cleaning up the previous run's ONT (?P<ont_id>\d+) on (?P<olt>\S+) (?P<pon_port>\S+)"),
              "step_cleanup")],
    **{kind: [(re.compile(r"\w+ ONT (?P<ont_id>\d+) on (?P<olt>\S+) (?P<pon_port>\S+)"), "step_line_at")]
       for kind in ("suspend", "resume", "cancel")},
}  # fmt: skip
#: Steps with words of their own when the message gives no details.
_PLAIN_STEPS = frozenset({"find", "add", "service", "save", "verify", "activate", "undo", "suspend", "resume",
                          "cancel"})  # fmt: skip


def step_text(t: Translator, step: str, message: str) -> str:
    """One progress step in the page's language."""
    for pattern, key in _STEP_PATTERNS.get(step, ()):
        found = pattern.search(message)
        if found is None:
            continue
        fields = {k: v for k, v in found.groupdict().items() if v is not None}
        if key == "step_add_at":
            olt, port = fields.pop("olt", None), fields.pop("pon_port", None)
            fields["where"] = "" if olt is None else t("in_parens", text=f"{olt} {port}")
        if key == "step_line_at":
            fields["action"] = t(f"kind_{step}")
        return t(key, **fields)
    return t(f"step_{step}") if step in _PLAIN_STEPS else t("step_other")


def step_labels(t: Translator) -> dict[str, str]:
    """The steps' plain words, for the page's script to show while a job runs (before the page reloads)."""
    return {**{step: t(f"step_{step}") for step in sorted(_PLAIN_STEPS)}, "other": t("step_other")}


@dataclass(frozen=True)
class DeviceWords:
    """What the device answered to a command it refused, verbatim."""

    command: str
    answer: str


def device_words(outcome: Any) -> DeviceWords | None:
    """The refused command and the device's answer, from the outcome's transcript (``DeviceRefused`` names
    the command in the message: ``<device> refused '<command>': ...``)."""
    transcript = getattr(outcome, "transcript", None)
    message = str(getattr(outcome, "message", "") or "")
    if transcript is None or "refused " not in message:
        return None
    for exchange in reversed(transcript.exchanges):
        if exchange.sent and exchange.answer.strip() and f"refused {exchange.command!r}" in message:
            return DeviceWords(exchange.command, exchange.answer)
    return None


#: Why a run failed, told from its record's English words (the Provisioner's refusals), first match wins.
_REASONS: Sequence[tuple[re.Pattern[str], str]] = [
    (re.compile(r" refused '"), "reason_refused"),
    (re.compile(r"is not in the autofind list"), "reason_not_in_autofind"),
    (re.compile(r"is already recorded on"), "reason_serial_taken"),
    (re.compile(r"verification failed"), "reason_verify"),
    (re.compile(r"only an installed household"), "reason_not_installed"),
    (re.compile(r"the inventory and the OLT disagree"), "reason_disagree"),
    (re.compile(r"no ONU in the inventory|has no ONT"), "reason_no_ont"),
    (re.compile(r"session lost|could not reach|not connected|timed out|connect", re.IGNORECASE), "reason_unreachable"),
    (re.compile(r"not an ONU serial|serial", re.IGNORECASE), "reason_bad_serial"),
]


def failure_reason(t: Translator, message: str | None) -> str | None:
    """Why a run failed, in the page's language (None: no reason the pages know; the original is shown)."""
    if not message:
        return None
    return next((t(key) for pattern, key in _REASONS if pattern.search(message)), None)


def outcome_text(t: Translator, outcome: Any) -> str:
    """What a finished job did, in our words (from its fields, never from its English message)."""
    kind, state = str(outcome.kind), EnrolmentState(outcome.state)
    action = t(f"kind_{kind}")
    if state == EnrolmentState.DONE:
        if kind == "enrol":
            rx = "" if outcome.rx_dbm is None else t("outcome_rx", rx=f"{outcome.rx_dbm:.2f}")
            return t("outcome_enrol_done", serial=outcome.serial or "–", olt=outcome.olt or "–",
                     pon_port=outcome.pon_port or "–", ont_id="–" if outcome.ont_id is None else outcome.ont_id,
                     rx=rx)  # fmt: skip
        return t("outcome_line_done", action=action)
    if state == EnrolmentState.NOOP:
        if outcome.dry_run:
            return t("outcome_dry_run")
        return t("outcome_enrol_noop") if kind == "enrol" else t("outcome_line_noop")
    reason = failure_reason(t, str(outcome.message or ""))
    said = t("outcome_attention", action=action) if state == EnrolmentState.ATTENTION else t("outcome_failed",
                                                                                              action=action)
    return said if reason is None else t("with_reason", said=said, reason=reason)
