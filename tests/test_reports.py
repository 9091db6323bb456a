"""Reports read back as a person would: text out of the PDFs, numbers out of the workbook, against the marts."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.reports import format as f
from cohaesie_pipeline.reports.pdf_text import pdf_text

QUARTERS = ["2023Q1", "2023Q2", "2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4"]
PSEUDONYM = re.compile(r"\bP[0-9A-F]{14}\b")


@pytest.fixture(scope="module")
def reports(demo_root):
    return demo_root / "reports"


def test_every_practice_has_a_report_every_quarter(reports, demo_db):
    for q in QUARTERS:
        expected = {r[0] for r in demo_db.execute(
            "select distinct practice_agb from marts.practice_indicators where quarter = ?", [q]).fetchall()}
        files = {p.stem for p in (reports / q / "praktijken").glob("*.pdf")}
        assert files == expected and len(files) == 45, q
        assert (reports / q / "bestuursrapportage.pdf").exists() and (reports / q / "verrekeningen.xlsx").exists()


@pytest.mark.parametrize("quarter", ["2023Q2", "2024Q4"])
def test_practice_reports_show_name_coverage_and_national_year_and_no_patient_ids(reports, demo_db, quarter):
    practices = dict(demo_db.execute("select practice_agb, practice_name from staging.stg_practices").fetchall())
    cov = demo_db.execute("select practice_agb, program, coverage from marts.practice_coverage where quarter = ?",
                          [quarter]).df()
    ids = {r[0] for r in demo_db.execute("select distinct patientnummer from raw.patienten where quarter = ?",
                                         [quarter]).fetchall()}
    accented = 0
    for pdf in sorted((reports / quarter / "praktijken").glob("*.pdf")):
        text = pdf_text(pdf)
        name = practices[pdf.stem]
        assert name in text, (pdf.stem, name)
        accented += any(ch in name for ch in "éëöüÉÖ")
        for r in cov[cov.practice_agb == pdf.stem].itertuples():
            assert f.pct(r.coverage) in text, (pdf.stem, r.program, f.pct(r.coverage))
        assert str(min(int(quarter[:4]), 2024)) in text and "illustratieve waarden" in text  # year and honest label
        assert not PSEUDONYM.search(text) and not (set(re.findall(r"\b\w{6,64}\b", text)) & ids)
    assert accented >= 1  # names with accents came through intact


def test_board_report_lists_exactly_the_underperformers(reports, demo_db):
    for quarter in ("2024Q2", "2024Q4"):
        text = pdf_text(reports / quarter / "bestuursrapportage.pdf")
        mart = demo_db.execute("""select practice_agb, program from marts.practice_classification
                                  where quarter = ? and status = 'underperformer'""", [quarter]).fetchall()
        start = text.index(f"Minder presterend ({len(mart)})")
        section = text[start:text.index("Achter, nog geen praktijkbezoeken", start)]
        listed = set(re.findall(r"(\d{8})\s*(DM2|CVRM|COPD|ASTMA)", section))
        assert listed == set(mart), quarter
        assert len(mart) >= 1


def test_board_report_suppresses_small_counts(reports, demo_db):
    quarter = "2024Q4"
    small = demo_db.execute("""select p.practice_name, c.program, c.empty_records, c.assessed_patients
                               from marts.practice_coverage c join staging.stg_practices p using (practice_agb)
                               where quarter = ? and empty_records between 1 and 9""", [quarter]).df()
    assert len(small) >= 5, "the demo should have small counts to suppress"
    lines = pdf_text(reports / quarter / "bestuursrapportage.pdf").splitlines()
    for r in small.itertuples():
        row = [ln for ln in lines if ln.startswith(r.practice_name + " " + r.program + " ")]
        assert len(row) == 1, (r.practice_name, r.program)
        cells = row[0][len(r.practice_name) + len(r.program) + 2:].split()
        # assessed, empty records, coverage, norm: the small count is never printed
        assert cells[1] == "<10", row[0]
        assert str(r.empty_records) not in cells[:2]


def test_workbook_totals_equal_the_mart(reports, demo_db):
    wb = load_workbook(reports / "2024Q4" / "verrekeningen.xlsx")
    ws = wb["Verrekeningen"]
    header = [c.value for c in ws[1]]
    col = header.index("Verrekening")
    name = header.index("Huisarts")
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] != "Totaal"]
    gp_rows = [r for r in rows if r[name] != "Afrondingsverschil"]
    mart = demo_db.execute("select sum(settlement_amount), count(*) from marts.settlements where year = 2024").fetchone()
    assert sum(Decimal(str(r[col])) for r in gp_rows) == Decimal(str(mart[0])) and len(gp_rows) == mart[1]
    # with the rounding lines the sheet adds up to the practices' rounded totals
    rounding = demo_db.execute("""select coalesce(sum(rounding_difference) filter (where amount = 'settlement_amount'), 0),
                                         count(distinct (practice_agb, program))
                                  from marts.settlement_rounding where year = 2024""").fetchone()
    assert len(rows) - len(gp_rows) == rounding[1]
    assert sum(Decimal(str(r[col])) for r in rows) == Decimal(str(mart[0])) + Decimal(str(rounding[0]))
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert "€" in ws.cell(row=2, column=col + 1).number_format
    detail = wb["Kwartaaldetail"]
    dh = [c.value for c in detail[1]]
    dcol = dh.index("Verrekening kwartaal")
    dtotal = sum(Decimal(str(r[dcol])) for r in detail.iter_rows(min_row=2, values_only=True) if r[0] != "Totaal")
    dmart = demo_db.execute("select sum(settlement_amount) from marts.settlement_quarter_detail where year = 2024").fetchone()[0]
    assert dtotal == Decimal(str(dmart))


def test_letters_for_trajectory_events(reports, demo_db):
    letters = list((reports / "2024Q4" / "brieven").glob("*.pdf"))
    assert any("1_bindend_verbetergesprek" in p.name for p in letters)
    text = pdf_text(next(p for p in letters if "1_bindend" in p.name))
    assert "Bevestiging afspraken bindend verbetergesprek" in text and "CONCEPT" in text
    assert "Oproepsysteem" in text  # the agreements from the register
    assert not PSEUDONYM.search(text)


def test_page_numbers_and_methodology(reports):
    text = pdf_text(next((reports / "2024Q4" / "praktijken").glob("*.pdf")))
    assert re.search(r"pagina 1 van \d+", text)
    assert "Verantwoording" in text and "Wilson" in text and load_policy().version in text


def test_every_output_carries_the_fingerprint_of_its_inputs(reports):
    """The practice and board PDFs, the letters and the workbook of a quarter print the fingerprint its
    manifest records; another quarter's differs."""
    import json

    prints = {}
    for q in ("2024Q3", "2024Q4"):
        manifest = json.loads((reports / q / ".rendered.json").read_text(encoding="utf-8"))
        fp = manifest["fingerprint"]
        assert re.fullmatch(r"sha256:[0-9a-f]{16}", fp)
        pdfs = [reports / q / "bestuursrapportage.pdf", *sorted((reports / q / "praktijken").glob("*.pdf"))[:3],
                *sorted((reports / q / "brieven").glob("*.pdf"))]
        for pdf in pdfs:
            assert fp in pdf_text(pdf).replace("\n", " "), pdf
        notes = [c.value for c in load_workbook(reports / q / "verrekeningen.xlsx")["Toelichting"]["A"]]
        assert any(fp in str(v) for v in notes)
        assert set(manifest["files"]) >= {"bestuursrapportage.pdf", "verrekeningen.xlsx"}
        prints[q] = fp
    assert prints["2024Q3"] != prints["2024Q4"]
    assert list((reports / "2024Q4" / "brieven").glob("*.pdf"))  # letters were checked too


