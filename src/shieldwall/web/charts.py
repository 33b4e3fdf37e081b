"""Charts as inline SVG, drawn on the server (no JavaScript): the console's transparency report.

Each function is pure: counts in, ``Markup`` out, ready to put in a template. Every label is
escaped; lengths are proportional to the values (a bar's width is ``value / largest * width``,
a share's segment ``value / total * width``); a chart with nothing to show says so. Each chart
is ``role="img"`` with an ``aria-label``, a ``<title>`` and a ``<desc>`` that says the figures in
words, so that a screen reader gets what the picture shows. Colours are presentation attributes,
not ``style``: nothing here depends on the Content-Security-Policy allowing inline styles.

    >>> svg = bar_chart("Notices by source", [("Person", 3), ("Trusted flagger", 1)])
    >>> 'role="img"' in svg
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = [
    "BAR_WIDTH",
    "EMPTY_MESSAGE",
    "PALETTE",
    "bar_chart",
    "share_chart",
    "stacked_bar_chart",
]

#: The drawing's width in pixels (1:1 where there is room; it shrinks with a narrow container
#: when the page gives ``svg.chart`` ``max-width: 100%; height: auto``).
WIDTH = 560
#: The width of the longest bar (a share's whole bar is :data:`SHARE_WIDTH`).
BAR_WIDTH = 290
SHARE_WIDTH = 540
#: Shown instead of bars when every value is zero.
EMPTY_MESSAGE = "No data for this period"
#: Colours of series (Okabe-Ito: told apart with the common colour-vision deficiencies).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")

_LABEL_WIDTH = 170
_ROW = 30
_BAR = 18
_TOP = 6
_TEXT = "#1d2327"
_MUTED = "#50575e"
_TRACK = "#f0f0f1"
_FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"

Series = Sequence[tuple[str, int]]


def _number(value: float) -> str:
    """SVG coordinates: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "\N{EN DASH}"


def _check(values: Series) -> None:
    for label, value in values:
        if value < 0:
            raise ValueError(f"a chart cannot show a negative count ({label}: {value})")


def _open(title: str, desc: str, height: int, chart_id: str | None) -> str:
    ident = f' id="{escape(chart_id)}"' if chart_id else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"{ident} class="chart" role="img"'
        f' aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}"'
        f' width="{WIDTH}" height="{height}"'
        f' font-family="{escape(_FONT)}" font-size="13" fill="{_TEXT}">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )


def _markup(svg: str) -> Markup:
    """The finished drawing: every label and attribute in it went through ``escape``."""
    return Markup(svg)  # noqa: S704 (built from escaped parts only)


def _empty(title: str, chart_id: str | None) -> Markup:
    height = _ROW + 2 * _TOP
    return _markup(
        _open(title, f"{title}: {EMPTY_MESSAGE.lower()}.", height, chart_id)
        + f'<rect class="empty" x="0" y="{_TOP}" width="{WIDTH}" height="{_ROW}" rx="3"'
        f' fill="{_TRACK}"/>'
        f'<text class="empty-message" x="{WIDTH / 2:g}" y="{_TOP + _ROW / 2 + 4:g}"'
        f' text-anchor="middle" fill="{_MUTED}">{escape(EMPTY_MESSAGE)}</text></svg>'
    )


def _legend(y: int, items: Sequence[tuple[str, str]]) -> str:
    """Colour keys in one line from the left (``items``: label, colour)."""
    parts: list[str] = []
    x = 0
    for label, colour in items:
        parts.append(
            f'<g class="legend-item"><rect x="{x}" y="{y}" width="12" height="12" rx="2"'
            f' fill="{colour}"/><text x="{x + 18}" y="{y + 10}">{escape(label)}</text></g>'
        )
        x += 18 + 7 * len(label) + 24
    return "".join(parts)


def bar_chart(
    title: str,
    values: Series,
    *,
    chart_id: str | None = None,
    colour: str = PALETTE[0],
) -> Markup:
    """Horizontal bars, one per ``(label, count)``, the longest :data:`BAR_WIDTH` long; the
    count is written after each bar. All zero (or none): the empty state."""
    _check(values)
    largest = max((v for _, v in values), default=0)
    if largest == 0:
        return _empty(title, chart_id)
    total = sum(v for _, v in values)
    desc = f"{title}: " + "; ".join(f"{label} {value}" for label, value in values) + "."
    height = _TOP * 2 + _ROW * len(values)
    rows: list[str] = []
    for i, (label, value) in enumerate(values):
        y = _TOP + i * _ROW
        width = value / largest * BAR_WIDTH
        mid = y + _ROW / 2 + 4
        rows.append(
            f'<g class="row"><text class="label" x="{_LABEL_WIDTH - 10}" y="{mid:g}"'
            f' text-anchor="end">{escape(label)}</text>'
            f'<rect class="track" x="{_LABEL_WIDTH}" y="{y + (_ROW - _BAR) / 2:g}"'
            f' width="{BAR_WIDTH}" height="{_BAR}" rx="2" fill="{_TRACK}"/>'
            f'<rect class="bar" data-label="{escape(label)}" data-value="{value}"'
            f' x="{_LABEL_WIDTH}" y="{y + (_ROW - _BAR) / 2:g}" width="{_number(width)}"'
            f' height="{_BAR}" rx="2" fill="{escape(colour)}"><title>{escape(label)}: {value}'
            f"</title></rect>"
            f'<text class="value" x="{_LABEL_WIDTH + BAR_WIDTH + 10}" y="{mid:g}"'
            f' font-weight="600">{value}<tspan fill="{_MUTED}" font-weight="400">'
            f" ({_percent(value, total)})</tspan></text></g>"
        )
    return _markup(_open(title, desc, height, chart_id) + "".join(rows) + "</svg>")


