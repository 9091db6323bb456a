"""Policy trajectories (RULES.md): every next_action, confirmation overdue, evaluation before and after its
date, and the register read as of the peildatum."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import pandas as pd

from cohaesie_pipeline.policy.trajectory import register_as_of, trajectories
from cohaesie_pipeline.quarters import Quarter
from tests.policy_fixtures import POLICY, steps


def _one(quarter: str, register: pd.DataFrame, status: str = "underperformer", key_now=None, lagging_at=None):
    q = Quarter.parse(quarter)
    cls = pd.DataFrame([{"practice_agb": "A", "program": "DM2", "status": status}])
    key_rates = {("A", "DM2"): {k: Fraction(v).limit_denominator(1000) for k, v in (key_now or {"K1": 0.60}).items()}}
    lagging_at = {k: {c: Fraction(v).limit_denominator(1000) for c, v in d.items()} for k, d in (lagging_at or {}).items()}
    return trajectories(q, register, cls, key_rates, lagging_at or {}, POLICY).iloc[0]


def test_no_steps():
    # underperforming first in this quarter (peildatum 2024-07-01): the binding talk is due 3 months later
    row = _one("2024Q3", steps(), status="underperformer")
    assert row.next_action == "1_bindend_verbetergesprek" and row.due_date == date(2024, 10, 1)
    assert not row.overdue and row.underperformer_since == "2024Q3"
    assert row.explanation_nl == "minder presterend: bindend verbetergesprek plannen vóór 01-10-2024"
    assert _one("2024Q3", steps(), status="watch").next_action == "geen"


def test_binding_talk_due_from_the_first_quarter_of_the_unbroken_underperformer_run():
    # underperformer since 2024Q1 (peildatum 2024-01-01): due 2024-04-01, 91 days overdue on 2024-07-01
    cls = pd.DataFrame([{"practice_agb": "A", "program": "DM2", "status": "underperformer"}])
    row = trajectories(Quarter.parse("2024Q3"), steps(), cls, {}, {}, POLICY,
                       {("A", "DM2"): Quarter.parse("2024Q1")}).iloc[0]
    assert (row.due_date, row.overdue, row.days_overdue) == (date(2024, 4, 1), True, 91)
    assert row.underperformer_since == "2024Q1"
    assert row.explanation_nl == "minder presterend: bindend verbetergesprek plannen vóór 01-04-2024 (91 dagen te laat)"


def test_no_data_never_gets_a_compliment_or_an_escalation():
    # six months after a confirmed binding talk the evaluation would be due, but there are no data this quarter
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 1, 10), date(2024, 1, 12)))
    for status in ("no_data", None):
        cls = pd.DataFrame([{"practice_agb": "A", "program": "DM2", "status": status}] if status else [],
                           columns=["practice_agb", "program", "status"])
        row = trajectories(Quarter.parse("2024Q4"), reg, cls, {}, {}, POLICY).iloc[0]
        assert row.next_action == "gegevens_controleren" and row.due_date is None and not row.overdue, status
    assert _one("2024Q3", steps(), status="no_data").next_action == "gegevens_controleren"


def test_confirmation_due_within_fourteen_days_then_overdue():
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 6, 20), None))
    row = _one("2024Q3", reg)  # peildatum 2024-07-01, due 2024-07-04
    assert row.next_action == "bevestiging_versturen" and row.due_date == date(2024, 7, 4) and not row.overdue
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 6, 1), None))
    row = _one("2024Q3", reg)  # due 2024-06-15: 16 days late on 2024-07-01
    assert row.overdue and row.days_overdue == 16
    assert row.explanation_nl == "bevestiging bindend verbetergesprek 16 dagen te laat"


def test_confirmation_sent_after_the_peildatum_does_not_count_yet():
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 6, 1), date(2024, 7, 5)))
    assert _one("2024Q3", reg).next_action == "bevestiging_versturen"
    assert _one("2024Q4", reg).next_action == "evaluatie"


def test_evaluation_six_months_after_the_talk_before_and_after():
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 2, 10), date(2024, 2, 20)),
                ("A", "DM2", "2_intensief_traject", date(2024, 3, 1), None))
    before = _one("2024Q3", reg)  # e = 2024-08-10
    assert before.next_action == "evaluatie" and before.due_date == date(2024, 8, 10) and not before.overdue
    after = _one("2024Q4", reg)  # not improved: still lagging, no reference quarter
    assert after.next_action == "3b_functioneringsgesprek" and after.due_date == date(2024, 8, 10)
    assert after.overdue and after.days_overdue == 52
    improved = _one("2024Q4", reg, status="on_track")
    assert improved.next_action == "3a_compliment"


def test_improvement_by_ten_points_since_the_binding_talk_counts():
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 2, 10), date(2024, 2, 20)))
    lag = {("2024Q1", "A", "DM2"): {"K1": 0.50, "K2": 0.60}}
    # +12pp and +8pp: mean 10pp -> reached, although still lagging
    row = _one("2024Q4", reg, key_now={"K1": 0.62, "K2": 0.68}, lagging_at=lag)
    assert row.next_action == "3a_compliment" and row.improvement_reached
    row = _one("2024Q4", reg, key_now={"K1": 0.61, "K2": 0.68}, lagging_at=lag)
    assert row.next_action == "3b_functioneringsgesprek"


def test_step_two_without_step_one_counts_from_step_two():
    reg = steps(("A", "DM2", "2_intensief_traject", date(2024, 1, 15), None))
    row = _one("2024Q3", reg)  # e = 2024-01-15 + 6 months
    assert row.next_action == "evaluatie" and row.due_date == date(2024, 7, 15)


def test_performance_talk_confirmation_and_final_three_months():
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2023, 6, 1), date(2023, 6, 5)),
                ("A", "DM2", "2_intensief_traject", date(2023, 6, 15), None),
                ("A", "DM2", "3b_functioneringsgesprek", date(2024, 5, 20), None))
    row = _one("2024Q3", reg)
    assert row.next_action == "bevestiging_versturen" and row.due_date == date(2024, 6, 3) and row.overdue
    assert row.explanation_nl == "bevestiging functioneringsgesprek 28 dagen te laat"
    reg.loc[2, "confirmed_on"] = date(2024, 5, 25)
    row = _one("2024Q3", reg)
    assert row.next_action == "evaluatie" and row.due_date == date(2024, 8, 20)
    row = _one("2024Q4", reg)
    assert row.next_action == "4_financiele_verrekening" and row.overdue
    assert _one("2024Q4", reg, status="on_track").next_action == "3a_compliment"


def test_finished_trajectories():
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2023, 1, 10), date(2023, 1, 12)),
                ("A", "DM2", "3a_compliment", date(2023, 8, 1), date(2023, 8, 2)))
    row = _one("2024Q3", reg)
    assert row.next_action == "geen" and row.current_step == "3a_compliment"
    reg = steps(("A", "DM2", "4_financiele_verrekening", date(2024, 5, 1), None))
    row = _one("2024Q3", reg)
    assert row.next_action == "geen" and row.current_step == "4_financiele_verrekening"


def test_a_past_quarter_is_reproducible_from_the_full_register():
    full = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 2, 10), date(2024, 7, 20)),
                 ("A", "DM2", "2_intensief_traject", date(2024, 3, 1), None),
                 ("A", "DM2", "3b_functioneringsgesprek", date(2024, 9, 1), date(2024, 9, 3)))
    as_it_was = register_as_of(full, date(2024, 7, 1))
    assert len(as_it_was) == 2 and as_it_was.confirmed_on.isna().all()
    a = _one("2024Q3", full)
    b = _one("2024Q3", full.iloc[:2].assign(confirmed_on=None))
    assert a.drop(labels=["policy_version"]).equals(b.drop(labels=["policy_version"]))
    assert a.current_step == "2_intensief_traject"


def test_rows_for_practices_with_steps_but_no_data():
    reg = steps(("B", "COPD", "1_bindend_verbetergesprek", date(2024, 2, 10), date(2024, 2, 11)))
    cls = pd.DataFrame([{"practice_agb": "A", "program": "DM2", "status": "on_track"}])
    out = trajectories(Quarter.parse("2024Q3"), reg, cls, {}, {}, POLICY)
    assert set(zip(out.practice_agb, out.program)) == {("A", "DM2"), ("B", "COPD")}


def test_underperformer_since_is_the_start_of_the_unbroken_run_over_loaded_quarters():
    """Through the policy marts' computation: A lags every quarter and underperforms from 2024Q1 (the first
    quarter with a lagging year earlier); B underperforms in 2024Q2 after an on-track 2024Q1, so its run
    starts again."""
    from cohaesie_pipeline.assets.decisions import compute
    from tests.policy_fixtures import frame, indicator_rows, visits

    quarters = ["2023Q1", "2023Q2", "2023Q3", "2023Q4", "2024Q1", "2024Q2"]
    rows = []
    for q in quarters:
        rows += indicator_rows(q, "A", {"K1": 0.50})
        rows += indicator_rows(q, "B", {"K1": 0.95 if q == "2024Q1" else 0.50})
    coverage = pd.DataFrame(columns=["quarter", "practice_agb", "program", "declared_patients",
                                     "double_declared_patients", "declared_not_assessable", "grace_patients",
                                     "assessed_patients", "patients_with_care", "coverage", "meets_norm",
                                     "fees_declared", "fees_double_declared", "fees_not_assessable",
                                     "fees_without_care"])
    inputs = {"indicators": frame(rows), "coverage": coverage,
              "visits": visits(("A", date(2023, 6, 1)), ("B", date(2023, 6, 1)), ("A", date(2024, 1, 15)),
                               ("B", date(2024, 1, 15))),
              "steps": steps(), "deliveries": pd.DataFrame(columns=["quarter", "file_kind", "content_sha256"]),
              "holders": pd.DataFrame(columns=["practice_agb", "gp_agb", "gp_name", "held_from", "held_until"]),
              "coverage_by_insurer": pd.DataFrame(columns=["quarter", "practice_agb", "program", "insurer_uzovi",
                                                           "insurer_name", "fees_declared", "fees_without_care"])}
    t = compute(inputs, POLICY)["trajectories"].set_index(["quarter", "practice_agb"])
    assert t.loc[("2024Q1", "A")].underperformer_since == "2024Q1"
    a, b = t.loc[("2024Q2", "A")], t.loc[("2024Q2", "B")]
    assert (a.underperformer_since, a.due_date, a.overdue) == ("2024Q1", date(2024, 4, 1), False)
    assert (b.underperformer_since, b.due_date, b.overdue) == ("2024Q2", date(2024, 7, 1), False)
    assert t.loc[("2024Q1", "B")].next_action == "geen" and pd.isna(t.loc[("2024Q1", "B")].underperformer_since)


def test_a_holder_change_since_the_binding_talk_is_flagged_with_its_date():
    from cohaesie_pipeline.policy.holders import HolderIndex

    hold = HolderIndex(pd.DataFrame([
        {"practice_agb": "A", "gp_agb": "GP1", "gp_name": "Jansen", "held_from": date(2010, 1, 1),
         "held_until": date(2024, 4, 30)},
        {"practice_agb": "A", "gp_agb": "GP2", "gp_name": "De Vries", "held_from": date(2024, 5, 1), "held_until": None}]))
    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 1, 10), date(2024, 1, 12)))
    cls = pd.DataFrame([{"practice_agb": "A", "program": "DM2", "status": "underperformer"}])
    before = trajectories(Quarter.parse("2024Q2"), reg, cls, {}, {}, POLICY, holders=hold).iloc[0]
    after = trajectories(Quarter.parse("2024Q3"), reg, cls, {}, {}, POLICY, holders=hold).iloc[0]
    # on 2024-04-01 GP1 still holds the practice; on 2024-07-01 GP2 does, who was not at the talk of 10 January
    assert not before.holder_changed_since_step1 and before.step1_date == date(2024, 1, 10)
    assert after.holder_changed_since_step1 and after.step1_date == date(2024, 1, 10)
    assert after.explanation_nl.endswith(
        "let op: andere praktijkhouder dan bij het bindend verbetergesprek van 10-01-2024")
    # no binding talk: nothing to compare
    none = trajectories(Quarter.parse("2024Q3"), steps(), cls, {}, {}, POLICY, holders=hold).iloc[0]
    assert not none.holder_changed_since_step1 and none.step1_date is None
