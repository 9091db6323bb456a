"""One current truth: a change of a delivery or a register reaches every decision, euro and report that depends
on it, in one run, whatever order quarters arrived in; reports of quarters it does not touch stay as they
are (RULES.md, As-of semantics). Real deliveries, real DuckDB, real dbt, real PDFs read back."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance, build_sensor_context

from cohaesie_pipeline.automation import inbox_sensor
from cohaesie_pipeline.demo.generator import generate
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.reports.pdf_text import pdf_text
from cohaesie_pipeline.runner import plan, run_pipeline, run_quarters
from tests.conftest import pipeline_root

TAKEOVER = "01793827"  # the generator's takeover practice (index 5): DM2 lagging from 2023Q3 on
KEY_DM2 = [("3266", "HBAP B", "48"), ("1744", "RRSY KA", "130"), ("542", "LDL B", "2,1"), ("3907", "EGFC B", "75"),
           ("40", "ALBK U MI", "1,5"), ("2196", "RIVU SQ", "geen afwijkingen"), ("2129", "FUFO FA", "geen retinopathie")]
MARTS = ["practice_indicators", "practice_coverage", "data_quality_findings", "practice_classification",
         "policy_trajectories", "settlements", "settlements_as_of", "settlement_quarter_detail",
         "settlement_quarter_detail_as_of", "settlement_reserve", "settlement_reserve_as_of"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    return pipeline_root(base, "runmodel6", practices=6, first="2023Q3", last="2024Q4")


@pytest.fixture
def root(built, tmp_path, monkeypatch) -> Path:
    """A private copy of the built root (file mtimes kept), with the environment pointing at it."""
    copy = tmp_path / "root"
    shutil.copytree(built, copy, copy_function=shutil.copy2)
    monkeypatch.setenv("COHAESIE_DATA_DIR", str(copy / "data"))
    monkeypatch.setenv("COHAESIE_REPORTS_DIR", str(copy / "reports"))
    return copy


def _db(root: Path):
    return duckdb.connect(str(root / "data" / "warehouse" / "cohaesie.duckdb"), read_only=True)


def _mtimes(root: Path) -> dict[str, dict[str, int]]:
    out = {}
    for folder in sorted((root / "reports").glob("20*")):
        out[folder.name] = {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
    return out


def _status(con, quarter: str, agb: str = TAKEOVER, program: str = "DM2") -> str:
    return con.execute("""select status from marts.practice_classification
                          where quarter = ? and practice_agb = ? and program = ?""", [quarter, agb, program]).fetchone()[0]


def _redeliver_with_full_care(root: Path, quarter: str, agb: str = TAKEOVER) -> None:
    """The practice's DM2 patients get every key measurement in the window: a better re-delivery."""
    folder = root / "data" / "inbox" / quarter
    patients = pd.read_csv(folder / "patienten.csv", sep=";", dtype=str)
    ids = patients[(patients.praktijk_agb == agb) & (patients.zorgprogramma == "DM2")].patientnummer
    day = (Quarter.parse(quarter).peildatum.replace(day=1) - pd.DateOffset(months=2)).strftime("%d-%m-%Y")
    lines = [f"{p};{agb};{code};{memo};{day};{value};" for p in ids for code, memo, value in KEY_DM2]
    with open(folder / "meetwaarden.csv", "a", encoding="utf-8", newline="") as fh:
        fh.write("\r\n".join(lines) + "\r\n")


def _snapshot(con) -> dict:
    return {
        "2023Q4": _status(con, "2023Q4"), "2024Q4": _status(con, "2024Q4"),
        "action_2024Q4": con.execute("""select next_action from marts.policy_trajectories
                                        where quarter = '2024Q4' and practice_agb = ? and program = 'DM2'""",
                                     [TAKEOVER]).fetchone()[0],
        "money_2023": con.execute("""select sum(settlement_amount) from marts.settlements
                                     where year = 2023 and practice_agb = ? and program = 'DM2'""",
                                  [TAKEOVER]).fetchone()[0],
        "fingerprints_2023": sorted(r[0] for r in con.execute(
            "select input_fingerprint from marts.settlements where year = 2023 and practice_agb = ?",
            [TAKEOVER]).fetchall()),
    }


