"""The server-drawn SVG charts: lengths proportional to the values, every label escaped, the
empty state, and what a screen reader gets."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from shieldwall.web.charts import (
    BAR_WIDTH,
    EMPTY_MESSAGE,
    SHARE_WIDTH,
    bar_chart,
    share_chart,
    stacked_bar_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))


def _bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_bar_lengths_are_proportional_to_the_values() -> None:
    root = _parse(bar_chart("Notices", [("A", 8), ("B", 2), ("C", 0), ("D", 5)]))
    bars = {b.get("data-label"): b for b in _bars(root)}
    widths = {label: float(b.get("width", "nan")) for label, b in bars.items()}
    assert widths == {"A": BAR_WIDTH, "B": BAR_WIDTH / 4, "C": 0.0, "D": BAR_WIDTH * 5 / 8}
    assert {label: b.get("data-value") for label, b in bars.items()} == {
        "A": "8",
        "B": "2",
        "C": "0",
        "D": "5",
    }
    assert len({b.get("x") for b in bars.values()}) == 1  # one baseline
    ys = [float(b.get("y", "nan")) for b in bars.values()]
    assert ys == sorted(ys) and len(set(ys)) == 4  # one row each, in order
    texts = _texts(root)
    assert "8 (53.3%)" in texts and "0 (0.0%)" in texts


def test_stacked_segments_are_proportional_to_the_largest_row() -> None:
    root = _parse(
        stacked_bar_chart(
            "By ground",
            [
                ("Law", [("Removed", 6), ("Labelled", 2)]),
                ("Terms", [("Removed", 1), ("Labelled", 3)]),
            ],
        )
    )
    rows = {g.get("data-label"): _bars(g) for g in root.iter(f"{SVG}g") if g.get("class") == "row"}
    law, terms = rows["Law"], rows["Terms"]
    assert [float(b.get("width", "nan")) for b in law] == [BAR_WIDTH * 6 / 8, BAR_WIDTH * 2 / 8]
    assert [float(b.get("width", "nan")) for b in terms] == [BAR_WIDTH / 8, BAR_WIDTH * 3 / 8]
    # segments follow each other, the same series the same colour in every row
    assert float(law[1].get("x", "nan")) == float(law[0].get("x", "nan")) + BAR_WIDTH * 6 / 8
    assert law[0].get("fill") == terms[0].get("fill") != law[1].get("fill")
    legend = [t for t in _texts(root) if t in ("Removed", "Labelled")]
    assert legend == ["Removed", "Labelled"]
    assert "8" in _texts(root) and "4" in _texts(root)  # row totals


def test_stacked_rows_need_the_same_series() -> None:
    with pytest.raises(ValueError, match="same series"):
        stacked_bar_chart("X", [("a", [("one", 1)]), ("b", [("two", 1)])])


def test_a_share_is_split_by_the_total() -> None:
    root = _parse(share_chart("Within 48 hours", [("In time", 3), ("Late", 1), ("Never", 0)]))
    bars = _bars(root)
    assert [b.get("data-label") for b in bars] == ["In time", "Late"]  # no zero-width segment
    assert [float(b.get("width", "nan")) for b in bars] == [SHARE_WIDTH * 3 / 4, SHARE_WIDTH / 4]
    assert float(bars[1].get("x", "nan")) == SHARE_WIDTH * 3 / 4
    texts = _texts(root)
    assert "In time: 3 (75.0%)" in texts and "Never: 0 (0.0%)" in texts


def test_every_label_is_escaped() -> None:
    nasty = "<script>alert(\"x\")</script> & 'quotes'"
    for svg in (
        bar_chart(nasty, [(nasty, 1)], chart_id=nasty),
        stacked_bar_chart(nasty, [(nasty, [(nasty, 1)])]),
        share_chart(nasty, [(nasty, 1)]),
    ):
        assert "<script" not in svg
        root = _parse(svg)  # well-formed: the quotes did not break an attribute
        assert root.get("aria-label") == nasty
        assert root.findtext(f"{SVG}title") == nasty
        assert nasty in (root.findtext(f"{SVG}desc") or "")
        assert any(nasty in t for t in _texts(root))
        assert _bars(root)[0].get("data-label") == nasty


@pytest.mark.parametrize(
    "svg",
    [
        bar_chart("Nothing", [("A", 0), ("B", 0)]),
        bar_chart("Nothing", []),
        stacked_bar_chart("Nothing", [("Law", [("Removed", 0)])]),
        stacked_bar_chart("Nothing", []),
        share_chart("Nothing", [("Upheld", 0), ("Rejected", 0)]),
    ],
)
def test_zero_data_shows_the_empty_state(svg: Markup) -> None:
    root = _parse(svg)
    assert _bars(root) == []
    assert EMPTY_MESSAGE in _texts(root)
    assert root.get("role") == "img" and root.get("aria-label") == "Nothing"
    assert EMPTY_MESSAGE.lower() in (root.findtext(f"{SVG}desc") or "")


def test_accessible_name_and_description() -> None:
    root = _parse(bar_chart("Notices by source", [("People", 3), ("Flaggers", 1)], chart_id="c"))
    assert root.get("role") == "img"
    assert root.get("id") == "c"
    assert root.get("aria-label") == "Notices by source"
    assert root.findtext(f"{SVG}title") == "Notices by source"
    assert root.findtext(f"{SVG}desc") == "Notices by source: People 3; Flaggers 1."
    assert "style" not in str(bar_chart("x", [("y", 1)]))  # no inline style for the CSP


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        bar_chart("X", [("a", -1)])
