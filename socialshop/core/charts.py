"""Server-side SVG charts for the admin (no JavaScript, no CDN): time series as lines, totals as bars.

The one chart module: the overview, tracking, forwarding and feed admins pass already-aggregated
numbers. Every chart scales to its column (``width: 100%``), draws a lone point as a dot, keeps
its legend above the plot (never on the axis labels), labels both axes, uses the same colour for
a status everywhere (``STATUS_COLOURS``) and carries a text alternative: ``aria-label``,
``<title>``, ``<desc>`` and the numbers as a ``<table>``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Semantic colours: the same meaning gets the same colour on every page.
STATUS_COLOURS: dict[str, str] = {
    "sent": "#15803d", "published": "#15803d", "succeeded": "#15803d", "accepted": "#15803d",
    "failed": "#dc2626", "refused": "#dc2626", "rejected": "#dc2626",
    "skipped": "#6b7280", "unchanged": "#6b7280",
    "pending": "#d97706", "running": "#d97706", "retrying": "#d97706",
}
# Other series (event names, platforms): colours that none of the statuses above use.
PALETTE = ("#2563eb", "#7c3aed", "#0891b2", "#db2777", "#1e3a8a", "#0f766e", "#78350f", "#111827")
FONT = 'font-family="system-ui, sans-serif"'
CHAR_WIDTH = 6.2  # average width of an 11 px system-ui character, for laying out legends


def colour_for(name: str, index: int) -> str:
    """The status colour for a status name, otherwise the ``index``-th palette colour."""
    return STATUS_COLOURS.get(name.lower(), PALETTE[index % len(PALETTE)])


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _legend(names: Sequence[str], *, x0: float, y0: float, width: float) -> tuple[list[str], float]:
    """Legend swatches laid out in rows that wrap at ``width``; returns the markup and its height."""
    parts, x, y = [], x0, y0
    for index, name in enumerate(names):
        item_w = 18 + len(name) * CHAR_WIDTH + 14
        if x > x0 and x + item_w > x0 + width:
            x, y = x0, y + 16
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" rx="2" fill="{colour_for(name, index)}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{y:.1f}" font-size="11" {FONT}>{escape(name)}</text>')
        x += item_w
    return parts, (y - y0 + 16 if names else 0)


def _open(title: str, description: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ss-chart-svg" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" style="width:100%;max-width:{width}px;height:auto" '
        f'aria-label="{escape(title)}: {escape(description)}">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
        f'<text x="0" y="15" font-size="13" font-weight="600" {FONT}>{escape(title)}</text>',
    ]


def _figure(svg: list[str], table: str) -> SafeString:
    html = (
        '<figure class="ss-chart" style="margin:0 0 16px;max-width:100%">' + "".join(svg)
        + '<details class="ss-chart-data"><summary style="font-size:11px;cursor:pointer">Numbers in this chart</summary>'
        + table + "</details></figure>"
    )
    return mark_safe(html)  # noqa: S308 - every text piece is escaped where it is built


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th scope=\"col\">{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="ss-chart-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def line_chart(
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    title: str,
    width: int = 640,
    height: int = 260,
    y_label: str = "",
    x_label: str = "time (UTC)",
) -> SafeString:
    """An SVG line chart of one or more named series over a shared time axis, with its data table.

    Input: ``{name: [(time, value), ...]}`` with times in ascending order. Each point is also drawn
    as a dot, so a series of one point shows. Empty input renders the frame with "no data yet".
    """
    points = [p for values in series.values() for p in values]
    names = [name for name, values in series.items() if values]
    total = sum(v for _, v in points)
    description = (
        "no data yet" if not points else
        f"{len(names)} series ({', '.join(names)}), {_number(total)} in total"
    )
    left, right = 64, 16
    legend, legend_h = _legend(names, x0=left, y0=38, width=width - left - right)
    top = 38 + legend_h + (4 if names else 0)
    bottom = 46
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = _open(title, description, width, height) + legend
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#d1d5db"/>')
    if y_label:
        cy = top + plot_h / 2
        parts.append(f'<text x="12" y="{cy:.1f}" font-size="11" text-anchor="middle" {FONT} transform="rotate(-90 12 {cy:.1f})">{escape(y_label)}</text>')
    if x_label:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" font-size="11" text-anchor="middle" {FONT}>{escape(x_label)}</text>')
    if not points:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="#6b7280" {FONT}>no data yet</text></svg>')
        return _figure(parts, "<p>No data yet.</p>")
    t0 = min(t for t, _ in points).timestamp()
    t1 = max(t for t, _ in points).timestamp()
    y_max = _nice_max(max(v for _, v in points))

    def x_of(t: datetime) -> float:
        return left + plot_w / 2 if t1 == t0 else left + plot_w * (t.timestamp() - t0) / (t1 - t0)

    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#f3f4f6"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" {FONT}>{_number(y_max * i / 4)}</text>')
    ticks = [t0] if t1 == t0 else [t0, (t0 + t1) / 2, t1]
    for when in ticks:
        x = left + plot_w / 2 if t1 == t0 else left + plot_w * (when - t0) / (t1 - t0)
        anchor = "middle" if len(ticks) == 1 or when == ticks[1] else ("start" if when == t0 else "end")
        label = datetime.fromtimestamp(when, tz=min(points)[0].tzinfo).strftime("%b %d %H:%M")
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 15}" font-size="10" text-anchor="{anchor}" {FONT}>{label}</text>')
    for index, (name, values) in enumerate(series.items()):
        if not values:
            continue
        colour = colour_for(name, index)
        coords = [(x_of(t), top + plot_h - plot_h * v / y_max) for t, v in values]
        if len(coords) > 1:
            joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{joined}"><title>{escape(name)}</title></polyline>')
        radius = 3.5 if len(coords) <= 40 else 1.5
        parts.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}"><title>{escape(name)}: {_number(v)}</title></circle>'
            for (x, y), (_, v) in zip(coords, values)
        )
    parts.append("</svg>")
    times = sorted({t for t, _ in points})
    lookup = {name: dict(values) for name, values in series.items()}
    rows = [[t.strftime("%Y-%m-%d %H:%M"), *(_number(lookup[n].get(t, 0)) for n in names)] for t in times]
    return _figure(parts, _table([x_label or "time", *names], rows))


def bar_chart(
    groups: Mapping[str, Mapping[str, float]],
    *,
    title: str,
    width: int = 640,
    height: int = 240,
    y_label: str = "",
    x_label: str = "",
) -> SafeString:
    """Grouped bars: ``{group: {series: value}}`` (e.g. platform -> {sent, failed}), with its data table."""
    names: list[str] = []
    for values in groups.values():
        names.extend(n for n in values if n not in names)
    total = sum(v for values in groups.values() for v in values.values())
    description = "no data yet" if not groups else (
        "; ".join(f"{g}: " + ", ".join(f"{_number(v)} {n}" for n, v in values.items()) for g, values in groups.items())
    )
    left, right = 64, 16
    legend, legend_h = _legend(names, x0=left, y0=38, width=width - left - right)
    top, bottom = 38 + legend_h + (4 if names else 0), 46
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = _open(title, description, width, height) + legend
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9ca3af"/>')
    if y_label:
        cy = top + plot_h / 2
        parts.append(f'<text x="12" y="{cy:.1f}" font-size="11" text-anchor="middle" {FONT} transform="rotate(-90 12 {cy:.1f})">{escape(y_label)}</text>')
    if x_label:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" font-size="11" text-anchor="middle" {FONT}>{escape(x_label)}</text>')
    if not groups or not total:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="#6b7280" {FONT}>no data yet</text></svg>')
        return _figure(parts, "<p>No data yet.</p>")
    y_max = _nice_max(max(v for values in groups.values() for v in values.values()))
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#f3f4f6"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" {FONT}>{_number(y_max * i / 4)}</text>')
    slot = plot_w / len(groups)
    bar_w = min(28.0, (slot - 12) / max(1, len(names)))
    for g_index, (group, values) in enumerate(groups.items()):
        x0 = left + slot * g_index + (slot - bar_w * len(names)) / 2
        for n_index, name in enumerate(names):
            value = float(values.get(name, 0))
            h = plot_h * value / y_max
            x = x0 + bar_w * n_index
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                f'fill="{colour_for(name, n_index)}"><title>{escape(group)}, {escape(name)}: {_number(value)}</title></rect>'
            )
        parts.append(f'<text x="{left + slot * g_index + slot / 2:.1f}" y="{top + plot_h + 15}" font-size="10" '
                     f'text-anchor="middle" {FONT}>{escape(group)}</text>')
    parts.append("</svg>")
    rows = [[group, *(_number(values.get(n, 0)) for n in names)] for group, values in groups.items()]
    return _figure(parts, _table([x_label or "", *names], rows))