def _assert_redelivery_reached_everything(root: Path, before: dict, mtimes_before: dict) -> None:
    with _db(root) as con:
        after = _snapshot(con)
    assert (before["2023Q4"], before["2024Q4"]) == ("watch", "underperformer")
    # the re-delivered quarter is on track now, so the quarter a year later is no longer an underperformer
    assert (after["2023Q4"], after["2024Q4"]) == ("on_track", "watch")
    assert (before["action_2024Q4"], after["action_2024Q4"]) == ("1_bindend_verbetergesprek", "geen")
    # 2023Q4's coverage rose, so the year's final settlement fell, with new fingerprints
    assert after["money_2023"] < before["money_2023"]
    assert set(after["fingerprints_2023"]).isdisjoint(before["fingerprints_2023"])
    mtimes = _mtimes(root)
    assert mtimes["2023Q3"] == mtimes_before["2023Q3"]  # 2023Q3 reads nothing of 2023Q4: not rewritten
    for q in ("2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4"):
        assert all(mtimes[q][f] != mtimes_before[q][f] for f in mtimes_before[q] if f.endswith(".pdf")), q
    board = pdf_text(root / "reports" / "2024Q4" / "bestuursrapportage.pdf")
    assert "minder presterend: bindend verbetergesprek plannen" not in board or TAKEOVER not in board


