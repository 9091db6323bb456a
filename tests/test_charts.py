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
    # step: row 1 0.65 -> 60%, row 2 0.45 -> 40%); under each panel its first and last quarter
    assert texts(first) == ["60%", "100%"] + ["&#x27;23 Q1", "&#x27;24 Q4"] * 3
    assert texts(second) == ["40%", "100%"] + ["&#x27;23 Q1", "&#x27;24 Q4"] * 2
    # one element per series over all panels of a row: grid, quarter ticks, national, care group, practice,
    # practice dots
    assert first.count("<path") == 6 and "<polyline" not in first
    ticks = re.search(r'<path d="([^"]+)" stroke="#99a3ad"', first).group(1)
    assert ticks.count("M") == 3 * len(QUARTERS)
    national = re.search(r'<path d="([^"]+)" fill="none" stroke="#555555"', first).group(1)
    assert national.count("M") == 3
    assert "Indicator" not in first + second


def test_trend_band_and_limit_line_and_the_floor_they_move():
    panel = {**_panel("HbA1c gemeten", 0.8),
             "band": {q: (0.7, 0.88) for q in QUARTERS}, "limit": {q: 0.52 for q in QUARTERS}}
    svg = _svg(charts.trend_panels([panel], QUARTERS)[0]["img"])
    # the lag limit 0.52 is the row's lowest line: floor 0.47 -> 40%
    assert re.findall(r"<text[^>]*>([^<]*)</text>", svg)[:2] == ["40%", "100%"]
    band = re.search(r'<path d="([^"]+)" fill="#1f5fa8" fill-opacity="0.14"', svg).group(1)
    assert band.endswith("Z") and band.count("L") == 2 * len(QUARTERS) - 1  # upper edge, then lower edge back
    limit = re.search(r'<path d="([^"]+)" fill="none" stroke="#c0392b"', svg).group(1)
    assert limit.count("L") == len(QUARTERS) - 1
    # the board's trends (no practice) show neither
    board = _svg(charts.trend_panels([panel], QUARTERS, show_practice=False)[0]["img"])
    assert "fill-opacity" not in board and "#c0392b" not in board


def test_position_chart_rows_line_up_with_their_html_labels():
    rows = [{"title": f"Indicator {i}", "others": [0.5, 0.6, float("nan")], "own": 0.7, "ci": (0.55, 0.82),
             "national": 0.8, "limit": 0.6} for i in range(4)]
    chart = charts.position_chart(rows)
    assert chart["titles"] == [r["title"] for r in rows]
    assert chart["height_mm"] == pytest.approx(4 * chart["row_mm"] + chart["axis_mm"], abs=0.01)
    svg = _svg(chart["img"])
    width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())
    assert chart["width_mm"] * height / width == pytest.approx(chart["height_mm"], abs=0.01)
    assert re.findall(r"<text[^>]*>([^<]*)</text>", svg) == ["0%", "50%", "100%"]
    # the lag limit is the mart's: 0.6 of the 320-wide scale, after 10
    assert re.search(r'<path d="M202.0,[^"]*" stroke="#c0392b"', svg)
    # whiskers from 0.55 to 0.82 (x 186.0 to 272.4) on every strip, drawn before the practice's dot, and the
    # reference and limit ticks after it (a limit under the dot stays visible)
    whiskers = re.search(r'<path d="([^"]+)" stroke="#1f5fa8" stroke-width="1.1"', svg).group(1)
    assert whiskers.count("M186.0,") == 4 * 2 and whiskers.count("H272.4") == 4
    order = [svg.index(k) for k in ('stroke-width="1.1" fill="none"', 'stroke="white"', 'stroke="#555555"',
                                    'stroke="#c0392b"')]
    assert order == sorted(order)
    # no interval, no whiskers
    assert 'stroke-width="1.1" fill="none"' not in _svg(charts.position_chart([{**rows[0], "ci": None}])["img"])


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


def test_practice_report_draws_the_marts_interval_and_lag_limit(demo_db):
    """Issue 13 item 3: the whiskers on the position chart and the band in the trends are the mart's 95%
    interval, the red line the mart's lag_limit: nothing is recomputed in the report."""
    from datetime import date

    from cohaesie_pipeline.policy.config import load_policy
    from cohaesie_pipeline.quarters import Quarter
    from cohaesie_pipeline.reports.data import load_quarter
    from cohaesie_pipeline.reports.practice_report import practice_context

    data = load_quarter(demo_db, Quarter.parse("2024Q4"))
    agb = demo_db.execute("""select practice_agb from marts.practice_indicators where quarter = '2024Q4'
                             and program = 'DM2' and is_key and not too_small order by practice_agb limit 1""").fetchone()[0]
    rows = demo_db.execute("""select ci_low, ci_high, lag_limit from marts.practice_indicators
                              where quarter = '2024Q4' and practice_agb = ? and program = 'DM2' and is_key
                              and not too_small and rate is not null order by sort_order""", [agb]).fetchall()
    view = next(p for p in practice_context(data, agb, load_policy(), date(2025, 1, 15))["programs"] if p["code"] == "DM2")
    svg = _svg(view["positions"]["img"])
    whiskers = re.search(r'<path d="([^"]+)" stroke="#1f5fa8" stroke-width="1.1"', svg).group(1)
    limits = re.search(r'<path d="([^"]+)" stroke="#c0392b"', svg).group(1)
    for ci_low, ci_high, lag_limit in rows:
        assert f"M{charts._strip_x(ci_low):.1f}," in whiskers and f"H{charts._strip_x(ci_high):.1f}" in whiskers
        assert f"M{charts._strip_x(lag_limit):.1f}," in limits
    trend = "".join(_svg(r["img"]) for r in view["trend"])
    assert trend.count('fill-opacity="0.14"') == len(view["trend"])  # one band path per row of panels
