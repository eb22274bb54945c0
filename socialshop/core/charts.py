"""Server-side SVG charts for the admin (no JavaScript, no CDN): time series as lines or bars.

Used by the tracking, forwarding and feed admins; each passes already-aggregated numbers.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def line_chart(
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    title: str,
    width: int = 720,
    height: int = 240,
    y_label: str = "",
) -> SafeString:
    """An SVG line chart of one or more named series over a shared time axis.

    Input: ``{name: [(time, value), ...]}`` with times in ascending order. Output: markup safe to
    put in a template. Empty input renders the frame with a "no data yet" note.
    """
    left, right, top, bottom = 48, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    points = [p for values in series.values() for p in values]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ss-chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(title)}">',
        f'<title>{escape(title)}</title>',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>',
    ]
    if not points:
        parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#888">no data yet</text></svg>')
        return mark_safe("".join(parts))  # noqa: S308 - every text piece above is escaped
    t0 = min(t for t, _ in points).timestamp()
    t1 = max(t for t, _ in points).timestamp()
    span = (t1 - t0) or 1.0
    y_max = _nice_max(max(v for _, v in points))
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{y_max * i / 4:g}</text>')
    for i, when in enumerate((t0, (t0 + t1) / 2, t1)):
        x = left + plot_w * i / 2
        label = datetime.fromtimestamp(when).strftime("%m-%d %H:%M")
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="middle">{label}</text>')
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        coords = " ".join(
            f"{left + plot_w * (t.timestamp() - t0) / span:.1f},{top + plot_h - plot_h * v / y_max:.1f}" for t, v in values
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"><title>{escape(name)}</title></polyline>')
        lx = left + (index % 6) * 110
        ly = height - 10 - 12 * (index // 6)
        parts.append(f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="{ly + 1}" font-size="10">{escape(name)}</text>')
    if y_label:
        parts.append(f'<text x="12" y="{top + plot_h / 2}" font-size="10" transform="rotate(-90 12 {top + plot_h / 2})">{escape(y_label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text piece above is escaped