def test_redelivering_an_old_quarter_reaches_later_decisions_money_and_reports_in_one_cli_run(root):
    with _db(root) as con:
        before = _snapshot(con)
    mtimes_before = _mtimes(root)
    _redeliver_with_full_care(root, "2023Q4")
    summary = run_quarters([Quarter.parse("2023Q4")], echo=lambda _m: None)
    assert summary.loaded == ["2023Q4"]
    assert summary.rendered == ["2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert summary.unchanged == ["2023Q3"]
    _assert_redelivery_reached_everything(root, before, mtimes_before)


def test_redelivering_an_old_quarter_reaches_everything_in_one_sensor_tick(root):
    from cohaesie_pipeline.definitions import defs

    with _db(root) as con:
        before = _snapshot(con)
    mtimes_before = _mtimes(root)
    _redeliver_with_full_care(root, "2023Q4")
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("quarter", [str(Quarter(2023, 3) + i) for i in range(6)])
        tick = inbox_sensor(build_sensor_context(instance=instance))
        assert [(r.job_name, r.partition_key) for r in tick.run_requests] == [("quarterly_pipeline", "2023Q4")]
        request = tick.run_requests[0]
        result = defs.resolve_job_def(request.job_name).execute_in_process(
            partition_key=request.partition_key, instance=instance, tags=request.tags)
        assert result.success
    _assert_redelivery_reached_everything(root, before, mtimes_before)


def test_editing_a_takeover_date_changes_the_money_its_fingerprint_and_only_the_affected_reports(root):
    holders = root / "data" / "registers" / "praktijkhouders.csv"
    text = holders.read_text(encoding="utf-8-sig")
    # the takeover moves from 16 May to 1 April 2024: the successor holds May, the predecessor no longer
    assert "2024-05-16" in text and "2024-05-15" in text
    holders.write_text(text.replace("2024-05-16", "2024-04-01").replace("2024-05-15", "2024-03-31"),
                       encoding="utf-8")
    with _db(root) as con:
        before = con.execute("""select huisarts_agb, program, months_held, fees_paid, input_fingerprint
                                from marts.settlements where year = 2024 order by all""").df()
    mtimes_before = _mtimes(root)
    load, update, why = plan(None, False)
    assert load == [] and update and "registers changed" in why
    summary = run_pipeline(load, update=update, echo=lambda _m: None)
    with _db(root) as con:
        after = con.execute("""select huisarts_agb, program, months_held, fees_paid, input_fingerprint
                               from marts.settlements where year = 2024 order by all""").df()
    b, a = before.set_index(["huisarts_agb", "program"]), after.set_index(["huisarts_agb", "program"])
    changed = a.input_fingerprint != b.input_fingerprint
    gps = {"01000013", "01000014"}  # the predecessor and the successor
    assert set(a[changed].index.get_level_values(0)) == gps
    assert (a.loc[("01000013", "DM2")].months_held, a.loc[("01000014", "DM2")].months_held) == (3, 9)
    assert (b.loc[("01000013", "DM2")].months_held, b.loc[("01000014", "DM2")].months_held) == (5, 7)
    assert a.loc[("01000013", "DM2")].fees_paid < b.loc[("01000013", "DM2")].fees_paid
    # months Jan-Mar 2024 and everything before are as they were: those quarters' reports are not rewritten
    assert summary.rendered == ["2024Q2", "2024Q3", "2024Q4"]
    mtimes = _mtimes(root)
    for q in ("2023Q3", "2023Q4", "2024Q1"):
        assert mtimes[q] == mtimes_before[q], q
    workbook = pd.read_excel(root / "reports" / "2024Q2" / "verrekeningen.xlsx", sheet_name="Verrekeningen", dtype=str)
    row = workbook[(workbook["Huisarts AGB"] == "01000013") & (workbook["Programma"] == "DM2")].iloc[0]
    assert row["Maanden praktijkhouder"] == "3"


def _report_texts(root: Path, quarter: str) -> dict[str, str]:
    folder = root / "reports" / quarter
    return {str(p.relative_to(folder)): pdf_text(p) for p in sorted(folder.rglob("*.pdf"))}


def _marts(root: Path) -> dict[str, pd.DataFrame]:
    with _db(root) as con:
        out = {}
        for t in MARTS:
            df = con.execute(f"select * from marts.{t}").df()
            out[t] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Two identical small data roots: quarters 2024Q1-2024Q4 of 4 practices."""
    roots = [tmp_path / "a", tmp_path / "b"]
    generate(roots[0] / "data", practices=4, first="2024Q1", last="2024Q4", seed=7)
    shutil.copytree(roots[0], roots[1])  # the same bytes (an XLSX file records when it was written)
    monkeypatch.setenv("COHAESIE_DATA_DIR", str(roots[0] / "data"))
    monkeypatch.setenv("COHAESIE_REPORTS_DIR", str(roots[0] / "reports"))
    return roots


def _use(monkeypatch, root: Path) -> None:
    monkeypatch.setenv("COHAESIE_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("COHAESIE_REPORTS_DIR", str(root / "reports"))


def test_quarters_loaded_in_any_order_give_identical_marts_and_reports_and_past_reports_stay_as_of(tiny, monkeypatch):
    a, b = tiny
    quarters = [Quarter(2024, i) for i in range(1, 5)]
    with DagsterInstance.ephemeral() as instance:
        # a: the first three quarters, then 2024Q4 arrives
        _use(monkeypatch, a)
        run_quarters(quarters[:3], echo=lambda _m: None, instance=instance)
        q3_before = _report_texts(a, "2024Q3")
        q3_mtimes = _mtimes(a)["2024Q3"]
        summary = run_quarters(quarters[3:], echo=lambda _m: None, instance=instance)
        assert summary.rendered == ["2024Q4"] and _mtimes(a)["2024Q3"] == q3_mtimes
        # rendering 2024Q3 again now that 2024Q4 is loaded gives the same text
        from cohaesie_pipeline.definitions import defs

        result = defs.resolve_job_def("update_pipeline").execute_in_process(
            instance=instance, run_config={"ops": {"quarter_reports": {"config": {"quarters": ["2024Q3"]}}}})
        assert result.success
        assert _report_texts(a, "2024Q3") == q3_before
        # b: the same deliveries, newest first, each brought up to date on its own
        _use(monkeypatch, b)
        for q in reversed(quarters):
            run_quarters([q], echo=lambda _m: None, instance=instance)
    ma, mb = _marts(a), _marts(b)
    for t in MARTS:
        pd.testing.assert_frame_equal(ma[t], mb[t], check_dtype=False, obj=t)
    for q in quarters:
        assert _report_texts(a, str(q)) == _report_texts(b, str(q)), q
    assert date.today().strftime("%d-%m-%Y") in q3_before["bestuursrapportage.pdf"]