def test_every_policy_number_in_the_texts_comes_from_the_policy_config(demo_root, demo_db, tmp_path):
    """Issue 12 item 8: with another norm, lag threshold and intensive period no PDF or letter still says 90%,
    20% as a rule, or zes maanden; they say the configured values."""
    from datetime import date

    import yaml

    from cohaesie_pipeline.quarters import Quarter
    from cohaesie_pipeline.reports.data import load_quarter
    from cohaesie_pipeline.reports.render import render_quarter

    raw = yaml.safe_load(Path(load_policy().source).read_text(encoding="utf-8"))
    raw["version"] = "test-words"
    raw["coverage"]["coverage_norm"] = 0.85
    raw["indicators"]["lag_threshold"] = 0.25
    raw["trajectory"]["intensive_months"] = 4
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    policy = load_policy(tmp_path / "policy.yaml")
    out = render_quarter(load_quarter(demo_db, Quarter.parse("2024Q4")), policy, tmp_path / "reports", date(2025, 1, 15))
    pdfs = [r.path for r in out.practices] + [out.board.path] + [r.path for r in out.letters]
    assert out.letters, "the demo's 2024Q4 has trajectory letters"
    # "as a rule": a chart axis may still have a 20% tick; a rule phrase with the default numbers may not appear
    stale = re.compile(r"(meer dan|norm van|onder de|ligt|bij) (90|20) ?%|(90|20) ?%[- ]?(norm|regel|onder|of meer)"
                       r"|zes maanden")
    seen = {}
    for pdf in pdfs:
        text = " ".join(pdf_text(pdf).split())
        seen[pdf.name] = text
        assert not stale.search(text), (pdf.name, stale.search(text))
    practice = seen[out.practices[0].path.name]
    assert "85%-norm" in practice and "meer dan 25% onder het landelijk gemiddelde" in practice
    assert "85%-norm" in seen["bestuursrapportage.pdf"]
    talks = [t for n, t in seen.items() if "1_bindend" in n]
    assert talks and all("de komende vier maanden" in t for t in talks)
