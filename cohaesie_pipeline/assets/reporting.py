"""Reporting layer: each quarter's PDFs (practice mirror reports, board report, letters) and the finance
workbook under reports/<YYYY>Q<n>/.

One unpartitioned asset over every loaded quarter: a run renders again exactly the quarters whose input
fingerprint changed (reports/fingerprint.py) and says which; the others are not touched. From the UI a
quarter can be rendered on demand with the run config `quarters: [2024Q3]` (or `all_quarters: true`)."""
import re
from datetime import date

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from pydantic import Field

from cohaesie_pipeline.assets.decisions import SPECS as POLICY_SPECS
from cohaesie_pipeline.paths import reports_dir
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.reports.data import load_quarter
from cohaesie_pipeline.reports.fingerprint import render_fingerprint
from cohaesie_pipeline.reports.render import recover_interrupted, render_quarter, rendered_fingerprint
from cohaesie_pipeline.reports.worklists import load_worklists, shared_texts
from cohaesie_pipeline.resources import Warehouse

OWNER = "team:kwaliteit"
# the report layer (dbt_project/models/marts/report_*) and the marts the reports read
REPORT_LAYER = ["report_practices", "report_practice_visits", "report_improvement_steps", "report_practice_holders",
                "report_deliveries", "report_worklist_without_care", "report_worklist_missing",
                "report_practice_changes", "report_board_overview", "report_board_key_indicators",
                "report_board_coverage", "report_board_data_quality"]
DEPS = [s.key for s in POLICY_SPECS] + [AssetKey(["marts", name]) for name in
                                        ("practice_indicators", "practice_coverage", "data_quality_findings",
                                         *REPORT_LAYER)]
PRACTICE = AssetSpec(AssetKey(["reports", "practice_reports"]), group_name="reports", owners=[OWNER],
                     kinds={"pdf", "weasyprint"}, deps=DEPS,
                     description="Spiegelinformatie: one PDF per practice (reports/YYYYQn/praktijken/AGB.pdf), discussed at the "
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


class ReportConfig(Config):
    quarters: list[str] = Field(default=[], description="Render these quarters again even if nothing changed "
                                                        "(YYYYQn).")
    all_quarters: bool = Field(default=False, description="Render every loaded quarter again.")


def loaded_quarters(con) -> list[Quarter]:
    try:
        rows = con.execute("select distinct quarter from marts.practice_indicators").fetchall()
    except duckdb.CatalogException:  # no marts yet
        return []
    return sorted(Quarter.parse(r[0]) for r in rows)


@multi_asset(specs=[PRACTICE, BOARD, LETTERS, WORKBOOK], name="quarter_reports", can_subset=False,
             check_specs=[AssetCheckSpec(NO_PATIENT_DATA, asset=PRACTICE.key, blocking=False,
                                         description="No patient pseudonym of the quarter's delivery appears in "
                                                     "any file rendered in the run outside the private "
                                                     "worklists (prive/): PDFs, letters, workbook, manifest.")])
def quarter_reports(context: AssetExecutionContext, config: ReportConfig, warehouse: Warehouse):
    policy = load_policy()
    root = reports_dir()
    for line in recover_interrupted(root):
        context.log.warning("reports: %s (left by an interrupted run)", line)
    forced = {str(Quarter.parse(q)) for q in config.quarters}
    produced = date.today()
    rendered, unchanged, leaks, checked, ids_checked = [], [], {}, 0, 0
    with warehouse.lock(context):
        with warehouse.connect(read_only=True) as con:
            quarters = loaded_quarters(con)
        for quarter in quarters:
            q = str(quarter)
            with warehouse.connect(read_only=True) as con:
                data = load_quarter(con, quarter)
                fingerprint = render_fingerprint(data, policy)
                if not (config.all_quarters or q in forced or rendered_fingerprint(root / q) != fingerprint):
                    unchanged.append(q)
                    continue
                patient_ids = {r[0] for r in con.execute(
                    "select distinct patientnummer from raw.patienten where quarter = ?", [q]).fetchall()}
                worklists = load_worklists(con, quarter)
            result = render_quarter(data, policy, root, produced, worklists)
            rendered.append(result)
            context.log.info("reports %s rendered (%d practices, %d letters, fingerprint %s)", q,
                             len(result.practices), len(result.letters), result.fingerprint)
            # every file of the quarter outside prive/: PDFs, the workbook, the manifest
            texts = {f"{q}/{name}": text for name, text in shared_texts(result.folder).items()}
            checked += len(texts)
            ids_checked += len(patient_ids)
            leaks.update(patient_ids_in(texts, patient_ids))

    names = ", ".join(r.quarter for r in rendered) or "none"
    context.log.info("reports rendered again: %s; unchanged: %s", names, ", ".join(unchanged) or "none")
    common = {"rendered_quarters": names, "unchanged_quarters": ", ".join(unchanged) or "none",
              "folder": MetadataValue.path(str(root))}
    # what was rendered, per quarter, with links to open the files from the UI
    per_quarter = MetadataValue.md("\n".join(
        ["| quarter | practices | letters | board report | workbook | fingerprint |", "|---|---|---|---|---|---|"]
        + [f"| {r.quarter} | {len(r.practices)} | {len(r.letters)} | [PDF]({r.board.path.as_uri()}) "
           f"| [xlsx]({r.workbook.as_uri()}) | `{r.fingerprint}` |" for r in rendered]) if rendered
        else "_nothing rendered in this run: every quarter's inputs were unchanged_")
    yield MaterializeResult(asset_key=PRACTICE.key, metadata={
        **common, "files": sum(len(r.practices) for r in rendered), "per_quarter": per_quarter,
        "private_worklist_files": sum(len(r.private) for r in rendered),
        "pages": sum(p.pages for r in rendered for p in r.practices),
        **{f"folder_{r.quarter}": MetadataValue.url((r.folder / "praktijken").as_uri()) for r in rendered}})
    yield MaterializeResult(asset_key=BOARD.key, metadata={
        **common, "files": len(rendered), "pages": sum(r.board.pages for r in rendered), "per_quarter": per_quarter,
        **{f"board_report_{r.quarter}": MetadataValue.url(r.board.path.as_uri()) for r in rendered}})
    yield MaterializeResult(asset_key=LETTERS.key, metadata={
        **common, "files": sum(len(r.letters) for r in rendered),
        "letters": MetadataValue.md("\n".join(f"- `{p.path.relative_to(root)}`" for r in rendered for p in r.letters)
                                    or "_none rendered in this run_")})
    yield MaterializeResult(asset_key=WORKBOOK.key, metadata={
        **common, "rows": sum(r.totals["rows"] for r in rendered), "per_quarter": per_quarter,
        **{f"workbook_{r.quarter}": MetadataValue.url(r.workbook.as_uri()) for r in rendered},
        **{f"settlement_total_eur_{r.quarter}": float(r.totals["settlement_total"]) for r in rendered}})
    yield AssetCheckResult(asset_key=PRACTICE.key, check_name=NO_PATIENT_DATA, passed=not leaks,
                           metadata={"documents_checked": checked, "documents_with_patient_ids": len(leaks),
                                     "ids_checked": ids_checked})
