"""Small charts as inline SVG, drawn on the server: no script, no CDN, printable, readable without CSS.

Each function returns ``Markup`` (every label is escaped here) sized by a ``viewBox`` so that the chart
scales with the page; colours come from CSS classes (``style.css``), so the print sheet can change them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

Fmt = Callable[[float], str]


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, label: str, body: list[str], cls: str) -> Markup:
    head = (f'<svg class="chart {cls}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">'
            f"<title>{escape(label)}</title>")  # fmt: skip
    return Markup(head + "".join(body) + "</svg>")


def progress(value: float, target: float, label: str, *, text: str | None = None) -> Markup:
    """A bar filled to ``value / target`` (capped at the end), with the figure written on it."""
    width, height = 600, 44
    share = 0.0 if target <= 0 else max(0.0, min(1.0, value / target))
    fill = round((width - 2) * share, 1)
    caption = text if text is not None else f"{_num(value)} / {_num(target)} ({pct(share)})"
    body = [
        f'<rect class="track" x="1" y="1" width="{width - 2}" height="{height - 2}" rx="6"/>',
        f'<rect class="bar" x="1" y="1" width="{fill}" height="{height - 2}" rx="6"/>',
        f'<text class="on-bar" x="12" y="{height / 2 + 6}">{escape(caption)}</text>',
    ]
    return _svg(width, height, label, body, "progress")


def line(points: Sequence[tuple[str, float]], label: str, *, target: float | None = None,
         fmt: Fmt = _num) -> Markup:  # fmt: skip
    """A line over labelled points (e.g. months), with a dashed target line when given."""
    width, height, left, right, top, bottom = 640, 260, 56, 16, 16, 40
    if not points:
        return _svg(width, 60, label, ['<text x="8" y="36" class="empty">–</text>'], "line")
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
        body.append(f'<text class="tick" x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                    f"{escape(fmt(tick))}</text>")  # fmt: skip
    if target is not None:
        ty = y(target)
        body.append(f'<line class="target" x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}"/>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    body.append(f'<path class="series" d="{path}"/>')
    step = max(1, len(points) // 6)
    for i, (name, v) in enumerate(points):
        body.append(f'<circle class="dot" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3"><title>{escape(name)}: '
                    f"{escape(fmt(v))}</title></circle>")  # fmt: skip
        if i % step == 0 or i == len(points) - 1:
            body.append(f'<text class="tick" x="{x(i):.1f}" y="{height - 14}" text-anchor="middle">'
                        f"{escape(name)}</text>")  # fmt: skip
    return _svg(width, height, label, body, "line")


def bars(rows: Sequence[tuple[str, float | None]], label: str, *, maximum: float = 1.0, fmt: Fmt = pct,
         target: float | None = None) -> Markup:  # fmt: skip
    """Horizontal bars, one per row (value None: an empty bar marked "–"), an optional target mark."""
    width, row_h, left, right = 640, 30, 170, 80
    height = max(1, len(rows)) * row_h + 8
    plot_w = width - left - right
    body: list[str] = []
    if target is not None and maximum > 0:
        tx = left + plot_w * min(1.0, target / maximum)
        body.append(f'<line class="target" x1="{tx:.1f}" y1="0" x2="{tx:.1f}" y2="{height}"/>')
    for i, (name, value) in enumerate(rows):
        y0 = 4 + i * row_h
        share = 0.0 if value is None or maximum <= 0 else max(0.0, min(1.0, value / maximum))
        body += [
            f'<text class="label" x="{left - 8}" y="{y0 + row_h / 2 + 5}" text-anchor="end">{escape(name)}</text>',
            f'<rect class="track" x="{left}" y="{y0 + 4}" width="{plot_w}" height="{row_h - 8}" rx="3"/>',
            f'<rect class="bar" x="{left}" y="{y0 + 4}" width="{plot_w * share:.1f}" height="{row_h - 8}" rx="3"/>',
            f'<text class="value" x="{left + plot_w + 8}" y="{y0 + row_h / 2 + 5}">'
            f"{escape('–' if value is None else fmt(value))}</text>",
        ]
    return _svg(width, height, label, body, "bars")


def versus(value: float | None, target: float, label: str, *, unit: str = "Mbps",
           value_label: str = "", target_label: str = "") -> Markup:  # fmt: skip
    """A measured value against a target: a bar for the value, a mark for the target (e.g. uplink vs MEXT)."""
    width, height, left = 640, 70, 8
    top_value = max(value or 0.0, target) * 1.2 or 1.0
    plot_w = width - 2 * left
    tx = left + plot_w * target / top_value
    vx = 0.0 if value is None else plot_w * value / top_value
    ok = value is not None and value >= target
    shown = "–" if value is None else f"{_num(value)} {unit}"
    body = [
        f'<rect class="track" x="{left}" y="8" width="{plot_w}" height="26" rx="4"/>',
        f'<rect class="bar {"ok" if ok else "short"}" x="{left}" y="8" width="{vx:.1f}" height="26" rx="4"/>',
        f'<line class="target" x1="{tx:.1f}" y1="2" x2="{tx:.1f}" y2="40"/>',
        f'<text class="value" x="{left}" y="58">{escape(value_label)} {escape(shown)}</text>',
        f'<text class="value" x="{width - left}" y="58" text-anchor="end">{escape(target_label)} '
        f"{escape(_num(target))} {escape(unit)}</text>",
    ]
    return _svg(width, height, label, body, "versus")
