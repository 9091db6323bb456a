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
        # the coverage table's row (the funnel's list of practices also starts with name and program)
        row = [ln for ln in lines if ln.startswith(r.practice_name + " " + r.program + " ")
               and re.search(r" (voldoet|onder norm|–)$", ln)]
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
    flat = " ".join(text.split())
    # issue 13 item 5: Cohaesie's own place on the date line, a salutation by surname, the lagging indicator
    # with its figures and target, the evaluation date, the program as written in Dutch
    assert re.search(r"Venlo, \d{1,2} \w+ \d{4}", flat) and re.search(r"Geachte collega('s)? [A-Z]", flat)
    assert "Waar wij samen op letten" in flat and "doel minstens" in flat and "Wij evalueren de resultaten op" in flat
    assert "diabetes mellitus type 2" in flat or "COPD" in flat or "astma" in flat


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


def test_booking_each_quarters_difference_books_every_applied_euro_once(demo_db, tmp_path):
    """Issue 13 item 6: each workbook's 'Te boeken' is applied money as known now minus as known a quarter ago,
    so booking 2024Q1..2024Q4 (and 2025Q1's final settlement, when loaded) adds up to the year's applied money."""
    from cohaesie_pipeline.quarters import Quarter
    from cohaesie_pipeline.reports.data import load_quarter
    from cohaesie_pipeline.reports.workbook import write_workbook

    booked = Decimal(0)
    for q in ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]:
        path = tmp_path / f"{q}.xlsx"
        write_workbook(path, load_quarter(demo_db, Quarter.parse(q)), load_policy())
        ws = load_workbook(path)["Te boeken"]
        header = [c.value for c in ws[1]]
        col, year = header.index("Te boeken dit kwartaal"), header.index("Jaar")
        booked += sum((Decimal(str(r[col])) for r in ws.iter_rows(min_row=2, values_only=True)
                       if r[0] != "Totaal" and r[year] == 2024), Decimal(0))
    applied = demo_db.execute("""select coalesce(sum(settlement_amount), 0) from marts.settlements_as_of
                                 where as_of_quarter = '2024Q4' and year = 2024 and applied""").fetchone()[0]
    assert applied > 0 and booked == Decimal(str(applied))


def test_text_from_the_registers_is_never_a_formula_in_a_workbook(demo_db, tmp_path):
    from cohaesie_pipeline.quarters import Quarter
    from cohaesie_pipeline.reports.data import load_quarter
    from cohaesie_pipeline.reports.workbook import write_workbook

    data = load_quarter(demo_db, Quarter.parse("2024Q4"))
    evil = '=HYPERLINK("http://example.invalid/x","klik")'
    data.practices.loc[:, "practice_name"] = evil
    path = tmp_path / "w.xlsx"
    write_workbook(path, data, load_policy())
    wb = load_workbook(path)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == evil]
    assert cells and all(c.data_type == "s" for c in cells)


def test_letters_only_where_a_confirmation_or_compliment_letter_is_due():
    from datetime import date
    from types import SimpleNamespace

    import pandas as pd

    from cohaesie_pipeline.quarters import Quarter
    from cohaesie_pipeline.reports.letters import letter_events
    from tests.policy_fixtures import steps

    reg = steps(("A", "DM2", "1_bindend_verbetergesprek", date(2024, 8, 1), date(2024, 8, 10)),   # confirmed
                ("B", "DM2", "1_bindend_verbetergesprek", date(2024, 9, 1), None),                # due
                ("C", "COPD", "3b_functioneringsgesprek", date(2024, 9, 5), date(2024, 10, 3)),   # confirmed later
                ("D", "CVRM", "3a_compliment", date(2024, 8, 20), None),                          # recent
                ("E", "CVRM", "3a_compliment", date(2024, 2, 20), None))                          # long ago
    events = letter_events(SimpleNamespace(quarter=Quarter.parse("2024Q4"), steps=pd.DataFrame(reg)))
    # C's confirmation was sent after the peildatum (2024-10-01): as of 2024Q4 it is still due
    assert list(zip(events.practice_agb, events.step)) == [
        ("B", "1_bindend_verbetergesprek"), ("C", "3b_functioneringsgesprek"), ("D", "3a_compliment")]