def stacked_bar_chart(
    title: str,
    rows: Sequence[tuple[str, Series]],
    *,
    chart_id: str | None = None,
) -> Markup:
    """One bar per row, stacked from its ``(series label, count)`` segments; the row with the
    largest total is :data:`BAR_WIDTH` long, and each segment's width is proportional to its
    count. The series take :data:`PALETTE`'s colours in order (a legend under the bars); every
    row must list the same series in the same order. All zero: the empty state."""
    for _, segments in rows:
        _check(segments)
    series = [label for label, _ in rows[0][1]] if rows else []
    if any([label for label, _ in segments] != series for _, segments in rows):
        raise ValueError("every row of a stacked bar chart needs the same series")
    if len(series) > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} series")
    largest = max((sum(v for _, v in segments) for _, segments in rows), default=0)
    if largest == 0:
        return _empty(title, chart_id)
    desc = (
        f"{title}: "
        + "; ".join(
            f"{row}: " + ", ".join(f"{label} {value}" for label, value in segments)
            for row, segments in rows
        )
        + "."
    )
    height = _TOP * 2 + _ROW * len(rows) + 24
    parts: list[str] = []
    for i, (row, segments) in enumerate(rows):
        y = _TOP + i * _ROW
        bar_y = y + (_ROW - _BAR) / 2
        mid = y + _ROW / 2 + 4
        parts.append(
            f'<g class="row" data-label="{escape(row)}"><text class="label"'
            f' x="{_LABEL_WIDTH - 10}" y="{mid:g}" text-anchor="end">{escape(row)}</text>'
            f'<rect class="track" x="{_LABEL_WIDTH}" y="{bar_y:g}" width="{BAR_WIDTH}"'
            f' height="{_BAR}" rx="2" fill="{_TRACK}"/>'
        )
        x = float(_LABEL_WIDTH)
        for (label, value), colour in zip(segments, PALETTE, strict=False):
            width = value / largest * BAR_WIDTH
            if value:
                parts.append(
                    f'<rect class="bar" data-label="{escape(label)}" data-value="{value}"'
                    f' x="{_number(x)}" y="{bar_y:g}" width="{_number(width)}"'
                    f' height="{_BAR}" fill="{colour}"><title>{escape(row)}, {escape(label)}:'
                    f" {value}</title></rect>"
                )
            x += width
        total = sum(v for _, v in segments)
        parts.append(
            f'<text class="value" x="{_LABEL_WIDTH + BAR_WIDTH + 10}" y="{mid:g}"'
            f' font-weight="600">{total}</text></g>'
        )
    legend_y = _TOP + _ROW * len(rows) + 8
    parts.append(
        f'<g class="legend" transform="translate({_LABEL_WIDTH} 0)">'
        + _legend(legend_y, list(zip(series, PALETTE, strict=False)))
        + "</g>"
    )
    return _markup(_open(title, desc, height, chart_id) + "".join(parts) + "</svg>")


def share_chart(
    title: str,
    segments: Series,
    *,
    chart_id: str | None = None,
    colours: Sequence[str] = PALETTE,
) -> Markup:
    """One bar of :data:`SHARE_WIDTH` split into ``(label, count)`` segments, each as wide as
    its share of the total; a legend with each count and percentage under it. All zero: the
    empty state."""
    _check(segments)
    if len(segments) > len(colours):
        raise ValueError(f"at most {len(colours)} segments")
    total = sum(v for _, v in segments)
    if total == 0:
        return _empty(title, chart_id)
    desc = (
        f"{title}: "
        + "; ".join(
            f"{label} {value} of {total} ({_percent(value, total)})" for label, value in segments
        )
        + "."
    )
    bar_h = 24
    height = _TOP * 2 + bar_h + 12 + 22 * len(segments)
    parts: list[str] = [
        f'<rect class="track" x="0" y="{_TOP}" width="{SHARE_WIDTH}" height="{bar_h}" rx="3"'
        f' fill="{_TRACK}"/>'
    ]
    x = 0.0
    for (label, value), colour in zip(segments, colours, strict=False):
        width = value / total * SHARE_WIDTH
        if value:
            parts.append(
                f'<rect class="bar" data-label="{escape(label)}" data-value="{value}"'
                f' x="{_number(x)}" y="{_TOP}" width="{_number(width)}" height="{bar_h}"'
                f' fill="{escape(colour)}"><title>{escape(label)}: {value}'
                f" ({_percent(value, total)})</title></rect>"
            )
        x += width
    for i, ((label, value), colour) in enumerate(zip(segments, colours, strict=False)):
        y = _TOP + bar_h + 12 + 22 * i
        parts.append(
            f'<g class="legend-item"><rect x="0" y="{y}" width="12" height="12" rx="2"'
            f' fill="{escape(colour)}"/><text x="18" y="{y + 10}">{escape(label)}:'
            f' <tspan font-weight="600">{value}</tspan><tspan fill="{_MUTED}">'
            f" ({_percent(value, total)})</tspan></text></g>"
        )
    return _markup(_open(title, desc, height, chart_id) + "".join(parts) + "</svg>")
