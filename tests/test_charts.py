"""The chart builders: geometry the HTML depends on, and the text kept out of the SVGs (WeasyPrint draws
SVG text one letter at a time, so titles and legends are HTML)."""
import base64
import re

import pytest

from cohaesie_pipeline.reports import charts

QUARTERS = ["2023Q1", "2023Q2", "2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4"]


def _svg(img) -> str:
    return base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", str(img)).group(1)).decode()


def _panel(title: str, level: float) -> dict:
    return {"title": title, "practice": {q: level for q in QUARTERS}, "care_group": {q: 0.8 for q in QUARTERS},
            "national": {q: 0.85 for q in QUARTERS}}


def test_trend_rows_share_an_axis_and_keep_titles_out_of_the_svg():
    rows = charts.trend_panels([_panel(f"Indicator {i}", 0.9 - i / 10) for i in range(5)], QUARTERS, cols=3)
    assert [r["titles"] for r in rows] == [["Indicator 0", "Indicator 1", "Indicator 2"],
                                          ["Indicator 3", "Indicator 4", ""]]
    first, second = _svg(rows[0]["img"]), _svg(rows[1]["img"])
    texts = lambda svg: re.findall(r"<text[^>]*>([^<]*)</text>", svg)  # noqa: E731
    # y labels once per row at the row's shared floor (lowest value - 5 points, at most 60%, down to a 10%
    # step: row 1 0.65 -> 60%, row 2 0.45 -> 40%); the quarters span is in the HTML heading
    assert texts(first) == ["60%", "100%"]
    assert texts(second) == ["40%", "100%"]
    # one element per series over all panels of a row: grid, national, care group, practice, practice dots
    assert first.count("<path") == 5 and "<polyline" not in first
    national = re.search(r'<path d="([^"]+)" fill="none" stroke="#555555"', first).group(1)
    assert national.count("M") == 3
    assert "Indicator" not in first + second


def test_position_chart_rows_line_up_with_their_html_labels():
    rows = [{"title": f"Indicator {i}", "others": [0.5, 0.6, float("nan")], "own": 0.7, "national": 0.8}
            for i in range(4)]
    chart = charts.position_chart(rows, lag_threshold=0.25)
    assert chart["titles"] == [r["title"] for r in rows]
    assert chart["height_mm"] == pytest.approx(4 * chart["row_mm"] + chart["axis_mm"], abs=0.01)
    svg = _svg(chart["img"])
    width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())
    assert chart["width_mm"] * height / width == pytest.approx(chart["height_mm"], abs=0.01)
    assert re.findall(r"<text[^>]*>([^<]*)</text>", svg) == ["0%", "50%", "100%"]
    # the lag limit comes from the policy threshold: 0.8 x (1 - 0.25) = 0.6 of the 320-wide scale, after 10
    assert "M202.0," in svg


def test_heatmap_grid_rows_line_up_with_the_practice_names():
    names = [f"Praktijk {i}" for i in range(3)]
    # "!" follows the rule's lagging flag, not a pp band: -25 pp lagging, -5 pp not lagging (a high national rate
    # can make -5 pp more than 20% behind only in another cell; here the flags say which)
    hm = charts.heatmap([[-25.0, 4.0], [None, 0.0], [12.0, -5.0]], [[False, False], [False, True], [False, False]],
                        names, ["HbA1c gemeten", "Voetonderzoek verricht"],
                        [[True, False], [False, False], [False, False]])
    assert hm["labels"] == names
    assert hm["height_mm"] == pytest.approx(hm["head_mm"] + 3 * hm["row_mm"], abs=0.01)
    svg = _svg(hm["img"])
    assert "Praktijk" not in svg  # names are HTML
    assert svg.count(">!</text>") == 1  # only the lagging cell is marked
    # the missing value and the suppressed cell are both hatched, in one path of two cells
    hatched = re.search(r'<path d="([^"]+)" fill="#ffffff"', svg).group(1)
    assert hatched.count("M") == 2