def test_the_traffic_light_is_not_green_below_the_coverage_norm(demo_db):
    """Issue 13 item 3: on track on the indicators but under the coverage norm is orange, said why."""
    from datetime import date

    from cohaesie_pipeline.quarters import Quarter
    from cohaesie_pipeline.reports.data import load_quarter
    from cohaesie_pipeline.reports.practice_report import practice_context

    data = load_quarter(demo_db, Quarter.parse("2024Q4"))
    cov = data.coverage[data.coverage.quarter == "2024Q4"]
    cls = data.classification[data.classification.quarter == "2024Q4"]
    below = cov.merge(cls, on=["practice_agb", "program"])
    below = below[(below.meets_norm == False) & (below.status == "on_track")]  # noqa: E712
    assert len(below), "the demo has on-track practice-programs below the norm"
    r = below.iloc[0]
    view = next(p for p in practice_context(data, r.practice_agb, load_policy(), date(2025, 1, 15))["programs"]
                if p["code"] == r.program)
    assert view["light"] == "oranje" and view["light_label"] == "onder dekkingsnorm"


def test_private_worklists_hold_the_patients_and_nothing_else_does(reports, demo_db):
    """Issue 13 item 4: per practice a private worklist (xlsx + PDF, folders 0700, files 0600) with exactly the
    declared patients without care and the settlement specification; no pseudonym in any shared file."""
    import stat

    from cohaesie_pipeline.reports.worklists import shared_texts

    q = "2024Q4"
    private = reports / q / "prive"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    practices = sorted(p.name for p in (reports / q / "praktijken").glob("*.pdf"))
    assert sorted(d.name + ".pdf" for d in private.iterdir()) == practices
    agb = demo_db.execute("""select practice_agb from marts.practice_coverage where quarter = ? and meets_norm = false
                             order by all limit 1""", [q]).fetchone()[0]
    folder = private / agb
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for f_ in folder.iterdir():
        assert stat.S_IMODE(f_.stat().st_mode) == 0o600, f_
    wb = load_workbook(folder / "werklijst.xlsx")
    listed = {(r[0], r[1]) for r in wb["Zonder zorg"].iter_rows(min_row=2, values_only=True)}
    expected = set(demo_db.execute("""select program, patient_id from intermediate.int_patient_coverage
                                      where quarter = ? and practice_agb = ? and assessment = 'assessed'
                                        and not received_care""", [q, agb]).fetchall())
    assert listed == expected and listed
    spec = [r for r in wb["Specificatie verrekening"].iter_rows(min_row=2, values_only=True) if r[0]]
    fees = demo_db.execute("""select sum(fees_without_care) from marts.practice_coverage
                              where quarter = ? and practice_agb = ? and meets_norm = false""", [q, agb]).fetchone()[0]
    assert round(sum(Decimal(str(r[2])) for r in spec), 2) == Decimal(str(fees))
    assert "VERTROUWELIJK · bevat patiëntpseudoniemen" in pdf_text(folder / "werklijst.pdf")
    # the privacy check's view: every file outside prive/ is free of this quarter's pseudonyms
    ids = {r[0] for r in demo_db.execute("select distinct patientnummer from raw.patienten where quarter = ?",
                                         [q]).fetchall()}
    texts = shared_texts(reports / q)
    assert "verrekeningen.xlsx" in texts and "bestuursrapportage.pdf" in texts
    assert not any(tok in ids for text in texts.values() for tok in PSEUDONYM.findall(text))
    assert all("prive" not in text for name, text in texts.items() if not name.startswith("."))


