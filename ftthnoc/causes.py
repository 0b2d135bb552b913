"""What an ONU's last-down cause means, in one table the per-port roll-up and the incident engine share.

Each vendor pack turns its raw codes into these neutral labels (its module's enum, its trap rules);
what a label means is the same whatever vendor sent it: ``los`` (the fibre or the ONU failed: what a cut
feeder looks like), ``dying_gasp`` (the home lost power: not the operator's equipment), ``deliberate``
(taken down on purpose: deactivated, reset, optics shut down by the operator — down, but no fault, and
no outage to report) and ``other`` (another fault).
"""

from __future__ import annotations

from typing import Final, Literal

CauseClass = Literal["dying_gasp", "los", "other", "deliberate"]

#: labels of a loss of signal (and the spellings traps use for it)
LOS: Final = frozenset({"los", "losi_lobi", "losi", "lobi"})
#: labels of a dying gasp: the home lost power
POWER: Final = frozenset({"dying_gasp", "dyinggasp", "dying-gasp"})
#: labels of an ONU taken down on purpose (HUAWEI-XPON-MIB last down causes 7-10, 18, 30-34: deactivated
#: or shut by the operator, reset or re-registered from the OLT, by the subscriber's button or the ONT's
#: software, or deactivated by the OLT's own loop and broadcast protection)
DELIBERATE: Final = frozenset({
    "deactivate_fail", "deactivated", "reset", "re_register", "deactivated_ring", "optics_shutdown",
    "reset_by_command", "reset_by_button", "reset_by_software", "deactivated_broadcast_attack",
})  # fmt: skip
#: the classes in the order the roll-up reports them; the first three are faults
CLASSES: Final[tuple[CauseClass, ...]] = ("dying_gasp", "los", "other", "deliberate")


def class_of(label: str | None) -> CauseClass:
    """The class of a cause label (a module's enum value, a trap's text); unknown labels are ``other``."""
    text = (label or "").strip().lower()
    if text in POWER:
        return "dying_gasp"
    if text in LOS:
        return "los"
    return "deliberate" if text in DELIBERATE else "other"
