"""Issue 15: the reference after InEen. `cohaesie reference import` validates like a delivery and keeps the
values in force when a file is bad; imported values win from the next run; a 2026 quarter says the national
figure is the last available one; each reference kind's lagging boundary is a dbt unit test
(models/marts/_unit_tests.yml: lagging_and_too_small, reference_targets_boundary,
reference_care_group_previous_year_boundary)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from openpyxl import Workbook

from cohaesie_pipeline.cli import main
from cohaesie_pipeline.demo.generator import default_demo_quarters, generate
from cohaesie_pipeline.ingestion.loader import load_registers
from cohaesie_pipeline.ingestion.reference import FOLDER, read_log
from cohaesie_pipeline.policy.config import PolicyConfigError, load_policy
from cohaesie_pipeline.reports.pdf_text import pdf_text
from tests.conftest import pipeline_root

HEADER = "soort;indicator;jaar;percentage;bron\n"
GOOD = HEADER + ("landelijk;DM2_HBA1C_MEASURED;2024;95,1;InEen Transparante Ketenzorg 2024\n"
                 "landelijk;DM2_HBA1C_MEASURED;2023;94,3%;InEen Transparante Ketenzorg 2023\n"
                 "streefwaarde;DM2_SBP_MEASURED;2025;90;werkgroep kwaliteit 2025\n")
CLI = str(Path(sys.executable).parent / "cohaesie")


@pytest.fixture
def registers(env_root):
    generate(env_root, practices=2, first="2024Q4", last="2024Q4", seed=3)
    return env_root / "registers"


def _values(registers: Path) -> list[tuple]:
    con = duckdb.connect(":memory:")
    load_registers(con, registers)
    return con.execute("select kind, indicator_code, year, cast(rate as varchar), source from raw.reference_values "
                       "order by all").fetchall()


def test_an_import_is_recorded_and_loaded_exactly(registers, tmp_path, capsys):
    src = tmp_path / "ineen.csv"
    src.write_text(GOOD, encoding="utf-8")
    assert main(["reference", "import", str(src)]) == 0
    assert "imported 3 reference values from ineen.csv" in capsys.readouterr().out
    log = read_log(registers)
    assert list(log.file_name) == ["ineen.csv"] and log.imported_by.iloc[0] and len(log.file_sha256.iloc[0]) == 64
    assert _values(registers) == [
        ("national", "DM2_HBA1C_MEASURED", 2023, "0.943000", "InEen Transparante Ketenzorg 2023"),
        ("national", "DM2_HBA1C_MEASURED", 2024, "0.951000", "InEen Transparante Ketenzorg 2024"),
        ("target", "DM2_SBP_MEASURED", 2025, "0.900000", "werkgroep kwaliteit 2025")]
    # the same file again changes nothing; the registers' digest (and so the next run) stays as it is
    assert main(["reference", "import", str(src)]) == 0
    assert "was imported before" in capsys.readouterr().out and len(read_log(registers)) == 1


def test_an_xlsx_import_reads_like_the_csv(registers, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Soort", "Indicator", "Jaar", "Percentage", "Bron"])
    ws.append(["landelijk", "COPD_BURDEN_MEASURED", 2024, 71.5, "InEen 2024"])
    wb.save(tmp_path / "ineen.xlsx")
    assert main(["reference", "import", str(tmp_path / "ineen.xlsx")]) == 0
    assert _values(registers) == [("national", "COPD_BURDEN_MEASURED", 2024, "0.715000", "InEen 2024")]


def test_a_bad_file_is_rejected_with_file_line_column_and_the_previous_values_stay(registers, tmp_path, capsys):
    good = tmp_path / "ineen.csv"
    good.write_text(GOOD, encoding="utf-8")
    assert main(["reference", "import", str(good)]) == 0
    before_log, before_values = (registers / FOLDER / "imports.csv").read_bytes(), _values(registers)
    bad = tmp_path / "ineen-2024.csv"
    bad.write_text(HEADER + "landelijk;DM2_HBA1C_MEASURED;2024;1,2;InEen\n"      # fine: 1.2%
                            "landelijk;DM2_HBA1C_MEASURED;2022;101;InEen\n"      # line 3: rate above 100
                            "landelijk;DM2_HBA1C_GEMETEN;2024;95;InEen\n"        # line 4: unknown indicator
                            "landelijk;DM2_SBP_MEASURED;2024;9O,5;InEen\n",      # line 5: letter O
                   encoding="utf-8")
    capsys.readouterr()
    assert main(["reference", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "reference values in force stay as they were" in err
    assert "ineen-2024.csv line 3, column percentage: '101' is not a percentage" in err
    assert "ineen-2024.csv line 4, column indicator: 'DM2_HBA1C_GEMETEN' is not an indicator code" in err
    assert "ineen-2024.csv line 5, column percentage: '9O,5' is not a percentage" in err
    assert (registers / FOLDER / "imports.csv").read_bytes() == before_log
    assert sorted(p.name for p in (registers / FOLDER).iterdir()) == sorted(
        ["imports.csv", read_log(registers).stored_as.iloc[0]])  # nothing half-written
    assert _values(registers) == before_values

    dup = tmp_path / "dup.csv"
    dup.write_text(HEADER + "landelijk;DM2_HBA1C_MEASURED;2024;95;a\nLandelijk;dm2_hba1c_measured;2024;96;b\n",
                   encoding="utf-8")
    assert main(["reference", "import", str(dup)]) == 1
    assert "dup.csv line 3, column indicator" in capsys.readouterr().err


def test_a_stored_copy_changed_by_hand_is_refused_at_the_next_load(registers, tmp_path):
    from cohaesie_pipeline.ingestion.errors import ValidationFailed

    src = tmp_path / "ineen.csv"
    src.write_text(GOOD, encoding="utf-8")
    assert main(["reference", "import", str(src)]) == 0
    stored = registers / FOLDER / read_log(registers).stored_as.iloc[0]
    stored.write_text(stored.read_text().replace("0.951", "0.551"), encoding="utf-8")
    with pytest.raises(ValidationFailed, match="was changed after it was imported"):
        _values(registers)


def test_the_reference_kind_is_validated_and_defaults_to_the_latest_national_value(tmp_path):
    raw = yaml.safe_load(Path(load_policy().source).read_text(encoding="utf-8"))
    assert load_policy().reference_kind == "national_latest"
    raw["reference"]["kind"] = "landelijk"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(PolicyConfigError, match="'reference.kind' = 'landelijk' is invalid"):
        load_policy(tmp_path / "p.yaml")
    del raw["reference"]  # a policy from before InEen stopped meant the national average
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert load_policy(tmp_path / "p.yaml").dbt_vars()["reference_kind"] == "national_latest"


def test_the_demo_reaches_the_present():
    from datetime import date

    assert default_demo_quarters(date(2026, 11, 24)) == ("2025Q1", "2026Q4")
    assert default_demo_quarters(date(2026, 9, 30)) == ("2024Q4", "2026Q3")
    assert default_demo_quarters(date(2027, 1, 1)) == ("2025Q2", "2027Q1")


# --- a small pipeline in 2025-2026, after InEen's last benchmark year -----------------------------------------

@pytest.fixture(scope="session")
def root_2026(shared_base) -> Path:
    return pipeline_root(shared_base, "after_ineen", practices=4, first="2025Q4", last="2026Q4", seed=11)


def test_a_2026_quarter_says_the_national_figure_is_the_last_available(root_2026):
    con = duckdb.connect(str(root_2026 / "data" / "warehouse" / "cohaesie.duckdb"), read_only=True)
    rows = con.execute("""select distinct reference_kind, reference_year, reference_latest_available,
                                 reference_is_placeholder from marts.practice_indicators where quarter = '2026Q4'
                                 and reference_rate is not null""").fetchall()
    con.close()
    assert rows == [("national_latest", 2024, True, True)]
    reports = root_2026 / "reports" / "2026Q4"
    board = " ".join(pdf_text(reports / "bestuursrapportage.pdf").split())
    assert "landelijk 2024, laatst beschikbaar" in board
    assert "Voorlopig: de vergelijkingswaarden" in board  # the placeholder banner on the cover
    practice = " ".join(pdf_text(next((reports / "praktijken").glob("*.pdf"))).split())
    assert "Landelijk 2024" in practice and "laatst beschikbaar" in practice
    assert "Voor 2026 bestaat geen landelijk cijfer" in practice
    assert "Voorlopig: de vergelijkingswaarden" in practice


def test_imported_values_are_used_from_the_next_run(root_2026, tmp_path):
    """Import real-looking national values for DM2 2024 into a copy, run, and the marts compare with them."""
    root = tmp_path / "root"
    shutil.copytree(root_2026 / "data", root / "data")
    env = {"COHAESIE_DATA_DIR": str(root / "data"), "COHAESIE_REPORTS_DIR": str(root / "reports"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    codes = ["DM2_HBA1C_MEASURED", "DM2_SBP_MEASURED", "DM2_LDL_MEASURED", "DM2_EGFR_MEASURED",
             "DM2_ALBUMINURIA_MEASURED", "DM2_FOOT_EXAMINED", "DM2_FUNDUS_EXAMINED"]
    src = tmp_path / "ineen-2024.csv"
    src.write_text(HEADER + "".join(f"landelijk;{c};2024;61,5;InEen Transparante Ketenzorg 2024\n" for c in codes),
                   encoding="utf-8")
    res = subprocess.run([CLI, "reference", "import", str(src)], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    con = duckdb.connect(str(root / "data" / "warehouse" / "cohaesie.duckdb"), read_only=True)
    dm2 = con.execute("""select quarter, numerator, denominator, national_rate, reference_rate, reference_source,
                                national_is_placeholder, lagging from marts.practice_indicators
                         where indicator_code = 'DM2_HBA1C_MEASURED'""").df()
    con.close()
    assert set(dm2.reference_source) == {"InEen Transparante Ketenzorg 2024"}
    assert (dm2.reference_rate == 0.615).all() and (dm2.national_rate == 0.615).all()
    assert not dm2.national_is_placeholder.any()
    # lagging recomputed against the imported value: numerator < 0.615 x 0.8 x denominator (n >= 10)
    expected = (dm2.denominator >= 10) & (dm2.numerator * 1000 < 492 * dm2.denominator)
    assert (dm2.lagging == expected).all()


def test_policy_diff_shows_what_switching_the_reference_changes(root_2026, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COHAESIE_DATA_DIR", str(root_2026 / "data"))
    monkeypatch.setenv("COHAESIE_REPORTS_DIR", str(tmp_path / "reports"))
    raw = yaml.safe_load(Path(load_policy().source).read_text(encoding="utf-8"))
    raw["version"], raw["reference"]["kind"] = "targets", "targets"
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["policy-diff", "--policy", str(tmp_path / "targets.yaml"), "--out", str(tmp_path / "d.xlsx")]) == 0
    printed = capsys.readouterr().out
    assert "reference_kind: national_latest -> targets" in printed
    assert (tmp_path / "d.xlsx").exists()
