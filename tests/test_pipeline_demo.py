"""The whole asset graph on generated data: ingestion, dbt marts, policy marts; re-runs replace, never add."""
from __future__ import annotations

import duckdb
import pandas as pd
from dagster import DagsterInstance

from cohaesie_pipeline.assets.decisions import compute, read_inputs
from cohaesie_pipeline.demo.generator import generate
from cohaesie_pipeline.partitions import quarters_in_inbox
from cohaesie_pipeline.policy.classification import STATUSES
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.runner import run_quarters

MARTS = ["practice_indicators", "practice_coverage", "data_quality_findings", "practice_classification",
         "policy_trajectories", "settlement_quarter_detail"]


def _counts(con) -> dict[str, int]:
    return {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in MARTS + ["settlements"]}


def test_small_root_end_to_end_and_rerun_replaces(env_root):
    generate(env_root, practices=5, first="2024Q1", last="2024Q2", seed=11)
    with DagsterInstance.ephemeral() as instance:
        summary = run_quarters(quarters_in_inbox(), echo=lambda _m: None, instance=instance)
        assert all(r.success for r in summary.results) and summary.loaded == ["2024Q1", "2024Q2"]
        wh = env_root / "warehouse" / "cohaesie.duckdb"
        with duckdb.connect(str(wh), read_only=True) as con:
            first = _counts(con)
            quarters = con.execute("select distinct quarter from marts.practice_indicators order by 1").fetchall()
        assert all(v > 0 for k, v in first.items() if k != "data_quality_findings")
        assert [q[0] for q in quarters] == ["2024Q1", "2024Q2"]
        # running a quarter again replaces its rows: nothing doubles
        run_quarters([Quarter.parse("2024Q1")], echo=lambda _m: None, instance=instance)
        with duckdb.connect(str(wh), read_only=True) as con:
            assert _counts(con) == first
            versions = con.execute("select distinct policy_version from marts.practice_indicators").fetchall()
        assert versions == [(load_policy().label,)]


def test_demo_shows_every_status(demo_db):
    seen = {r[0] for r in demo_db.execute("select distinct status from marts.practice_classification").fetchall()}
    assert seen == set(STATUSES)
    # the scripted underperformer is one in the last quarter
    last = demo_db.execute("""select status, count(*) from marts.practice_classification where quarter = '2024Q4'
                              group by 1""").fetchall()
    assert dict(last).get("underperformer", 0) >= 1


def test_demo_trajectories_cover_the_policy_steps(demo_db):
    t = demo_db.execute("select * from marts.policy_trajectories where quarter = '2024Q4'").df()
    assert {"1_bindend_verbetergesprek", "2_intensief_traject", "3b_functioneringsgesprek", "3a_compliment",
            "4_financiele_verrekening"} <= set(t.current_step.dropna())
    conf = t[t.next_action == "bevestiging_versturen"]
    assert len(conf) == 1 and conf.overdue.all()
    assert "dagen te laat" in conf.explanation_nl.iloc[0]


def test_demo_settlements_show_the_takeover_and_an_applied_settlement(demo_db):
    s = demo_db.execute("select * from marts.settlements where year = 2024").df()
    per_practice = s.groupby(["practice_agb", "program"]).huisarts_agb.nunique()
    takeover = demo_db.execute("""select praktijk_agb from raw.praktijkhouders
                                  where tot between '2024-01-01' and '2024-12-31'
                                  and praktijk_agb in (select praktijk_agb from raw.praktijkhouders
                                                       where van between '2024-01-01' and '2024-12-31')""").fetchall()
    assert len(takeover) == 1
    agb = takeover[0][0]
    rows = s[s.practice_agb == agb]
    assert set(rows.months_held) == {4, 8} or set(rows.months_held) == {5, 7}
    assert per_practice.loc[agb].min() == 2
    assert s.applied.any() and (s[s.applied].settlement_amount > 0).any()
    reserve = demo_db.execute("select sum(reserved_amount) from marts.settlement_reserve where year = 2024").fetchone()[0]
    assert round(float(reserve), 2) == round(float(s[s.applied].settlement_amount.sum()), 2)
    d = demo_db.execute("select * from marts.settlement_quarter_detail where year = 2024").df()
    assert d.months_without_holder.sum() >= 1  # the GP who stopped: months reported, not assigned
    assert (d[d.meets_norm == False].settlement_amount > 0).all()  # noqa: E712
    assert s.input_fingerprint.str.startswith("sha256:").all()


def test_a_past_quarter_computed_before_later_quarters_were_loaded_is_the_same(demo_db):
    """As-of semantics: 2024Q2's decisions and money with only the quarters up to 2024Q2 loaded equal the
    2024Q2 rows the warehouse holds now that 2024Q4 is loaded (and the registers hold later rows)."""
    inputs = read_inputs(demo_db)
    upto = [str(q) for q in (Quarter(2023, 1) + i for i in range(6))]
    early = {k: (v[v.quarter.isin(upto)] if k in ("indicators", "coverage", "coverage_by_insurer", "deliveries") else v)
             for k, v in inputs.items()}
    out = compute(early, load_policy())
    assert out["quarters"] == upto
    for table, frame, keys in [("policy_trajectories", "trajectories", ["practice_agb", "program"]),
                               ("practice_classification", "classification", ["practice_agb", "program"])]:
        stored = demo_db.execute(f"select * from marts.{table} where quarter = '2024Q2'").df()
        fresh = out[frame][out[frame].quarter == "2024Q2"]
        cols = [c for c in fresh.columns if c not in ("peildatum", "step_date", "step1_date", "confirmed_on", "due_date")]
        a = stored[cols].sort_values(keys).reset_index(drop=True).astype(object)
        b = fresh[cols].sort_values(keys).reset_index(drop=True).astype(object)
        pd.testing.assert_frame_equal(a.where(a.notna(), None), b.where(b.notna(), None), check_dtype=False)
    stored = demo_db.execute("""select * from marts.settlements_as_of where as_of_quarter = '2024Q2'
                                order by year, practice_agb, huisarts_agb, program""").df()
    fresh = out["settlements_as_of"]
    fresh = fresh[fresh.as_of_quarter == "2024Q2"].sort_values(["year", "practice_agb", "huisarts_agb", "program"])
    assert len(fresh) and set(fresh.year) == {2024}
    assert [round(float(v), 2) for v in stored.settlement_amount] == [round(float(v), 2) for v in fresh.settlement_amount]
    assert list(stored.input_fingerprint) == list(fresh.input_fingerprint)


def test_the_classification_mart_carries_the_traffic_light(demo_db):
    from cohaesie_pipeline.policy.classification import traffic_light

    rows = demo_db.execute("""select c.status, v.meets_norm, c.traffic_light, c.light_from_coverage
                              from marts.practice_classification c
                              left join marts.practice_coverage v using (quarter, practice_agb, program)""").fetchall()
    assert rows and all(traffic_light(s, m) == (light, flag) for s, m, light, flag in rows)
    assert any(flag for *_, flag in rows), "the demo has an on-track practice-program below the norm"
