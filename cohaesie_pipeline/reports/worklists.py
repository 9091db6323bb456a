"""Private worklists per practice (issue 13 item 4): the route from a number to the patients behind it.

Per quarter and practice, under `reports/<q>/prive/<agb>/` (folders 0700, files 0600): `werklijst.xlsx` and
`werklijst.pdf` with the pseudonymised declared patients without care (the "lege dossiers"), the patients
missing a key process indicator's measurement in its window with the date last measured, and, where the
practice-program is below the coverage norm, the settlement specification: the patients and fees the
quarter's settlement rests on. The practice re-identifies the pseudonyms in its own system.

These are the only outputs holding patient pseudonyms. No shared output links to them, and the privacy check
of the reports asset proves no pseudonym appears in any file outside `prive/` (`shared_texts`).
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter

from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.reports import format as f

PRIVATE = "prive"
DIR_MODE, FILE_MODE = 0o700, 0o600


def load_worklists(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> dict[str, dict[str, pd.DataFrame]]:
    """Per practice AGB: `without_care` and `missing` rows (patient level, this quarter only)."""
    q = str(quarter)
    without = con.execute("""select practice_agb, program, patient_id, fee_amount, last_core_measurement, settled
                             from marts.report_worklist_without_care where quarter = ?
                             order by practice_agb, program, patient_id""", [q]).df()
    missing = con.execute("""select practice_agb, program, patient_id, indicator, last_measured, sort_order
                             from marts.report_worklist_missing where quarter = ?
                             order by practice_agb, program, patient_id, sort_order""", [q]).df()
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for agb in sorted(set(without.practice_agb) | set(missing.practice_agb)):
        out[agb] = {"without_care": without[without.practice_agb == agb].reset_index(drop=True),
                    "missing": missing[missing.practice_agb == agb].reset_index(drop=True)}
    return out


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)


def _private_file(path: Path) -> None:
    os.chmod(path, FILE_MODE)


def write_xlsx(path: Path, quarter: str, agb: str, name: str, lists: dict[str, pd.DataFrame]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1})
    money = wb.add_format({"num_format": "€ #,##0.00"})
    day = wb.add_format({"num_format": "dd-mm-yyyy"})

    def sheet(title: str, frame: pd.DataFrame, cols: dict[str, str]) -> None:
        ws = wb.add_worksheet(title)
        for j, c in enumerate(cols):
            ws.write_string(0, j, cols[c], head)
            ws.set_column(j, j, 60 if c == "missing" else 18)
        for i, row in enumerate(frame[list(cols)].itertuples(index=False), start=1):
            for j, (c, v) in enumerate(zip(cols, row)):
                if f.missing(v):
                    ws.write_blank(i, j, None)
                elif c == "fee_amount":
                    ws.write_number(i, j, float(v), money)
                elif c.startswith("last_"):
                    ws.write_datetime(i, j, pd.Timestamp(v).to_pydatetime(), day)
                else:
                    ws.write_string(i, j, str(v))  # pseudonyms and names are text, never a formula
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)

    w = lists["without_care"]
    sheet("Zonder zorg", w, {"program": "Programma", "patient_id": "Patiëntnummer (pseudoniem)",
                             "last_core_measurement": "Laatste kernmeting", "fee_amount": "Vergoeding"})
    sheet("Ontbrekende metingen", lists["missing"], {"program": "Programma", "patient_id": "Patiëntnummer (pseudoniem)",
                                                    "indicator": "Kernindicator", "last_measured": "Laatst gemeten"})
    sheet("Specificatie verrekening", w[w.settled], {"program": "Programma", "patient_id": "Patiëntnummer (pseudoniem)",
                                                     "fee_amount": "Vergoeding"})
    info = wb.add_worksheet("Toelichting")
    info.set_column(0, 0, 110)
    for i, line in enumerate([
        f"Werklijst {name} (AGB {agb}), {quarter}. VERTROUWELIJK: alleen voor de praktijk; bevat patiëntpseudoniemen.",
        "Zonder zorg: beoordeelde gedeclareerde patiënten zonder kernmeting in de periode (lege dossiers).",
        "Ontbrekende metingen: patiënten in de noemer van een kernindicator zonder meting in de periode van die "
        "indicator, met de laatste meting in de aanlevering.",
        "Specificatie verrekening: de patiënten en vergoedingen waarop de verrekening van dit kwartaal rust "
        "(alleen programma's onder de dekkingsnorm).",
    ]):
        info.write_string(i, 0, line)
    wb.close()


def worklist_context(quarter: str, agb: str, name: str, lists: dict[str, pd.DataFrame], produced) -> dict:
    w = lists["without_care"]
    settled = w[w.settled]
    return {
        "title": f"Werklijst {name} {quarter}", "quarter": quarter,
        "header_left": f"Werklijst · {name} · VERTROUWELIJK", "header_right": f"{quarter} · AGB {agb}",
        "name": name, "agb": agb, "produced": f.datum(produced),
        "without_care": [{"program": r.program, "patient": r.patient_id, "last": f.datum(r.last_core_measurement)
                          if not f.missing(r.last_core_measurement) else "nooit", "fee": f.euro(r.fee_amount)}
                         for r in w.itertuples()],
        "missing_counts": [{"program": p, "indicator": i, "patients": len(g), "never": int(g.last_measured.isna().sum())}
                           for (p, _o, i), g in lists["missing"].groupby(["program", "sort_order", "indicator"])],
        "settled": [{"program": p, "patients": len(g), "fees": f.euro(sum(g.fee_amount))}
                    for p, g in settled.groupby("program")],
    }


def write_worklist(folder: Path, quarter: str, agb: str, name: str, lists: dict[str, pd.DataFrame], produced,
                   render_pdf) -> list[Path]:
    """Both files of one practice into `folder` (= <quarter folder>/prive/<agb>), private modes."""
    _private_dir(folder.parent)
    _private_dir(folder)
    xlsx, pdf = folder / "werklijst.xlsx", folder / "werklijst.pdf"
    write_xlsx(xlsx, quarter, agb, name, lists)
    render_pdf("worklist.html.j2", worklist_context(quarter, agb, name, lists, produced), pdf)
    for p in (xlsx, pdf):
        _private_file(p)
    return [xlsx, pdf]


def shared_texts(quarter_folder: Path) -> dict[str, str]:
    """The text of every file of a quarter outside `prive/`: PDFs, workbooks, JSON. The privacy check looks
    for patient pseudonyms in all of it."""
    from openpyxl import load_workbook

    from cohaesie_pipeline.reports.pdf_text import pdf_words

    texts = {}
    for p in sorted(quarter_folder.rglob("*")):
        if not p.is_file() or PRIVATE in p.relative_to(quarter_folder).parts:
            continue
        rel = str(p.relative_to(quarter_folder))
        if p.suffix == ".pdf":
            texts[rel] = pdf_words(p)
        elif p.suffix == ".xlsx":
            wb = load_workbook(p, read_only=True)
            texts[rel] = "\n".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row
                                   if v is not None)
            wb.close()
        else:
            texts[rel] = p.read_text(encoding="utf-8", errors="replace")
    return texts

