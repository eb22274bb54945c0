"""The one chart module (core/charts.py): lone points drawn, semantic colours, legend clear of the
axis labels, labelled axes, scaling to the column, and a text alternative for every chart."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from socialshop.core.charts import STATUS_COLOURS, bar_chart, colour_for, line_chart

T0 = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def _texts_with_y(svg: str) -> list[tuple[float, str]]:
    return [(float(y), text) for y, text in re.findall(r'<text [^>]*y="([\d.]+)"[^>]*>([^<]*)</text>', svg)]


def test_a_series_with_a_single_point_is_drawn_as_a_dot() -> None:
    svg = str(line_chart({"sent": [(T0, 3.0)]}, title="Deliveries"))
    assert re.search(r'<circle cx="[\d.]+" cy="[\d.]+" r="3.5" fill="#15803d">', svg)
    assert "no data yet" not in svg


def test_status_colours_are_semantic_whatever_the_series_order() -> None:
    svg = str(line_chart({"failed": [(T0, 1.0), (T0 + timedelta(hours=1), 2.0)],
                          "sent": [(T0, 5.0), (T0 + timedelta(hours=1), 6.0)]}, title="t"))
    assert f'stroke="{STATUS_COLOURS["failed"]}"' in svg and STATUS_COLOURS["failed"] == "#dc2626"
    assert f'stroke="{STATUS_COLOURS["sent"]}"' in svg and STATUS_COLOURS["sent"] == "#15803d"
    assert colour_for("skipped", 0) == "#6b7280" and colour_for("pending", 0) == "#d97706"
    # a non-status series never borrows a status colour
    assert colour_for("PageView", 0) not in STATUS_COLOURS.values()


def test_legend_sits_above_the_plot_and_never_on_the_axis_labels() -> None:
    names = [f"Series number {i}" for i in range(9)]
    svg = str(line_chart({n: [(T0, float(i)), (T0 + timedelta(days=1), float(i + 1))] for i, n in enumerate(names)},
                         title="Events", y_label="events"))
    plot_top = float(re.search(r'<rect x="64" y="([\d.]+)" width', svg).group(1))
    legend_ys = [y for y, text in _texts_with_y(svg) if text in names]
    assert len(legend_ys) == 9 and max(legend_ys) < plot_top  # wrapped rows, all above the plot
    tick_ys = [y for y, text in _texts_with_y(svg) if text.startswith("Nov ")]
    assert tick_ys and min(tick_ys) > plot_top


def test_both_axes_are_labelled() -> None:
    svg = str(line_chart({"PageView": [(T0, 1.0)]}, title="Events", y_label="events per hour"))
    assert ">events per hour</text>" in svg and ">time (UTC)</text>" in svg
    bars = str(bar_chart({"Meta": {"sent": 4, "failed": 1}}, title="Deliveries", y_label="deliveries", x_label="platform"))
    assert ">deliveries</text>" in bars and ">platform</text>" in bars


def test_chart_scales_to_its_column() -> None:
    svg = str(line_chart({"a": [(T0, 1.0)]}, title="t", width=640))
    assert 'viewBox="0 0 640 260"' in svg and "width:100%;max-width:640px;height:auto" in svg
    assert 'width="640"' not in svg  # no fixed pixel width that overflows a narrow column


def test_every_chart_has_a_text_alternative_with_its_numbers() -> None:
    html = str(line_chart({"sent": [(T0, 2.0), (T0 + timedelta(hours=1), 5.0)], "failed": [(T0, 1.0)]},
                          title="Meta deliveries"))
    assert 'aria-label="Meta deliveries: 2 series (sent, failed), 8 in total"' in html
    assert "<title>Meta deliveries</title>" in html and "<desc>" in html
    table = re.search(r"<table.*</table>", html).group(0)
    assert "<th scope=\"col\">sent</th>" in table and "<td>2026-11-20 10:00</td><td>2</td><td>1</td>" in table
    assert "<td>2026-11-20 11:00</td><td>5</td><td>0</td>" in table
    bars = str(bar_chart({"Meta": {"sent": 4, "failed": 1}}, title="Deliveries"))
    assert 'aria-label="Deliveries: Meta: 4 sent, 1 failed"' in bars and "<td>Meta</td><td>4</td><td>1</td>" in bars


def test_empty_charts_say_no_data_yet() -> None:
    assert "no data yet" in str(line_chart({}, title="t")) and "no data yet" in str(bar_chart({}, title="t"))
    assert "no data yet" in str(bar_chart({"Meta": {"sent": 0}}, title="t"))


def test_labels_are_escaped() -> None:
    svg = str(line_chart({"<b>x</b>": [(T0, 1.0)]}, title="a & <b>"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