def test_reports_fetch_nothing_but_the_packages_own_assets(tmp_path, monkeypatch):
    """Issue 13 item 7: WeasyPrint's URL fetcher refuses the network and the rest of the disk."""
    from cohaesie_pipeline.reports import render

    fetch = render.package_assets_only().fetch
    assert fetch((render.STATIC / "report.css").as_uri())  # the package's own stylesheet loads
    assert fetch("data:text/plain,ok")
    for url in ("http://example.invalid/logo.png", "file:///etc/passwd",
                (render.STATIC / ".." / ".." / "policy.yaml").as_uri()):
        with pytest.raises(ValueError, match="only the package's own assets"):
            fetch(url)
    # and render_pdf renders through it
    made = []
    original = render.package_assets_only
    monkeypatch.setattr(render, "package_assets_only", lambda: made.append(1) or original())
    render.render_pdf("letter.html.j2", {"title": "t", "quarter": "2024Q4", "header_left": "", "header_right": "",
                                         "paragraphs": [], "agreements": [], "goals": []}, tmp_path / "x.pdf")
    assert made


def test_each_indicator_is_labelled_by_its_interval_against_national():
    """Issue 13 item 3 (Fingertips): the label comes from the 95% interval, beside the policy's tag."""
    from cohaesie_pipeline.reports.practice_report import compared_with_national

    # COPD n=19 at 57.9% with interval 36-77% against national 74%: achter by the rule, yet similar
    assert compared_with_national(0.36, 0.77, 0.74) == "vergelijkbaar"
    assert compared_with_national(0.50, 0.73, 0.74) == "significant lager"
    assert compared_with_national(0.75, 0.90, 0.74) == "significant hoger"
    assert compared_with_national(None, 0.9, 0.74) == ""


def test_practice_report_shows_the_year_earlier_the_rules_improvement_and_the_money_at_stake(reports, demo_db):
    """Issue 13 item 3: the basis of the decision in the practice's own report, equal to the marts."""
    rows = demo_db.execute("""select c.practice_agb, c.program, c.improvement_pp
                              from marts.practice_classification c where c.quarter = '2024Q4'
                              and c.status = 'underperformer' and c.improvement_pp is not null
                              order by 1, 2""").fetchall()
    assert rows, "the demo has underperformers with an improvement in 2024Q4"
    from cohaesie_pipeline.policy.wording import Wording

    policy = load_policy()
    money_checked = 0
    for agb, program, improvement in rows:
        text = " ".join(pdf_text(reports / "2024Q4" / "praktijken" / f"{agb}.pdf").split())
        assert "Een jaar eerder (2023Q4) en nu" in text
        verdict = "gehaald" if improvement >= policy.min_improvement_pp else "niet gehaald"
        assert (f"achter lagen): {f.pp(improvement / 100)}; de regel vraagt minstens "
                f"{Wording.of(policy).min_improvement} ({verdict})") in text
        amounts = demo_db.execute("""select settlement_amount, applied from marts.settlements_as_of
                                     where as_of_quarter = '2024Q4' and year = 2024 and practice_agb = ?
                                     and program = ?""", [agb, program]).fetchall()
        potential = sum((Decimal(str(a)) for a, _ in amounts), Decimal(0))
        applied = sum((Decimal(str(a)) for a, ok in amounts if ok), Decimal(0))
        if potential:
            said = f"mogelijk {f.euro(potential)}, daarvan toegepast {f.euro(applied)}"
            assert "\u00a0" in said and " ".join(said.split()) in text, (agb, program)
            money_checked += 1
    assert money_checked, "at least one underperformer has money at stake in the demo"


def test_funnel_limits_by_hand():
    """Issue 13 item 3: p0 = 0.80 at n = 100 has a standard error of √(0.16/100) = 0.04, so the 95% funnel is
    0.80 ± 1.96·0.04 = 0.7216-0.8784 and the 99.8% funnel 0.80 ± 3.09·0.04 = 0.6764-0.9236."""
    from cohaesie_pipeline.reports import charts

    lo, hi = charts.funnel_limit(0.80, 100, charts.Z95)
    assert (round(lo, 4), round(hi, 4)) == (0.7216, 0.8784)
    lo, hi = charts.funnel_limit(0.80, 100, charts.Z998)
    assert (round(lo, 4), round(hi, 4)) == (0.6764, 0.9236)
    assert [charts.funnel_side(r, 0.80, 100) for r in (0.75, 0.70, 0.67, 0.90, 0.93)] == [
        "", "laag95", "laag998", "hoog95", "hoog998"]
    # the same 70% is within chance at 25 patients (95% limit 0.80 - 1.96·0.08 = 0.6432)
    assert charts.funnel_side(0.70, 0.80, 25) == ""
    assert charts.funnel_limit(0.99, 10, charts.Z998)[1] == 1.0  # never above 100%


