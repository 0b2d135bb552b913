"""The ZTE modules against recordings held out of their development: the share of readings right.

Done-when of issue 10: a ZTE walk with the real layout gives every ONU's state and Rx, ≥ 99 % of the
readings right, the lines below −30 dBm included. Each ``heldout/<case>.expected.yaml`` lists readings
(written from the recording's source) and a tolerance (the source's rounding); a reading is right when
the module gives one sample with that value. ``heldout/README.md`` says what the recordings can and
cannot show.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from .golden import FIXTURES, load_expected, poll_recording

HELD_OUT = sorted((FIXTURES / "zte" / "heldout").glob("*.snmprec"))


@pytest.mark.parametrize("walk", HELD_OUT, ids=[w.stem for w in HELD_OUT])
async def test_the_held_out_readings_are_right(walk: Path) -> None:
    expected = load_expected(walk.with_suffix(".expected.yaml"))
    families, _rejected = await poll_recording(expected["module"], walk)
    by_name = {f.name: f for f in families}
    tolerance = float(expected.get("tolerance", 1e-6))
    right, wrong = 0, []
    for want in expected["readings"]:
        fam = by_name.get(want["name"])
        found = [s for s in (fam.samples if fam else [])
                 if all(s.labels.get(k) == str(v) for k, v in want.get("labels", {}).items())]
        ok = len(found) == 1 and math.isclose(found[0].value, float(want["value"]), abs_tol=tolerance)
        if ok:
            right += 1
        else:
            wrong.append((want, [s.value for s in found]))
    share = right / len(expected["readings"])
    weak = [w for w, _ in wrong if float(w["value"]) < -30]
    assert share >= 0.99, f"{walk.name}: {share:.1%} right; wrong: {wrong}"
    assert not weak, f"{walk.name}: readings below -30 dBm wrong: {weak}"
