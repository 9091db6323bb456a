"""RULES.md, Disclosure (issue 13): no suppressed count on the board report can be recomputed from what stands
beside it. The board's tables are stored suppressed in the report layer (marts.report_board_*, built through
dbt_project/macros/disclosure.sql; the hand-made cases are dbt unit tests in models/marts/_report_unit_tests.yml).
The tests play the attacker on those marts over every demo quarter and on the board as rendered: total minus
the other part, total times the rate, denominator times the rate."""
from __future__ import annotations

from datetime import date

import pytest

from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.reports.board_report import board_context
from cohaesie_pipeline.reports.data import load_quarter

QUARTERS = ["2023Q1", "2023Q4", "2024Q3", "2024Q4"]


def _num(text: str) -> int | None:
    return int(text.replace(".", "")) if text and text.replace(".", "").isdigit() else None


def test_the_board_marts_hold_nothing_that_gives_a_small_count_back(demo_db):
    """Every quarter, every row of the report layer's board tables against the unsuppressed marts."""
    sup = load_policy().suppress_below
    small = f"between 1 and {sup - 1}"
    # coverage: a shown count is never small; a small part (or total) leaves no way back: total and other part
    # and rate are not all three there
    leaks = demo_db.execute(f"""
        select t.quarter, t.practice_agb, t.program from marts.report_board_coverage b
        join marts.practice_coverage t using (quarter, practice_agb, program)
        where b.assessed_patients {small} or b.patients_with_care {small} or b.empty_records {small}
           or ((t.patients_with_care {small} or t.empty_records {small} or t.assessed_patients {small})
               and (b.patients_with_care is not null or b.empty_records is not null or b.coverage is not null))
           or (b.assessed_patients is null and t.assessed_patients not {small})""").fetchall()
    assert leaks == []
    hidden = demo_db.execute(f"""select count(*) from marts.report_board_coverage
                                 where empty_mark = '<{sup}' and with_care_mark = '–'""").fetchone()[0]
    assert hidden > 0, "the demo has small counts to hide"
    # per practice indicator: a rate (and the gap computed from it) only where neither count is small
    leaks = demo_db.execute(f"""
        select t.quarter, t.practice_agb, t.indicator_code from marts.report_board_key_indicators b
        join marts.practice_indicators t using (quarter, practice_agb, indicator_code)
        where b.denominator {small}
           or ((t.numerator {small} or t.denominator {small})
               and (b.rate is not null or b.reference_gap_abs is not null))
           or (b.rate is not null and round(b.rate * b.denominator) {small})""").fetchall()
    assert leaks == []
    assert demo_db.execute(f"""select count(*) from marts.report_board_key_indicators b
                               join marts.practice_indicators t using (quarter, practice_agb, indicator_code)
                               where t.numerator {small} and t.denominator >= {sup} and b.rate_mark = '–'""").fetchone()[0] > 0
    # the care group's pooled rows and the data-quality counts
    assert demo_db.execute(f"""select count(*) from marts.report_board_overview
                               where care_group_denominator {small}""").fetchone()[0] == 0
    truth = demo_db.execute(f"""select count(*) from (select quarter, finding, description_nl, sum(rows_affected) n
                                from marts.data_quality_findings group by all) where n {small}""").fetchone()[0]
    shown = demo_db.execute(f"""select count(*) filter (where rows_affected {small}),
                                       count(*) filter (where rows_mark = '<{sup}')
                                from marts.report_board_data_quality""").fetchone()
    assert shown == (0, truth)


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