def test_board_funnel_lists_exactly_the_practices_below_the_outer_limit(reports, demo_db):
    """The board's list under the funnel plots equals a recomputation from the mart; nobody with a count under
    the disclosure threshold is in it (a rate beside its denominator gives the numerator back)."""
    import math

    from cohaesie_pipeline.reports import charts

    sup = load_policy().suppress_below
    quarter = "2024Q4"
    rows = demo_db.execute("""select p.practice_name, i.program, i.indicator_name, i.numerator, i.denominator,
                                     i.rate, i.care_group_rate
                              from marts.practice_indicators i join staging.stg_practices p using (practice_agb)
                              where i.quarter = ? and i.is_key and i.rate is not null""", [quarter]).fetchall()
    from collections import Counter

    expected = Counter()
    for _name, _program, indicator, num, den, rate, p0 in rows:
        if num < sup or den < sup:
            continue
        if rate < p0 - 3.090232 * math.sqrt(p0 * (1 - p0) / den):
            expected[(indicator, f.pct(rate), f.num(den))] += 1
    assert expected, "the demo has practices below the outer funnel limit"
    text = " ".join(pdf_text(reports / quarter / "bestuursrapportage.pdf").split())
    assert "Spreiding tussen praktijken: funnelplots (kernindicatoren)" in text
    start = text.index(f"Onder de {charts.FUNNEL_LEVELS['outer']}-grens:")
    section = text[start:text.index("Minder presterende, verbeterende", start)]
    for (indicator, rate, n), times in expected.items():
        assert section.count(f"{indicator} {rate} (n = {n})") == times, (indicator, rate, n)
    assert len(re.findall(r"\d+,\d% \(n = [\d.]+\)", section)) == sum(expected.values())


def test_what_changed_lists_only_changes_larger_than_chance(demo_db):
    """Issue 13 item 3: "Wat is veranderd" lists a key indicator when it moved at least the policy's
    reports.notable_change_pp and out of the previous quarter's 95% interval (recomputed here from the mart
    for every practice): one patient at n = 19 is no news."""
    from datetime import date

    from cohaesie_pipeline.quarters import Quarter
    from cohaesie_pipeline.reports.data import load_quarter
    from cohaesie_pipeline.reports.practice_report import practice_context

    policy = load_policy()
    rows = demo_db.execute("""select n.practice_agb, n.program, n.indicator_name, p.rate, n.rate, p.ci_low, p.ci_high
                              from marts.practice_indicators n join marts.practice_indicators p
                                on p.practice_agb = n.practice_agb and p.indicator_code = n.indicator_code
                               and p.quarter = '2024Q3'
                              where n.quarter = '2024Q4' and n.is_key and n.rate is not null and p.rate is not null
                                and abs(n.rate - p.rate) >= ?""", [policy.notable_change_pp / 100]).fetchall()
    inside = [r for r in rows if r[5] <= r[4] <= r[6]]
    outside = [r for r in rows if not r[5] <= r[4] <= r[6]]
    assert inside and outside, "the demo has changes of 5 pp both within and beyond chance"
    data = load_quarter(demo_db, Quarter.parse("2024Q4"))
    changes = {}
    for agb in {r[0] for r in rows}:
        changes[agb] = practice_context(data, agb, policy, date(2025, 1, 15))["changes"]
    line = lambda r: f"{r[1]}: {r[2]} {f.pct(r[3])} → {f.pct(r[4])} ({f.pp(r[4] - r[3])})"  # noqa: E731
    assert all(line(r) in changes[r[0]] for r in outside)
    assert not any(line(r) in changes[r[0]] for r in inside)
    # the threshold is the policy's, and said in its words where nothing changed
    quiet = [c for agb in sorted(set(data.indicators.practice_agb))
             for c in practice_context(data, agb, policy, date(2025, 1, 15))["changes"] if c.startswith("Geen")]
    assert quiet and all(f"minstens {policy.notable_change_pp:g} procentpunt" in c for c in quiet)


