"""`cohaesie policy-diff` (issue 12 item 9) on the demo warehouse: read-only, and a norm change from 0.90 to 0.85
lists exactly the practice-programs between 85% and 90% and the euros they would no longer owe."""
from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from cohaesie_pipeline.cli import main
from cohaesie_pipeline.policy.config import load_policy

QUARTER = "2024Q3"


def _policy(tmp_path: Path, **changes) -> Path:
    raw = yaml.safe_load(Path(load_policy().source).read_text(encoding="utf-8"))
    raw["version"] = "what-if"
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        raw[section][key] = value
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def demo_env(demo_root, monkeypatch, tmp_path):
    monkeypatch.setenv("COHAESIE_DATA_DIR", str(demo_root / "data"))
    monkeypatch.setenv("COHAESIE_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("COHAESIE_POLICY", raising=False)
    return demo_root / "data" / "warehouse" / "cohaesie.duckdb"


def test_a_lower_norm_lists_exactly_the_practice_programs_between_the_norms(demo_env, demo_db, tmp_path, capsys):
    before = _sha(demo_env)
    out = tmp_path / "diff.xlsx"
    assert main(["policy-diff", "--policy", str(_policy(tmp_path, coverage__coverage_norm=0.85)),
                 "--quarter", QUARTER, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert _sha(demo_env) == before  # nothing written to the warehouse

    # by hand from the coverage mart: 0.85 <= with care / assessed < 0.90, exactly (integers, no floats)
    cov = demo_db.execute("""select practice_agb, program, quarter, patients_with_care as c, assessed_patients as a,
                                    fees_without_care from marts.practice_coverage
                             where quarter between '2024Q1' and ? and assessed_patients > 0""", [QUARTER]).df()
    between = cov[(cov.c * 100 >= 85 * cov.a) & (cov.c * 100 < 90 * cov.a)]
    expected = {(r.practice_agb, r.program) for r in between[between.quarter == QUARTER].itertuples()}
    assert expected, "the demo has practice-programs between 85% and 90% in this quarter"

    wb = load_workbook(out)
    rows = list(wb["Dekkingsnorm"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[2]) for r in rows} == expected
    assert all(r[4] == "nee" and r[6] == "ja" for r in rows)
    for agb, program in expected:
        assert f"{agb} " in printed and f" {program}: coverage" in printed

    # euros: every quarter of the year through QUARTER between the norms is no longer settled (the months a GP
    # held the practice: a month without a holder was never assigned); nothing else changes
    detail = demo_db.execute("""select quarter, practice_agb, program, months_without_holder
                                from marts.settlement_quarter_detail_as_of where as_of_quarter = ?""", [QUARTER]).df()
    holderless = {(r.quarter, r.practice_agb, r.program): r.months_without_holder for r in detail.itertuples()}
    no_longer = {}
    for r in between.itertuples():
        held = 3 - holderless[(r.quarter, r.practice_agb, r.program)]
        no_longer[r.practice_agb] = no_longer.get(r.practice_agb, Decimal(0)) + Decimal(str(r.fees_without_care)) * held / 3
    per_practice = {r[1]: (Decimal(str(r[3])), Decimal(str(r[4])), Decimal(str(r[5])))
                    for r in wb["Verrekening per praktijk"].iter_rows(min_row=2, values_only=True) if r[0] == 2024}
    assert set(per_practice) == {a for a, v in no_longer.items() if v > 0}
    gp_rows = demo_db.execute("""select practice_agb, count(*) from marts.settlements_as_of
                                 where as_of_quarter = ? and year = 2024 group by all""", [QUARTER]).fetchall()
    rows_of = dict(gp_rows)
    for agb, (current, other, difference) in per_practice.items():
        assert difference == other - current
        # each GP row is rounded from its own exact value: at most half a cent per row away from the exact sum
        assert abs(difference + no_longer[agb]) <= Decimal("0.005") * rows_of[agb], agb
    assert sum(d for _, _, d in per_practice.values()) < 0


def test_same_policy_changes_nothing_and_errors_are_plain(demo_env, tmp_path, capsys):
    assert main(["policy-diff", "--policy", load_policy().source, "--out", str(tmp_path / "same.xlsx")]) == 0
    printed = capsys.readouterr().out
    assert "the two policies have the same values: nothing would change" in printed
    assert "classification changes in 2024Q4: 0" in printed
    bad = _policy(tmp_path, coverage__coverage_norm=1.5)
    assert main(["policy-diff", "--policy", str(bad)]) == 2
    assert "'coverage.coverage_norm' = 1.5 is invalid" in capsys.readouterr().err
    assert main(["policy-diff", "--policy", load_policy().source, "--quarter", "2019Q1"]) == 2
    assert "quarter 2019Q1 is not loaded" in capsys.readouterr().err


def test_more_visits_required_turns_underperformers_into_lagging_no_visits(demo_env, tmp_path, capsys):
    assert main(["policy-diff", "--policy", str(_policy(tmp_path, classification__min_visits_12m=5)),
                 "--out", str(tmp_path / "visits.xlsx")]) == 0
    printed = capsys.readouterr().out
    assert "min_visits_12m: 1 -> 5" in printed
    # four visits are planned a year: with five required, every underperformer becomes lagging_no_visits
    assert "underperformer -> lagging_no_visits" in printed
    assert "-> underperformer" not in printed
