"""Settlements (RULES.md, contract art. 4.17): hand-computed scenarios and properties."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cohaesie_pipeline.policy.settlement import apportion, round_half_up, settle_year
from cohaesie_pipeline.quarters import Quarter
from tests.policy_fixtures import POLICY, steps

DELIVERIES = pd.DataFrame(columns=["quarter", "file_kind", "content_sha256"])


def cov(quarter, agb="A", program="DM2", assessed=10, with_care=8, meets=False, fees="300.00", without="100.00"):
    return {"quarter": quarter, "practice_agb": agb, "program": program, "declared_patients": assessed,
            "grace_patients": 0, "assessed_patients": assessed, "patients_with_care": with_care,
            "coverage": with_care / assessed if assessed else None, "meets_norm": meets,
            "fees_declared": Decimal(fees), "fees_without_care": Decimal(without)}


def holders(*rows):
    return pd.DataFrame([{"practice_agb": a, "gp_agb": g, "gp_name": g, "held_from": f, "held_until": u}
                         for a, g, f, u in rows], columns=["practice_agb", "gp_agb", "gp_name", "held_from", "held_until"])


def run(coverage_rows, hold, reg=None, year=2024, as_of="2024Q4"):
    return settle_year(year, Quarter.parse(as_of), pd.DataFrame(coverage_rows), hold,
                       reg if reg is not None else steps(), DELIVERIES, POLICY)


def test_holder_change_in_the_middle_of_a_quarter():
    # GP1 holds April and May (first days), GP2 takes over on 16 May and holds June
    s, d, _ = run([cov("2024Q2", without="100.00", fees="300.00")],
                  holders(("A", "GP1", date(2010, 1, 1), date(2024, 5, 15)), ("A", "GP2", date(2024, 5, 16), None)))
    rows = s.set_index("huisarts_agb")
    assert rows.loc["GP1"].months_held == 2 and rows.loc["GP2"].months_held == 1
    assert rows.loc["GP1"].settlement_amount == Decimal("66.67") and rows.loc["GP2"].settlement_amount == Decimal("33.33")
    assert rows.loc["GP1"].fees_paid == Decimal("200.00") and rows.loc["GP2"].fees_paid == Decimal("100.00")
    assert rows.loc["GP1"].fees_entitled == Decimal("133.33") and rows.loc["GP2"].fees_entitled == Decimal("66.67")
    assert d.iloc[0].settlement_amount == Decimal("100.00") and d.iloc[0].months_without_holder == 0


def test_month_without_a_holder_is_reported_not_assigned():
    s, d, _ = run([cov("2024Q3", without="90.00", fees="300.00")],
                  holders(("A", "GP1", date(2010, 1, 1), date(2024, 8, 31))))
    assert s.iloc[0].months_held == 2 and s.iloc[0].settlement_amount == Decimal("60.00")
    assert d.iloc[0].months_without_holder == 1 and d.iloc[0].unassigned_amount == Decimal("30.00")


def test_coverage_at_the_norm_and_not_judged_settle_nothing():
    hold = holders(("A", "GP1", date(2010, 1, 1), None))
    s, d, _ = run([cov("2024Q1", with_care=9, meets=True), cov("2024Q2", assessed=0, with_care=0, meets=None)], hold)
    assert (d.settlement_amount == Decimal("0")).all()
    assert s.iloc[0].settlement_amount == Decimal("0.00") and s.iloc[0].fees_paid == Decimal("600.00")
    assert s.iloc[0].settlement_status == "geen"


def test_thirds_of_a_cent_round_half_up_and_add_up():
    # 0.10 over three months: GP1 one month (0.0333..) and GP2 two months (0.0666..)
    s, _, _ = run([cov("2024Q2", without="0.10", fees="0.30")],
                  holders(("A", "GP1", date(2010, 1, 1), date(2024, 4, 30)), ("A", "GP2", date(2024, 5, 1), None)))
    rows = s.set_index("huisarts_agb")
    assert rows.loc["GP1"].settlement_amount == Decimal("0.03") and rows.loc["GP2"].settlement_amount == Decimal("0.07")
    # one GP all year: the thirds recombine exactly
    s, _, _ = run([cov(f"2024Q{i}", without="100.01", fees="300.00") for i in range(1, 5)],
                  holders(("A", "GP1", date(2010, 1, 1), None)))
    assert s.iloc[0].settlement_amount == Decimal("400.04") and s.iloc[0].months_held == 12
    assert round_half_up(Fraction(1, 200)) == Decimal("0.01") and round_half_up(Fraction(1, 300)) == Decimal("0.00")


def test_applied_only_after_step_four_known_by_the_year_end():
    hold = holders(("A", "GP1", date(2010, 1, 1), None))
    rows = [cov("2024Q1")]
    s, _, r = run(rows, hold, steps(("A", "DM2", "4_financiele_verrekening", date(2024, 2, 1), None)), as_of="2024Q2")
    assert s.iloc[0].applied and s.iloc[0].settlement_status == "toegepast"
    assert r.iloc[0].reserved_amount == Decimal("100.00")
    # step 4 registered after the as-of peildatum is not known yet; after the year's end it is next year's
    s, _, r = run(rows, hold, steps(("A", "DM2", "4_financiele_verrekening", date(2024, 5, 1), None)), as_of="2024Q2")
    assert not s.iloc[0].applied and s.iloc[0].settlement_status == "potentieel" and r.empty
    s, _, _ = run(rows, hold, steps(("A", "DM2", "4_financiele_verrekening", date(2025, 1, 5), None)), as_of="2024Q4")
    assert not s.iloc[0].applied
    # another program's step 4 does not apply here
    s, _, _ = run(rows, hold, steps(("A", "CVRM", "4_financiele_verrekening", date(2024, 2, 1), None)))
    assert not s.iloc[0].applied


def test_only_quarters_up_to_the_as_of_quarter_count():
    hold = holders(("A", "GP1", date(2010, 1, 1), None))
    s, d, _ = run([cov("2024Q1"), cov("2024Q3")], hold, as_of="2024Q2")
    assert list(d.quarter) == ["2024Q1"] and s.iloc[0].months_held == 3 and s.iloc[0].quarters_included == "2024Q1-2024Q2"


def test_fingerprint_names_the_delivered_files():
    deliveries = pd.DataFrame([{"quarter": "2024Q1", "file_kind": k, "content_sha256": k * 8}
                               for k in ("patienten", "meetwaarden", "declaraties")])
    hold = holders(("A", "GP1", date(2010, 1, 1), None))
    a = settle_year(2024, Quarter.parse("2024Q1"), pd.DataFrame([cov("2024Q1")]), hold, steps(), deliveries, POLICY)[0]
    deliveries.loc[0, "content_sha256"] = "changed"
    b = settle_year(2024, Quarter.parse("2024Q1"), pd.DataFrame([cov("2024Q1")]), hold, steps(), deliveries, POLICY)[0]
    assert a.iloc[0].input_fingerprint.startswith("sha256:") and a.iloc[0].input_fingerprint != b.iloc[0].input_fingerprint
    assert a.iloc[0].policy_version == POLICY.label


MONTHS = [date(2024, m, 1) for m in range(1, 13)]


@st.composite
def scenario(draw):
    n_q = draw(st.integers(1, 4))
    rows = []
    for i in range(1, n_q + 1):
        fees = draw(st.integers(0, 5_000_000))
        without = draw(st.integers(0, fees))
        meets = draw(st.sampled_from([True, False, None]))
        rows.append(cov(f"2024Q{i}", meets=meets, fees=str(Decimal(fees) / 100), without=str(Decimal(without) / 100)))
    hold = []
    for g in range(draw(st.integers(0, 4))):
        start = draw(st.sampled_from(MONTHS + [date(2024, 5, 16), date(2020, 1, 1)]))
        end = draw(st.sampled_from([None, date(2024, 3, 31), date(2024, 5, 15), date(2024, 8, 31), date(2024, 12, 31)]))
        if end is not None and end < start:
            start, end = end, start
        hold.append(("A", f"GP{g}", start, end))
    return rows, holders(*hold)


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_properties_never_negative_never_above_fees_and_adds_up(sc):
    rows, hold = sc
    s, d, _ = settle_year(2024, Quarter.parse("2024Q4"), pd.DataFrame(rows), hold, steps(), DELIVERIES, POLICY)
    assert (s.settlement_amount >= 0).all()
    assert (s.settlement_amount <= s.fees_paid).all()
    assert (s.fees_entitled >= 0).all()
    # the GPs' rows add up to the practice's quarter amounts, less the months nobody held
    exact_assigned = Fraction(0)
    for r in d.itertuples():
        per_month = Fraction(r.settlement_amount) / 3
        exact_assigned += per_month * (3 - r.months_without_holder)
    assert sum(s.settlement_amount, Decimal(0)) == round_half_up(exact_assigned)
    assert sum(d.settlement_amount, Decimal(0)) == sum(
        (Decimal(r["fees_without_care"]) for r in rows if r["meets_norm"] is False), Decimal(0))


@given(st.lists(st.fractions(min_value=0, max_value=10_000, max_denominator=300), min_size=1, max_size=6))
def test_apportion_adds_up_and_stays_within_a_cent(values):
    out = apportion(values)
    assert sum(out, Decimal(0)) == round_half_up(sum(values, Fraction(0)))
    assert all(abs(Fraction(o) - v) < Fraction(1, 100) for o, v in zip(out, values))