def test_practice_report_shows_its_exclusions_and_its_own_data_findings(reports, demo_db):
    """Issue 13 item 3: who is left out of the denominators and what the practice's own delivery should fix,
    as the marts have them; no file hashes for the GP to puzzle over."""
    quarter = "2024Q4"
    excluded = demo_db.execute("""select distinct practice_agb, program, excluded_specialist from marts.practice_indicators
                                  where quarter = ? and excluded_specialist > 0 order by 1, 2 limit 6""", [quarter]).fetchall()
    findings = demo_db.execute("""select practice_agb, description_nl, rows_affected, first_line
                                  from marts.data_quality_findings where quarter = ? order by 1, 2""", [quarter]).fetchall()
    assert excluded and findings
    text = {}

    def of(agb):
        if agb not in text:
            text[agb] = " ".join(pdf_text(reports / quarter / "praktijken" / f"{agb}.pdf").split())
        return text[agb]

    for agb, _program, n in excluded:
        word = "patiënt" if n == 1 else "patiënten"
        assert f"{n} {word} met de specialist als hoofdbehandelaar" in of(agb), agb
    for agb, description, rows, first_line in findings[:25]:
        assert f"{description}" in of(agb) and f"{f.num(rows)} {first_line}" in of(agb), (agb, description)
    clean = demo_db.execute("""select practice_agb from marts.practice_indicators where quarter = ? except
                               select practice_agb from marts.data_quality_findings where quarter = ?""",
                            [quarter, quarter]).fetchall()
    for (agb,) in clean[:3]:
        assert "aandachtspunten Geen aandachtspunten." in of(agb)
    sample = of(findings[0][0])
    assert "Kwartaalextractie" in sample and not re.search(r"\([0-9a-f]{12}\)", sample)  # no hashes



def test_workbook_splits_each_settlement_by_insurer(reports, demo_db):
    """Issue 13 item 6: per practice x program x insurer the part of the year's settlement that goes back to
    that insurer, equal to the mart; the insurers' totals add up to the quarters' settlements, which the GP rows
    distribute (money check insurer_split_adds_up)."""
    wb = load_workbook(reports / "2024Q4" / "verrekeningen.xlsx")
    ws = wb["Per verzekeraar"]
    header = [c.value for c in ws[1]]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] != "Totaal"]
    amount = header.index("Verrekening (terug naar verzekeraar)")
    mart = demo_db.execute("""select practice_agb, program, insurer_uzovi, settlement_amount
                              from marts.settlement_by_insurer where year = 2024 order by all""").fetchall()
    got = sorted((r[header.index("Praktijk AGB")], r[header.index("Programma")], r[header.index("UZOVI")],
                  Decimal(str(r[amount]))) for r in rows)
    assert got == [(a, p, u, Decimal(str(v))) for a, p, u, v in mart] and len(mart) > 0
    detail = demo_db.execute("select sum(settlement_amount) from marts.settlement_quarter_detail where year = 2024"
                             ).fetchone()[0]
    assert sum(Decimal(str(r[amount])) for r in rows) == Decimal(str(detail)) > 0
    totals = wb["Totaal per verzekeraar"]
    th = [c.value for c in totals[1]]
    trows = [r for r in totals.iter_rows(min_row=2, values_only=True) if r[0] != "Totaal"]
    assert len(trows) >= 3  # the demo's insurers
    for r in trows:
        whole = Decimal(str(r[th.index("Verrekening")]))
        parts = sum(Decimal(str(r[th.index(k)])) for k in ("Waarvan toegepast", "Waarvan potentieel",
                                                            "Gemengd (zie Verrekeningen)",
                                                            "Niet toegewezen (geen praktijkhouder)"))
        assert whole == parts
    assert sum(Decimal(str(r[th.index("Verrekening")])) for r in trows) == Decimal(str(detail))
