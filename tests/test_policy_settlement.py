"""Settlements (RULES.md, contract art. 4.17): hand-computed scenarios and properties."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cohaesie_pipeline.policy.settlement import round_half_up, settle_year
from cohaesie_pipeline.quarters import Quarter
from tests.policy_fixtures import POLICY, steps

DELIVERIES = pd.DataFrame(columns=["quarter", "file_kind", "content_sha256"])


def cov(quarter, agb="A", program="DM2", assessed=10, with_care=8, meets=False, fees="300.00", without="100.00",
        not_assessable="0.00", double="0.00"):
    return {"quarter": quarter, "practice_agb": agb, "program": program, "declared_patients": assessed,
            "double_declared_patients": int(Decimal(double) > 0), "declared_not_assessable": int(Decimal(not_assessable) > 0),
            "grace_patients": 0, "assessed_patients": assessed, "patients_with_care": with_care,
            "coverage": with_care / assessed if assessed else None, "meets_norm": meets,
            "fees_declared": Decimal(fees), "fees_without_care": Decimal(without),
            "fees_not_assessable": Decimal(not_assessable), "fees_double_declared": Decimal(double)}


def holders(*rows):
    return pd.DataFrame([{"practice_agb": a, "gp_agb": g, "gp_name": g, "held_from": f, "held_until": u}
                         for a, g, f, u in rows], columns=["practice_agb", "gp_agb", "gp_name", "held_from", "held_until"])


def run(coverage_rows, hold, reg=None, year=2024, as_of="2024Q4"):
    return settle_year(year, Quarter.parse(as_of), pd.DataFrame(coverage_rows), hold,
                       reg if reg is not None else steps(), DELIVERIES, POLICY)


def test_holder_change_in_the_middle_of_a_quarter():
    # GP1 holds April and May (first days), GP2 takes over on 16 May and holds June
    s, d, *_ = run([cov("2024Q2", without="100.00", fees="300.00")],
                  holders(("A", "GP1", date(2010, 1, 1), date(2024, 5, 15)), ("A", "GP2", date(2024, 5, 16), None)))
    rows = s.set_index("huisarts_agb")
    assert rows.loc["GP1"].months_held == 2 and rows.loc["GP2"].months_held == 1
    assert rows.loc["GP1"].settlement_amount == Decimal("66.67") and rows.loc["GP2"].settlement_amount == Decimal("33.33")
    assert rows.loc["GP1"].fees_paid == Decimal("200.00") and rows.loc["GP2"].fees_paid == Decimal("100.00")
    assert rows.loc["GP1"].fees_entitled == Decimal("133.33") and rows.loc["GP2"].fees_entitled == Decimal("66.67")
    assert d.iloc[0].settlement_amount == Decimal("100.00") and d.iloc[0].months_without_holder == 0


def test_month_without_a_holder_is_reported_not_assigned():
    s, d, *_ = run([cov("2024Q3", without="90.00", fees="300.00")],
                  holders(("A", "GP1", date(2010, 1, 1), date(2024, 8, 31))))
    assert s.iloc[0].months_held == 2 and s.iloc[0].settlement_amount == Decimal("60.00")
    assert d.iloc[0].months_without_holder == 1 and d.iloc[0].unassigned_amount == Decimal("30.00")


def test_coverage_at_the_norm_and_not_judged_settle_nothing():
    hold = holders(("A", "GP1", date(2010, 1, 1), None))
    s, d, *_ = run([cov("2024Q1", with_care=9, meets=True), cov("2024Q2", assessed=0, with_care=0, meets=None)], hold)
    assert (d.settlement_amount == Decimal("0")).all()
    assert s.iloc[0].settlement_amount == Decimal("0.00") and s.iloc[0].fees_paid == Decimal("600.00")
    assert s.iloc[0].settlement_status == "geen"


def test_each_gp_row_rounds_half_up_from_its_own_exact_value():
    # 0.10 over three months: GP1 one month (0.0333..) and GP2 two months (0.0666..)
    s, *_ = run([cov("2024Q2", without="0.10", fees="0.30")],
                holders(("A", "GP1", date(2010, 1, 1), date(2024, 4, 30)), ("A", "GP2", date(2024, 5, 1), None)))
    rows = s.set_index("huisarts_agb")
    assert rows.loc["GP1"].settlement_amount == Decimal("0.03") and rows.loc["GP2"].settlement_amount == Decimal("0.07")
    # one GP all year: the thirds recombine exactly
    s, *_ = run([cov(f"2024Q{i}", without="100.01", fees="300.00") for i in range(1, 5)],
                holders(("A", "GP1", date(2010, 1, 1), None)))
    assert s.iloc[0].settlement_amount == Decimal("400.04") and s.iloc[0].months_held == 12
    assert round_half_up(Fraction(1, 200)) == Decimal("0.01") and round_half_up(Fraction(1, 300)) == Decimal("0.00")


def test_rounding_cases_quoted_in_issue_12():
    # 1754.50 settled in a quarter; GP1 holds April, GP2 May and June: exact 584.8333 and 1169.6667.
    # Per own row, half up: 584.83 and 1169.67 (largest-remainder apportioning gave 584.84 and 1169.66).
    s, _, _, rounding = run([cov("2024Q2", without="1754.50", fees="3000.00")],
                            holders(("A", "GP1", date(2010, 1, 1), date(2024, 4, 30)), ("A", "GP2", date(2024, 5, 1), None)))
    rows = s.set_index("huisarts_agb")
    assert rows.loc["GP1"].settlement_amount == Decimal("584.83")
    assert rows.loc["GP2"].settlement_amount == Decimal("1169.67")
    assert rows.loc["GP1"].fees_paid == Decimal("1000.00") and rows.loc["GP1"].fees_entitled == Decimal("415.17")
    assert rounding.empty  # 584.83 + 1169.67 = 1754.50
    # a sole holder for two months (a month without holder): exact 583.6667 -> 583.67, not 583.66
    s, d, *_ = run([cov("2024Q3", without="875.50", fees="1500.00")],
                   holders(("A", "GP1", date(2010, 1, 1), date(2024, 8, 31))))
    assert s.iloc[0].settlement_amount == Decimal("583.67") and s.iloc[0].fees_paid == Decimal("1000.00")
    assert d.iloc[0].unassigned_amount == Decimal("291.83")


def test_a_rounding_difference_against_the_practice_total_is_its_own_row():
    # three co-holders share 100.00 for the whole quarter: 33.3333 each -> 33.33 x 3 = 99.99, a cent short
    hold = holders(*[("A", f"GP{i}", date(2010, 1, 1), None) for i in range(3)])
    s, _, _, rounding = run([cov("2024Q1", without="100.00", fees="200.00")], hold)
    assert list(s.settlement_amount) == [Decimal("33.33")] * 3
    r = rounding.set_index("amount")
    assert r.loc["settlement_amount"].practice_total == Decimal("100.00")
    assert r.loc["settlement_amount"].gp_rows_total == Decimal("99.99")
    assert r.loc["settlement_amount"].rounding_difference == Decimal("0.01")
    # fees paid 200.00 / 3 = 66.6667 -> 66.67 x 3 = 200.01: the rows are a cent over the practice total
    assert r.loc["fees_paid"].gp_rows_total == Decimal("200.01")
    assert r.loc["fees_paid"].rounding_difference == Decimal("-0.01")
TALK = ("A", "DM2", "1_bindend_verbetergesprek", date(2023, 1, 10), date(2023, 1, 20))


def test_applied_only_after_step_four_known_by_the_year_end():
    hold = holders(("A", "GP1", date(2010, 1, 1), None))
    rows = [cov("2024Q1")]
    s, _, r, _ = run(rows, hold, steps(TALK, ("A", "DM2", "4_financiele_verrekening", date(2024, 2, 1), None)),
                     as_of="2024Q2")
    assert s.iloc[0].applied and s.iloc[0].settlement_status == "toegepast"
    assert r.iloc[0].reserved_amount == Decimal("100.00")
    # step 4 registered after the as-of peildatum is not known yet; after the year's end it is next year's
    s, _, r, _ = run(rows, hold, steps(TALK, ("A", "DM2", "4_financiele_verrekening", date(2024, 5, 1), None)),
                     as_of="2024Q2")
    assert not s.iloc[0].applied and s.iloc[0].settlement_status == "potentieel" and r.empty
    s, *_ = run(rows, hold, steps(TALK, ("A", "DM2", "4_financiele_verrekening", date(2025, 1, 5), None)), as_of="2024Q4")
    assert not s.iloc[0].applied
    # another program's step 4 does not apply here
    s, *_ = run(rows, hold, steps(TALK, ("A", "CVRM", "4_financiele_verrekening", date(2024, 2, 1), None)))
    assert not s.iloc[0].applied and s.iloc[0].status_reason == "geen financiële verrekening (stap 4) vastgelegd"


def test_a_step_four_applies_only_while_its_trajectory_is_open():
    hold = holders(("A", "GP1", date(2010, 1, 1), None))
    four = ("A", "DM2", "4_financiele_verrekening", date(2023, 11, 1), None)
    # a step 4 of 2023 still applies in 2024 while nothing closed the trajectory
    s, *_ = run([cov("2024Q3")], hold, steps(TALK, four))
    assert s.iloc[0].applied
    # a compliment before the year's end closes it: potential, with the reason
    s, *_ = run([cov("2024Q3")], hold, steps(TALK, four, ("A", "DM2", "3a_compliment", date(2024, 6, 1), None)))
    assert not s.iloc[0].applied and s.iloc[0].settlement_status == "potentieel"
    assert s.iloc[0].status_reason == "traject afgesloten: compliment op 01-06-2024"
    # so does a new binding talk (seen in the final settlement, as of 2025Q1); one after the year's end does not
    # change this year
    s, *_ = run([cov("2024Q3")], hold, steps(TALK, four, ("A", "DM2", "1_bindend_verbetergesprek", date(2024, 12, 31), None)),
                as_of="2025Q1")
    assert not s.iloc[0].applied
    s, *_ = run([cov("2024Q3")], hold, steps(TALK, four, ("A", "DM2", "1_bindend_verbetergesprek", date(2025, 1, 2), None)),
                as_of="2025Q1")
    assert s.iloc[0].applied
    # no binding talk registered before the step 4: nobody was party to agreements
    s, *_ = run([cov("2024Q3")], hold, steps(four))
    assert not s.iloc[0].applied and s.iloc[0].status_reason.startswith("geen bindend verbetergesprek (stap 1)")


def test_a_successor_is_not_bound_by_the_predecessors_trajectory():
    # GP1 held the practice at the binding talk (2023) and step 4; GP2 took over on 1 May 2024
    hold = holders(("A", "GP1", date(2010, 1, 1), date(2024, 4, 30)), ("A", "GP2", date(2024, 5, 1), None))
    reg = steps(TALK, ("A", "DM2", "4_financiele_verrekening", date(2023, 11, 1), None))
    s, _, r, _ = run([cov("2024Q2", without="300.00", fees="600.00")], hold, reg)
    rows = s.set_index("huisarts_agb")
    assert rows.loc["GP1"].applied and rows.loc["GP1"].settlement_status == "toegepast"
    assert rows.loc["GP1"].settlement_amount == Decimal("100.00")
    assert not rows.loc["GP2"].applied and rows.loc["GP2"].settlement_status == "potentieel"
    assert rows.loc["GP2"].settlement_amount == Decimal("200.00")
    assert rows.loc["GP2"].status_reason == ("huisarts was geen praktijkhouder bij stap 1 op 10-01-2023: "
                                             "geen partij bij de afspraken")
    assert list(r.reserved_amount) == [Decimal("100.00")]  # only the applied GP's money is reserved


def test_fees_not_assessable_and_double_declared_are_their_own_lines_never_settled():
    hold = holders(("A", "GP1", date(2010, 1, 1), date(2024, 4, 30)), ("A", "GP2", date(2024, 5, 1), None))
    s, d, *_ = run([cov("2024Q2", without="0.00", meets=True, fees="600.00", not_assessable="90.00", double="30.00")],
                   hold)
    rows = s.set_index("huisarts_agb")
    assert rows.loc["GP1"].fees_not_assessable == Decimal("30.00") and rows.loc["GP2"].fees_not_assessable == Decimal("60.00")
    assert rows.loc["GP1"].fees_double_declared == Decimal("10.00") and rows.loc["GP2"].fees_double_declared == Decimal("20.00")
    assert (s.settlement_amount == 0).all() and (s.settlement_status == "geen").all()
    assert d.iloc[0].fees_not_assessable == Decimal("90.00") and d.iloc[0].declared_not_assessable == 1


def test_only_quarters_up_to_the_as_of_quarter_count():
    hold = holders(("A", "GP1", date(2010, 1, 1), None))
    s, d, *_ = run([cov("2024Q1"), cov("2024Q3")], hold, as_of="2024Q2")
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
    s, d, _, rounding = settle_year(2024, Quarter.parse("2024Q4"), pd.DataFrame(rows), hold, steps(), DELIVERIES, POLICY)
    assert (s.settlement_amount >= 0).all()
    assert (s.settlement_amount <= s.fees_paid).all()
    assert (s.fees_entitled >= 0).all()
    # the GPs' rows add up to the practice's quarter amounts, less the months nobody held
    exact_assigned = Fraction(0)
    for r in d.itertuples():
        per_month = Fraction(r.settlement_amount) / 3
        exact_assigned += per_month * (3 - r.months_without_holder)
    # each GP row is its own exact value rounded half up; the practice total differs by the rounding rows only
    per_row = sum(s.settlement_amount, Decimal(0))
    diff = rounding[rounding.amount == "settlement_amount"].rounding_difference.sum() if len(rounding) else 0
    assert per_row + Decimal(diff) == round_half_up(exact_assigned)
    assert sum(d.settlement_amount, Decimal(0)) == sum(
        (Decimal(r["fees_without_care"]) for r in rows if r["meets_norm"] is False), Decimal(0))



def test_each_insurer_gets_back_exactly_the_fees_of_its_patients_without_care():
    """Issue 13 item 6, split by insurer: 2024Q1 is below the norm, so its fees without care are settled, per
    insurer as declared: CZ (9664) 30.50, Zilveren Kruis (3311) 12.25; 2024Q2 meets the norm (nothing) and
    2024Q3 was not judged (nothing). The year's declared fees add up per insurer: 100 + 100 + 20 = 220.00."""
    from decimal import Decimal

    import pandas as pd

    from cohaesie_pipeline.policy.config import load_policy
    from cohaesie_pipeline.policy.settlement import insurer_split
    from cohaesie_pipeline.quarters import Quarter

    coverage = pd.DataFrame({"quarter": ["2024Q1", "2024Q2", "2024Q3"], "practice_agb": ["01000001"] * 3,
                             "program": ["DM2"] * 3, "meets_norm": [False, True, None]})
    rows = [("2024Q1", "9664", "CZ", "100.00", "30.50"), ("2024Q1", "3311", "Zilveren Kruis", "50.00", "12.25"),
            ("2024Q2", "9664", "CZ", "100.00", "40.00"), ("2024Q3", "9664", "CZ", "20.00", "20.00")]
    by_insurer = pd.DataFrame([{"quarter": q, "practice_agb": "01000001", "program": "DM2", "insurer_uzovi": u,
                                "insurer_name": n, "fees_declared": Decimal(fd), "fees_without_care": Decimal(fw)}
                               for q, u, n, fd, fw in rows])
    deliveries = pd.DataFrame({"quarter": ["2024Q1"], "file_kind": ["declaraties"], "content_sha256": ["ab"]})
    policy = load_policy()
    split = insurer_split(2024, Quarter.parse("2024Q3"), coverage, by_insurer, deliveries, policy)
    got = {u: (f, a) for u, f, a in zip(split.insurer_uzovi, split.fees_declared, split.settlement_amount)}
    assert got == {"9664": (Decimal("220.00"), Decimal("30.50")), "3311": (Decimal("50.00"), Decimal("12.25"))}
    assert set(split.quarters_included) == {"2024Q1-2024Q3"} and set(split.policy_version) == {policy.label}
    assert all(fp.startswith("sha256:") for fp in split.input_fingerprint)
    # as known after 2024Q1 only that quarter counts; before any quarter of the year, nothing
    early = insurer_split(2024, Quarter.parse("2024Q1"), coverage, by_insurer, deliveries, policy)
    assert dict(zip(early.insurer_uzovi, early.fees_declared)) == {"3311": Decimal("50.00"), "9664": Decimal("100.00")}
    assert insurer_split(2025, Quarter.parse("2024Q4"), coverage, by_insurer, deliveries, policy).empty
