"""The random streams and the small draws every part of the generator shares.

One stream per concern (``stream(seed, "optics", olt)``): adding schools does not move an ONU's Rx
power, and each part of the town can be generated on its own without shifting the others.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from simulator.devices import Interface


def stream(seed: int, *parts: object) -> random.Random:
    """The random stream of one concern of the town (seed and names joined, as its key)."""
    return random.Random(":".join([str(seed), *map(str, parts)]))


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` into integers that add up exactly."""
    wsum = float(sum(weights))
    if total == 0 or wsum <= 0:
        return [0] * len(weights)
    raw = [total * w / wsum for w in weights]
    out = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def quantise(value: float, step: float) -> float:
    """Quantise to the encoding's resolution, so that raw → dBm gives this value back."""
    return round(round(value / step) * step, 3)


def ethernet(rng: random.Random, if_index: int, name: str, descr: str, alias: str, speed_bps: int,
             in_rate: float, out_rate: float) -> Interface:
    """An Ethernet port of a BWA station, a gateway or a router, its counters moving at the given bytes/s."""
    return Interface(
        if_index=if_index, name=name, descr=descr, if_type=6, speed_bps=speed_bps, mtu=1500, oper_up=True,
        alias=alias, in_octets=rng.randrange(10**10, 10**13), out_octets=rng.randrange(10**10, 10**13),
        in_rate=round(in_rate, 1), out_rate=round(out_rate, 1), in_ucast=rng.randrange(10**8, 10**10),
        out_ucast=rng.randrange(10**8, 10**10), in_errors=rng.randrange(0, 5), out_errors=0,
        in_discards=rng.randrange(0, 20), out_discards=rng.randrange(0, 20),
    )  # fmt: skip
