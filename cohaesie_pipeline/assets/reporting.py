"""Reporting layer: the quarter's PDFs (practice mirror reports, board report, letters) and the finance
workbook under reports/<YYYY>Q<n>/. A re-run replaces the quarter's files."""
import re
from datetime import date

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from cohaesie_pipeline.assets.decisions import SPECS as POLICY_SPECS
from cohaesie_pipeline.partitions import quarter_partitions
from cohaesie_pipeline.paths import reports_dir
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.reports import render
from cohaesie_pipeline.reports.data import load_quarter
from cohaesie_pipeline.reports.pdf_text import pdf_text
from cohaesie_pipeline.resources import Warehouse

OWNER = "team:kwaliteit"
DEPS = [s.key for s in POLICY_SPECS] + [AssetKey(["marts", "practice_indicators"]),
                                        AssetKey(["marts", "practice_coverage"]),
                                        AssetKey(["marts", "data_quality_findings"])]
PRACTICE = AssetSpec(AssetKey(["reports", "practice_reports"]), group_name="reports", owners=[OWNER],
                     kinds={"pdf", "weasyprint"}, deps=DEPS,
                     description="Spiegelinformatie: one PDF per practice (praktijken/<agb>.pdf), discussed at the "
                                 "quarterly visit.")
BOARD = AssetSpec(AssetKey(["reports", "board_report"]), group_name="reports", owners=[OWNER],
                  kinds={"pdf", "weasyprint"}, deps=DEPS,
                  description="Bestuursrapportage.pdf for the quality working group and the board; small counts "
                              "suppressed.")
LETTERS = AssetSpec(AssetKey(["reports", "letters"]), group_name="reports", owners=[OWNER],
                    kinds={"pdf", "weasyprint"}, deps=DEPS,
                    description="Draft letters (brieven/): confirmations of binding and performance talks, "
                                "compliments.")
WORKBOOK = AssetSpec(AssetKey(["reports", "finance_workbook"]), group_name="reports", owners=["team:finance"],
                     kinds={"excel"}, deps=DEPS,
                     description="verrekeningen.xlsx for finance: settlements per practice x GP x program, "
                                 "quarter detail, reserve.")
NO_PATIENT_DATA = "no_patient_data_in_reports"

# Pseudonyms as the exports write them, and anything that looks like a 9-digit citizen number.
_ID_PATTERN = re.compile(r"\b[A-Za-z0-9_-]{6,64}\b")


def patient_ids_in(texts: dict[str, str], patient_ids: set[str]) -> dict[str, list[str]]:
    """Which report holds which patient id (none, or the check fails)."""
    found = {}
    for name, text in texts.items():
        hits = sorted({t for t in _ID_PATTERN.findall(text) if t in patient_ids})
        if hits:
            found[name] = hits
    return found


@multi_asset(specs=[PRACTICE, BOARD, LETTERS, WORKBOOK], partitions_def=quarter_partitions, name="quarter_reports",
             can_subset=False, check_specs=[AssetCheckSpec(
                 NO_PATIENT_DATA, asset=PRACTICE.key, blocking=False,
                 description="No patient pseudonym of the quarter's delivery appears in any report or letter.")])
def quarter_reports(context: AssetExecutionContext, warehouse: Warehouse):
    quarter = Quarter.parse(context.partition_key)
    policy = load_policy()
    out = reports_dir() / str(quarter)
    with warehouse.connect(read_only=True) as con:
        data = load_quarter(con, quarter)
        patient_ids = {r[0] for r in con.execute("select distinct patientnummer from raw.patienten where quarter = ?",
                                                 [str(quarter)]).fetchall()}
    produced = date.today()
    practices = render.render_practice_reports(data, policy, out, produced)
    board = render.render_board_report(data, policy, out, produced)
    letters = render.render_letters(data, out, produced)
    workbook, totals = render.render_workbook(data, policy, out)

    pages = sum(r.pages for r in practices)
    yield MaterializeResult(asset_key=PRACTICE.key, metadata={
        "folder": MetadataValue.path(str(out / "praktijken")), "files": len(practices), "pages": pages,
        "bytes": sum(r.bytes for r in practices),
        "examples": MetadataValue.md("\n".join(f"- `{r.path.name}` ({r.pages} p.)" for r in practices[:5]))})
    yield MaterializeResult(asset_key=BOARD.key, metadata={
        "path": MetadataValue.path(str(board.path)), "pages": board.pages, "bytes": board.bytes})
    yield MaterializeResult(asset_key=LETTERS.key, metadata={
        "folder": MetadataValue.path(str(out / "brieven")), "files": len(letters),
        "letters": MetadataValue.md("\n".join(f"- `{r.path.name}`" for r in letters) or "_none this quarter_")})
    yield MaterializeResult(asset_key=WORKBOOK.key, metadata={
        "path": MetadataValue.path(str(workbook)), "rows": totals["rows"],
        "settlement_total_eur": float(totals["settlement_total"])})

    texts = {r.path.name: pdf_text(r.path) for r in [*practices, board, *letters]}
    leaks = patient_ids_in(texts, patient_ids)
    yield AssetCheckResult(asset_key=PRACTICE.key, check_name=NO_PATIENT_DATA, passed=not leaks,
                           metadata={"documents_checked": len(texts), "documents_with_patient_ids": len(leaks),
                                     "ids_checked": len(patient_ids)})
