"""Small charts as inline SVG, drawn on the server: no script, no CDN, printable, readable without CSS.

Each function returns ``Markup`` (every label is escaped here) sized by a ``viewBox`` so that the chart
scales with the page; colours come from CSS classes (``style.css``), so the print sheet can change them.

Readable on a phone: the ``viewBox`` is ``WIDTH`` (360) units wide, about a phone's card, and the sheet caps
a chart's width (``svg.chart { max-width }``), so a text of 14 units is drawn at 13–19 px from a 390-px
phone to a desktop, never the 4–6 px a 640-unit chart shrunk onto a phone gave. Long words (a bar's
caption, a measured value against its target) are HTML beside the SVG (``<figcaption>``), where they wrap;
bar labels sit above their bars, the full width theirs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

Fmt = Callable[[float], str]


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


#: The width of every chart's viewBox, in user units (CSS px at scale 1).
WIDTH = 360


def _svg(width: int, height: float, label: str, body: list[str], cls: str) -> Markup:
    head = (f'<svg class="chart {cls}" viewBox="0 0 {width} {_num(height)}" role="img" aria-label="{escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">'
            f"<title>{escape(label)}</title>")  # fmt: skip
    return Markup(head + "".join(body) + "</svg>")


def _figure(svg: Markup, caption: list[str], cls: str) -> Markup:
    """The chart with its words below it, in HTML (they wrap; each ``caption`` part is escaped here)."""
    parts = "".join(f"<span>{escape(c)}</span>" for c in caption)
    return Markup(f'<figure class="chart-figure {cls}">{svg}<figcaption>{parts}</figcaption></figure>')


def progress(value: float, target: float, label: str, *, text: str | None = None) -> Markup:
    """A bar filled to ``value / target`` (capped at the end), with the figure written under it."""
    width, height = WIDTH, 28
    share = 0.0 if target <= 0 else max(0.0, min(1.0, value / target))
    fill = round((width - 2) * share, 1)
    caption = text if text is not None else f"{_num(value)} / {_num(target)} ({pct(share)})"
    body = [
        f'<rect class="track" x="1" y="1" width="{width - 2}" height="{height - 2}" rx="6"/>',
        f'<rect class="bar" x="1" y="1" width="{fill}" height="{height - 2}" rx="6"/>',
    ]
    return _figure(_svg(width, height, label, body, "progress"), [caption], "progress")


def line(points: Sequence[tuple[str, float]], label: str, *, target: float | None = None,
         fmt: Fmt = _num) -> Markup:  # fmt: skip
    """A line over labelled points (e.g. months), with a dashed target line when given."""
    width, height, left, right, top, bottom = WIDTH, 210, 52, 24, 14, 34
    if not points:
        return _svg(width, 48, label, ['<text x="8" y="30" class="empty">–</text>'], "line")
    values = [v for _, v in points]
    top_value = max([*values, target or 0.0, 1.0]) * 1.05
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * (i / (len(points) - 1)) if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    body = [f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"/>',
            f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>']  # fmt: skip
    for tick in (0.0, top_value / 2, top_value / 1.05):
        body.append(f'<text class="tick" x="{left - 6}" y="{y(tick) + 5:.1f}" text-anchor="end">'
                    f"{escape(fmt(tick))}</text>")  # fmt: skip
    if target is not None:
        ty = y(target)
        body.append(f'<line class="target" x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}"/>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    body.append(f'<path class="series" d="{path}"/>')
    step = max(1, -(-len(points) // 4))  # at most four labels under the axis: "2026-11" is 60 units wide
    for i, (name, v) in enumerate(points):
        body.append(f'<circle class="dot" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3"><title>{escape(name)}: '
                    f"{escape(fmt(v))}</title></circle>")  # fmt: skip
        last = i == len(points) - 1
        if (i % step == 0 and len(points) - 1 - i >= step / 2) or last:  # the last one, never crowded
            anchor = "end" if last and len(points) > 1 else "middle"
            body.append(f'<text class="tick" x="{x(i) + (6 if anchor == "end" else 0):.1f}" y="{height - 10}" '
                        f'text-anchor="{anchor}">{escape(name)}</text>')  # fmt: skip
    return _svg(width, height, label, body, "line")


def bars(rows: Sequence[tuple[str, float | None]], label: str, *, maximum: float = 1.0, fmt: Fmt = pct,
         target: float | None = None) -> Markup:  # fmt: skip
    """Horizontal bars, one per row, each under its label with the value at the right (value None: an empty
    bar marked "–"), an optional target mark."""
    width, row_h, bar_h, left = WIDTH, 44, 14, 1
    height = max(1, len(rows)) * row_h + 4
    plot_w = width - 2 * left
    body: list[str] = []
    for i, (name, value) in enumerate(rows):
        y0 = 2 + i * row_h
        share = 0.0 if value is None or maximum <= 0 else max(0.0, min(1.0, value / maximum))
        body += [
            f'<text class="label" x="{left}" y="{y0 + 17}">{escape(name)}</text>',
            f'<text class="value" x="{width - left}" y="{y0 + 17}" text-anchor="end">'
            f"{escape('–' if value is None else fmt(value))}</text>",
            f'<rect class="track" x="{left}" y="{y0 + 24}" width="{plot_w}" height="{bar_h}" rx="3"/>',
            f'<rect class="bar" x="{left}" y="{y0 + 24}" width="{plot_w * share:.1f}" height="{bar_h}" rx="3"/>',
        ]
    if target is not None and maximum > 0:
        tx = left + plot_w * min(1.0, target / maximum)
        body.append(f'<line class="target" x1="{tx:.1f}" y1="0" x2="{tx:.1f}" y2="{height}"/>')
    return _svg(width, height, label, body, "bars")


def versus(value: float | None, target: float, label: str, *, unit: str = "Mbps",
           value_label: str = "", target_label: str = "") -> Markup:  # fmt: skip
    """A measured value against a target: a bar for the value, a mark for the target (e.g. uplink vs MEXT),
    the two figures written under it."""
    width, height, left = WIDTH, 40, 1
    top_value = max(value or 0.0, target) * 1.2 or 1.0
    plot_w = width - 2 * left
    tx = left + plot_w * target / top_value
    vx = 0.0 if value is None else plot_w * value / top_value
    ok = value is not None and value >= target
    shown = "–" if value is None else f"{_num(value)} {unit}"
    body = [
        f'<rect class="track" x="{left}" y="8" width="{plot_w}" height="24" rx="4"/>',
        f'<rect class="bar {"ok" if ok else "short"}" x="{left}" y="8" width="{vx:.1f}" height="24" rx="4"/>',
        f'<line class="target" x1="{tx:.1f}" y1="2" x2="{tx:.1f}" y2="38"/>',
    ]
    caption = [f"{value_label} {shown}".strip(), f"{target_label} {_num(target)} {unit}".strip()]
    return _figure(_svg(width, height, label, body, "versus"), caption, "versus")


def rx_week(hours: Sequence[tuple[float, float, float]], label: str, *, warning: float | None = None,
            critical: float | None = None, start_label: str = "", end_label: str = "",
            caption: Sequence[str] = ()) -> Markup:  # fmt: skip
    """A light-level sparkline: one bar per hour from its lowest to its highest Rx (``hours``: (where in the
    window 0..1, low dBm, high dBm)), the PON class's warning and critical levels as dashed lines, the dB
    range at the left, the window's ends under it; ``caption`` (the limits' words) below, in HTML."""
    width, height, left, right, top, bottom = WIDTH, 132, 40, 6, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    levels = [v for h in hours for v in h[1:]] + [v for v in (warning, critical) if v is not None]
    if not levels:
        return _figure(_svg(width, 48, label, ['<text x="8" y="30" class="empty">–</text>'], "rx-week"),
                       list(caption), "rx-week")  # fmt: skip
    low, high = math.floor(min(levels)) - 1, math.ceil(max(levels)) + 1

    def y(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    body = [f'<rect class="plot" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>']
    for value in (high, low):
        body.append(f'<text class="tick" x="{left - 4}" y="{y(value) + 5:.1f}" text-anchor="end">{value}</text>')
    bar = max(1.5, plot_w / 168)
    for where, lo, hi in hours:
        x = left + min(max(where, 0.0), 1.0) * (plot_w - bar)
        y1, y2 = y(hi), y(lo)
        if y2 - y1 < 2:
            y1, y2 = (y1 + y2) / 2 - 1, (y1 + y2) / 2 + 1
        body.append(f'<rect class="band" x="{x:.1f}" y="{y1:.1f}" width="{bar:.1f}" height="{y2 - y1:.1f}"/>')
    for cls, limit in (("limit-warning", warning), ("limit-critical", critical)):
        if limit is not None:
            ly = y(limit)
            body.append(f'<line class="{cls}" x1="{left}" y1="{ly:.1f}" x2="{width - right}" y2="{ly:.1f}"/>')
    body += [
        f'<text class="tick" x="{left}" y="{height - 6}">{escape(start_label)}</text>',
        f'<text class="tick" x="{width - right}" y="{height - 6}" text-anchor="end">{escape(end_label)}</text>',
    ]
    return _figure(_svg(width, height, label, body, "rx-week"), list(caption), "rx-week")


#: a district on the outage map: its label (already in the page's language), position and whether it is dark
MapPoint = tuple[str, str, float, float, bool]  # (code, label, lat, lon, outage now)


def district_map(points: Sequence[MapPoint], label: str, *, dark_text: str, ok_text: str, sep: str = "、",
                 frame: Sequence[tuple[float, float]] = ()) -> Markup:
    """The districts at their centres (``ftthnoc.geo``), those with an outage now drawn large and red, the
    others small and grey; no count and no household, only which districts. An equirectangular projection
    (longitude shrunk by cos(latitude)) is exact enough over a 20-km town. Labels are 14 units (13 px or
    more on a 390-px phone) centred under their points, inside margins wide enough for "Toyohira"; the
    legend is HTML under the map, where it wraps. ``frame`` (lat, lon pairs: the whole town's) fixes the
    extent, so that the map looks the same whichever districts an inventory has."""
    if not points:
        return Markup("")
    lats = [p[2] for p in points] + [f[0] for f in frame]
    lons = [p[3] for p in points] + [f[1] for f in frame]
    shrink = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * shrink, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    margin_x, top, bottom = 72.0, 30.0, 40.0
    scale = min((WIDTH - 2 * margin_x) / span_x, 360.0 / span_y)
    used_x = span_x * scale
    left = (WIDTH - used_x) / 2
    height = top + span_y * scale + bottom

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return left + (lon - min(lons)) * shrink * scale, top + (max(lats) - lat) * scale

    body = [f'<rect class="land" x="1" y="1" width="{WIDTH - 2}" height="{_num(height - 2)}" rx="10"/>']
    for code, name, lat, lon, dark in sorted(points, key=lambda p: p[4]):  # the dark ones drawn last, on top
        x, y = xy(lat, lon)
        state = dark_text if dark else ok_text
        body.append(
            f'<g class="district {"dark" if dark else "ok"}" id="map-{escape(code)}" data-district="{escape(code)}">'
            f"<title>{escape(name)}: {escape(state)}</title>"
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{14 if dark else 7}"/>'
            f'<text class="label" x="{_num(x)}" y="{_num(y + 32)}" text-anchor="middle">{escape(name)}</text></g>'
        )
    svg = _svg(WIDTH, height, label, body, "district-map")
    dark_names = [p[1] for p in points if p[4]]
    caption = [f"● {dark_text}: {sep.join(dark_names) if dark_names else '–'}", f"○ {ok_text}"]
    return _figure(svg, caption, "district-map")
