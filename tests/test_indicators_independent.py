"""Recompute indicators and coverage for the demo data in plain pandas, straight from the raw tables and
RULES.md, and compare with the dbt marts for every practice-quarter."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohaesie_pipeline.paths import DBT_PROJECT_DIR
from cohaesie_pipeline.quarters import Quarter, add_months

HBA1C = {3266, 2816, 3754}
DM2_CORE = {542, 2683, 524, 1919, 3583, 3907, 3908, 38, 40, 1739, 4013, 1638, 2129, 1652, 1653, 2717, 3923, 3924,
            2196, 3609}


def _numeric(s: pd.Series) -> pd.Series:
    t = s.fillna("").str.strip()
    ok = t.str.fullmatch(r"-?\d+([.,]\d+)?")
    return pd.to_numeric(t.where(ok).str.replace(",", "."), errors="coerce")


def _expected_hba1c(raw_p: pd.DataFrame, raw_m: pd.DataFrame, q: Quarter) -> pd.DataFrame:
    peil = pd.Timestamp(q.peildatum)
    start = pd.Timestamp(add_months(q.peildatum, -12))
    p = raw_p[(raw_p.zorgprogramma == "DM2")].copy()
    p["eligible"] = ((p.startdatum <= peil) & (p.einddatum.isna() | (p.einddatum >= peil))
                     & (p.hoofdbehandelaar == "HA") & (q.year - p.geboortejaar >= 18))
    m = raw_m[raw_m.bepalingnummer.isin(HBA1C) & (raw_m.datum >= start) & (raw_m.datum < peil)].copy()
    m["value"] = _numeric(m.waarde)
    rows = []
    for agb, grp in p.groupby("praktijk_agb"):
        den = grp[grp.eligible].patientnummer
        mm = m[(m.praktijk_agb == agb) & m.patientnummer.isin(den)]
        measured = mm.patientnummer.nunique()
        valid = mm[mm.value.notna()].sort_values(["patientnummer", "datum", "bepalingnummer", "value"],
                                                 ascending=[True, False, True, True])
        latest = valid.drop_duplicates("patientnummer")
        rows.append({"practice_agb": agb, "proc_num": measured, "proc_den": len(den),
                     "out_num": int((latest.value <= 53).sum()), "out_den": len(latest)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("quarter", ["2023Q1", "2023Q4", "2024Q3"])
def test_hba1c_process_and_outcome_match_the_mart(demo_db, quarter):
    q = Quarter.parse(quarter)
    raw_p = demo_db.execute("select * from raw.patienten where quarter = ?", [quarter]).df()
    raw_m = demo_db.execute("select * from raw.meetwaarden where quarter = ? and bepalingnummer in (3266, 2816, 3754)",
                            [quarter]).df()
    for c in ("startdatum", "einddatum"):
        raw_p[c] = pd.to_datetime(raw_p[c])
    raw_m["datum"] = pd.to_datetime(raw_m["datum"])
    exp = _expected_hba1c(raw_p, raw_m, q).set_index("practice_agb")
    mart = demo_db.execute("""select practice_agb, indicator_code, numerator, denominator from marts.practice_indicators
                              where quarter = ? and indicator_code in ('DM2_HBA1C_MEASURED', 'DM2_HBA1C_LE_53')""",
                           [quarter]).df()
    proc = mart[mart.indicator_code == "DM2_HBA1C_MEASURED"].set_index("practice_agb")
    out = mart[mart.indicator_code == "DM2_HBA1C_LE_53"].set_index("practice_agb")
    assert len(proc) == len(exp) == 45
    assert (proc.numerator == exp.proc_num.reindex(proc.index)).all()
    assert (proc.denominator == exp.proc_den.reindex(proc.index)).all()
    assert (out.numerator == exp.out_num.reindex(out.index)).all()
    assert (out.denominator == exp.out_den.reindex(out.index)).all()


@pytest.mark.parametrize("quarter", ["2023Q2", "2024Q4"])
def test_dm2_coverage_matches_the_mart(demo_db, quarter):
    q = Quarter.parse(quarter)
    peil = pd.Timestamp(q.peildatum)
    start = pd.Timestamp(add_months(q.peildatum, -12))
    grace_from = pd.Timestamp(add_months(q.peildatum, -3))
    d = demo_db.execute("select * from raw.declaraties where quarter = ? and zorgprogramma = 'DM2'", [quarter]).df()
    p = demo_db.execute("select patientnummer, praktijk_agb, startdatum, einddatum, hoofdbehandelaar from raw.patienten "
                        "where quarter = ? and zorgprogramma = 'DM2'", [quarter]).df()
    m = demo_db.execute("select patientnummer, praktijk_agb, bepalingnummer, datum from raw.meetwaarden "
                        "where quarter = ?", [quarter]).df()
    m = m[m.bepalingnummer.isin(DM2_CORE) & (pd.to_datetime(m.datum) >= start) & (pd.to_datetime(m.datum) < peil)]
    cared = set(zip(m.patientnummer, m.praktijk_agb))
    d = d.merge(p, on=["patientnummer", "praktijk_agb"], how="left")
    # RULES.md, Coverage: only a declared patient enrolled on the peildatum with the GP as main practitioner is
    # assessable; the rest is counted apart, never as without care
    start_, end_ = pd.to_datetime(d.startdatum), pd.to_datetime(d.einddatum)
    d["assessable"] = start_.notna() & (start_ <= peil) & (end_.isna() | (end_ >= peil)) & (d.hoofdbehandelaar == "HA")
    d["grace"] = d.assessable & (start_ > grace_from)
    d["judged"] = d.assessable & ~d.grace
    d["care"] = [(a, b) in cared for a, b in zip(d.patientnummer, d.praktijk_agb)]
    exp = d.groupby("praktijk_agb").apply(lambda g: pd.Series({
        "declared": len(g), "not_assessable": int((~g.assessable).sum()), "grace": int(g.grace.sum()),
        "assessed": int(g.judged.sum()), "with_care": int((g.judged & g.care).sum()),
        "without_care_fees": float(g[g.judged & ~g.care].bedrag.astype(float).sum())}), include_groups=False)
    mart = demo_db.execute("""select * from marts.practice_coverage where quarter = ? and program = 'DM2'""",
                           [quarter]).df().set_index("practice_agb")
    assert len(mart) == len(exp) == 45
    exp = exp.reindex(mart.index)
    assert (mart.declared_patients == exp.declared).all()
    assert (mart.grace_patients == exp.grace).all()
    assert (mart.declared_not_assessable == exp.not_assessable).all()
    assert (mart.assessed_patients == exp.assessed).all()
    assert (mart.patients_with_care == exp.with_care).all()
    assert np.allclose(mart.fees_without_care.astype(float), exp.without_care_fees)
    expected_cov = exp.with_care / exp.assessed
    assert np.allclose(mart.coverage, expected_cov)
    assert (mart.meets_norm == (exp.with_care >= 0.9 * exp.assessed)).all()


def test_demo_has_practices_below_the_norm_and_empty_records_in_range(demo_db):
    cov = demo_db.execute("""select practice_agb, sum(empty_records) / sum(assessed_patients) as empty_share
                             from marts.practice_coverage where quarter = '2024Q4' group by 1""").df()
    overall = demo_db.execute("""select sum(empty_records) / sum(assessed_patients) from marts.practice_coverage
                                 where quarter = '2024Q4'""").fetchone()[0]
    assert 0.02 <= overall <= 0.09
    assert (cov.empty_share > 0.10).sum() >= 2


def _wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, c - h), min(1.0, c + h)


def test_wilson_macro_through_dbt(tmp_path):
    """8 of 10 gives (0.4902, 0.9433) in every textbook; 0/10 and 10/10 stay inside [0, 1]."""
    sql = ("select {{ wilson_low(8, 10) }} as a, {{ wilson_high(8, 10) }} as b, {{ wilson_low(0, 10) }} as c, "
           "{{ wilson_high(10, 10) }} as d, {{ wilson_low(1, 0) }} as e")
    env = {"COHAESIE_WAREHOUSE_PATH": str(tmp_path / "w.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "PATH": str(Path(sys.executable).parent)}
    res = subprocess.run([str(Path(sys.executable).parent / "dbt"), "show", "--inline", sql, "--output", "json",
                          "--log-format", "json", "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir",
                          str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
                         capture_output=True, text=True, env=env, cwd=DBT_PROJECT_DIR)
    assert res.returncode == 0, res.stdout[-2000:]
    preview = None
    for line in res.stdout.splitlines():
        data = json.loads(line).get("data", {})
        if "preview" in data:
            preview = json.loads(data["preview"])[0]
    assert preview is not None
    assert round(preview["a"], 4) == 0.4902 and round(preview["b"], 4) == 0.9433
    assert preview["c"] == 0.0 and preview["d"] == 1.0 and preview["e"] is None
    assert math.isclose(preview["a"], _wilson(8, 10)[0], rel_tol=1e-12)


def test_every_mart_interval_is_the_wilson_interval(demo_db):
    df = demo_db.execute("select numerator, denominator, ci_low, ci_high from marts.practice_indicators "
                         "where denominator > 0").df()
    exp = np.array([_wilson(x, n) for x, n in zip(df.numerator, df.denominator)])
    assert np.allclose(df.ci_low, exp[:, 0]) and np.allclose(df.ci_high, exp[:, 1])
    rate = df.numerator / df.denominator
    assert ((df.ci_low <= rate + 1e-12) & (rate <= df.ci_high + 1e-12)).all()
