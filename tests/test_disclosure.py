"""RULES.md, Disclosure (issue 13): no suppressed count on the board report can be recomputed from what stands
beside it. The test plays the attacker on every coverage row of every demo quarter: total minus the other
part, total times the rate."""
from __future__ import annotations

from datetime import date

import pytest

from cohaesie_pipeline import disclosure
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.reports.board_report import board_context
from cohaesie_pipeline.reports.data import load_quarter

QUARTERS = ["2023Q1", "2023Q4", "2024Q3", "2024Q4"]


def _num(text: str) -> int | None:
    return int(text.replace(".", "")) if text and text.replace(".", "").isdigit() else None


def test_parts_of_a_total_hide_a_second_part_with_a_small_one():
    # the cases found in the issue: 28 assessed, 8 empty (71.4%); 12 assessed, 2 empty (83.3%)
    assert disclosure.parts_of_a_total(28, {"with_care": 20, "empty": 8}, 10) == (
        "28", {"with_care": "–", "empty": "<10"}, False)
    assert disclosure.parts_of_a_total(12, {"with_care": 10, "empty": 2}, 10)[1] == {"with_care": "–", "empty": "<10"}
    assert disclosure.parts_of_a_total(40, {"with_care": 40, "empty": 0}, 10) == (
        "40", {"with_care": "40", "empty": "0"}, True)
    assert disclosure.parts_of_a_total(7, {"with_care": 5, "empty": 2}, 10) == (
        "<10", {"with_care": "–", "empty": "–"}, False)
    assert disclosure.rate(5, 200, 10) == "–" and disclosure.rate(50, 8, 10) == "<10"


@pytest.mark.parametrize("quarter", QUARTERS)
def test_no_suppressed_coverage_count_can_be_recomputed(demo_db, quarter):
    policy = load_policy()
    sup = policy.suppress_below
    data = load_quarter(demo_db, Quarter.parse(quarter))
    ctx = board_context(data, policy, date(2025, 1, 15))
    truth = {(r.practice_agb, r.program): r for r in data.coverage[data.coverage.quarter == quarter].itertuples()}
    names = data.practices.set_index("practice_agb").practice_name.to_dict()
    by_name = {(names[a], p): r for (a, p), r in truth.items()}
    suppressed = 0
    for row in ctx["coverage"]:
        r = by_name[(row["name"], row["program"])]
        shown_total, wc, empty = _num(row["assessed"]), _num(row["with_care"]), _num(row["empty"])
        for cell, value in (("with_care", r.patients_with_care), ("empty", r.empty_records)):
            if 0 < value < sup:
                suppressed += 1
                assert row[cell] in (f"<{sup}", "–"), (row, cell)
        # the attacker: total minus the other part, total times the rate
        small = [v for v in (r.patients_with_care, r.empty_records) if 0 < v < sup]
        if small and shown_total is not None:
            assert wc is None and empty is None, row
            assert row["coverage"] in ("–", f"<{sup}"), row
    assert suppressed > 0, "the demo has small counts to hide in this quarter"
    for q in ctx["quality"]:
        assert _num(q["rows"]) is None or not 0 < _num(q["rows"]) < sup


def test_the_coverage_table_is_not_ordered_by_coverage(demo_db):
    """A hidden rate placed between two shown ones in a coverage-sorted table would be bounded by them."""
    policy = load_policy()
    ctx = board_context(load_quarter(demo_db, Quarter.parse("2024Q4")), policy, date(2025, 1, 15))
    order = [(not r["below"], r["norm"] == "–", r["name"], r["program"]) for r in ctx["coverage"]]
    assert order == sorted(order)


def test_the_board_opens_with_one_decision_row_per_underperformer(demo_db):
    """Issue 13 item 2: the decision page carries what the decision rests on."""
    policy = load_policy()
    data = load_quarter(demo_db, Quarter.parse("2024Q4"))
    ctx = board_context(data, policy, date(2025, 1, 15))
    cls = data.classification[(data.classification.quarter == "2024Q4") & (data.classification.status == "underperformer")]
    assert sorted((r["agb"], r["program"]) for r in ctx["decisions"]) == sorted(zip(cls.practice_agb, cls.program))
    assert ctx["decisions"], "the demo has underperformers in 2024Q4"
    for r in ctx["decisions"]:
        assert r["lagging"] and all("(grens " in x for x in r["lagging"])
        assert r["since"].startswith("20") and r["next"] and r["potential"].startswith("€")
    money = ctx["headlines"][1]
    assert "tot en met 2024Q4 (jaar tot nu)" in money and "toegepast" in money
