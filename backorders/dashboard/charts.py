"""Charts drawn on the server: the geometry of each chart, rendered by hand-written SVG templates
(``templates/backorders/dashboard/_*_chart.html``).

Why not a charting package: pygal would do (with its script turned off), but our three charts
are bars, every bar is a link to a filtered admin list, and every figure is written as text
beside its bar; fifty lines of arithmetic and two small templates do that exactly, under the
admin's Content-Security-Policy (no script, no inline style: SVG presentation attributes and
classes styled by ``static/backorders/dashboard.css``), with nothing new to install.

Accessibility: each chart has a ``<title>`` and a ``<desc>``; each bar is a link whose title
says what it counts, and its value is written as text; the day-by-day chart also comes with a
table of its figures.
"""

from collections.abc import Sequence
from dataclasses import dataclass

LABEL_MAX = 34  # characters of a bar's label drawn in the chart (the whole label is its title)


def clip(text: str, limit: int = LABEL_MAX) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Row:
    """One bar to draw: what it is, how much, where it links, what its link says."""

    label: str
    value: int
    href: str
    title: str


@dataclass(frozen=True)
class HBar:
    label: str
    value: int
    href: str
    title: str
    y: int  # top of the row
    width: int  # of the bar, in px
    text_y: int  # baseline of the row's texts
    value_x: int  # where the value is written


@dataclass(frozen=True)
class HBarChart:
    """Horizontal bars, one per row, the label on the left and the value after the bar."""

    id: str
    title: str
    desc: str
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[HBar]


def hbar_chart(
    *,
    id: str,
    title: str,
    desc: str,
    rows: Sequence[Row],
    width: int = 560,
    label_width: int = 220,
    row_height: int = 28,
) -> HBarChart:
    """Lay out ``rows`` as horizontal bars scaled to the largest value (a zero draws no bar but
    keeps its row, label and "0")."""
    bar_height = row_height - 10
    room = width - label_width - 60  # the value is written after the bar
    top = max((row.value for row in rows), default=0)
    bars = []
    for index, row in enumerate(rows):
        length = 0 if top <= 0 else max(1 if row.value > 0 else 0, round(room * row.value / top))
        y = index * row_height
        bars.append(
            HBar(
                label=clip(row.label),
                value=row.value,
                href=row.href,
                title=row.title,
                y=y + 5,
                width=length,
                text_y=y + row_height // 2 + 5,
                value_x=label_width + length + 6,
            )
        )
    return HBarChart(
        id=id,
        title=title,
        desc=desc,
        width=width,
        height=max(row_height, row_height * len(rows)),
        label_width=label_width,
        bar_height=bar_height,
        bars=bars,
    )


@dataclass(frozen=True)
class Column:
    value: int
    href: str
    title: str
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class ColumnStrip:
    """One series as a strip of columns (one per day), with its total and its peak."""

    label: str
    css: str  # the series' class (its colour)
    total: int
    peak: int
    y: int  # top of the strip
    columns: list[Column]


@dataclass(frozen=True)
class StripsChart:
    """Several series over the same days, one strip each, one above the other (small multiples:
    four series of ninety days would be unreadable stacked or side by side)."""

    id: str
    title: str
    desc: str
    width: int
    height: int
    plot_x: int
    strip_height: int
    column_width: int
    first_label: str
    last_label: str
    axis_y: int
    strips: list[ColumnStrip]


def strips_chart(
    *,
    id: str,
    title: str,
    desc: str,
    series: Sequence[tuple[str, str, Sequence[Row]]],
    width: int = 1000,
    plot_x: int = 150,
    strip_height: int = 56,
    gap: int = 14,
    first_label: str = "",
    last_label: str = "",
) -> StripsChart:
    """Lay out each ``(label, css class, rows)`` series as a strip of columns, each scaled to its
    own peak (the peak is written beside it, so no strip reads as empty next to a busy one)."""
    days = max((len(rows) for _label, _css, rows in series), default=0)
    step = (width - plot_x - 10) // max(1, days)
    column_width = max(1, step - 1)
    strips = []
    for index, (label, css, rows) in enumerate(series):
        top = index * (strip_height + gap)
        peak = max((row.value for row in rows), default=0)
        columns = []
        for day, row in enumerate(rows):
            height = (
                0 if peak <= 0 else max(1 if row.value > 0 else 0, round(strip_height * row.value / peak))
            )
            columns.append(
                Column(
                    value=row.value,
                    href=row.href,
                    title=row.title,
                    x=plot_x + day * step,
                    y=top + strip_height - height,
                    height=height,
                )
            )
        strips.append(
            ColumnStrip(
                label=label, css=css, total=sum(row.value for row in rows), peak=peak, y=top, columns=columns
            )
        )
    axis_y = len(series) * (strip_height + gap)
    return StripsChart(
        id=id,
        title=title,
        desc=desc,
        width=width,
        height=axis_y + 16,
        plot_x=plot_x,
        strip_height=strip_height,
        column_width=column_width,
        first_label=first_label,
        last_label=last_label,
        axis_y=axis_y + 12,
        strips=strips,
    )
