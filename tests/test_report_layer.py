"""Issue 13 item 1: the report code reads the marts only (the report layer, dbt_project/models/marts/report_*),
and the disclosure rule lives in the warehouse (dbt_project/macros/disclosure.sql), not in Python."""
from __future__ import annotations

import re
from pathlib import Path

import cohaesie_pipeline
from cohaesie_pipeline.paths import DBT_PROJECT_DIR
from cohaesie_pipeline.reports import render

REPORTS = Path(render.__file__).parent


def test_no_report_code_reads_staging_raw_intermediate_or_reference():
    sources = {p.name: p.read_text() for p in REPORTS.glob("*.py")}
    sources.update({p.name: p.read_text() for p in (REPORTS / "templates").glob("*.j2")})
    schemas = re.compile(r"\b(staging|raw|intermediate|reference)\.[a-z_]+\b")
    assert {name: schemas.findall(text) for name, text in sources.items() if schemas.search(text)} == {}
    assert "from marts.report_practices" in sources["data.py"] and "marts.report_worklist_missing" in sources["worklists.py"]
    # the board's tables arrive suppressed: no report code decides what may be shown across practices
    package = Path(cohaesie_pipeline.__file__).parent
    python = {p: p.read_text() for p in package.rglob("*.py")}
    assert [p for p, text in python.items() if re.search(r"suppress_below\s*[-<>]|< ?sup\b|def (rate_shown|parts_of_a_total)", text)] == []
    assert not (package / "disclosure.py").exists()
    macros = (DBT_PROJECT_DIR / "macros" / "disclosure.sql").read_text()
    board_marts = sorted((DBT_PROJECT_DIR / "models" / "marts").glob("report_board_*.sql"))
    assert len(board_marts) == 4 and all("shown_" in p.read_text() for p in board_marts)
    assert "macro parts_hidden" in macros and "macro rate_is_shown" in macros
    assert "marts.report_board_coverage" in sources["data.py"] and "data.coverage" not in sources["board_report.py"]


def test_the_report_layer_holds_what_the_reports_read(demo_db):
    """The report views give the rows the staging models hold (nothing renamed or lost on the way)."""
    for view, source in [("report_practices", "staging.stg_practices"),
                         ("report_practice_holders", "staging.stg_practice_holders"),
                         ("report_practice_visits", "staging.stg_practice_visits")]:
        schema, table = source.split(".")
        cols = ", ".join(r[0] for r in demo_db.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position", [schema, table]).fetchall())
        diff = demo_db.execute(f"select count(*) from ((select {cols} from marts.{view} except all select {cols} "
                               f"from {source}) union all (select {cols} from {source} except all "
                               f"select {cols} from marts.{view}))").fetchone()[0]
        assert diff == 0, view
    # the register's names as the board prints them: a shared name carries the town
    labels = dict(demo_db.execute("select practice_agb, display_name from marts.report_practices").fetchall())
    assert len(set(labels.values())) == len(labels)
    # (two names alike: the dbt unit test practices_sharing_a_name_are_told_apart_by_town)
    # the private worklist: assessed patients without care, exactly the coverage mart's count per practice
    mismatch = demo_db.execute("""
        select c.quarter, c.practice_agb, c.program from marts.practice_coverage c
        left join (select quarter, practice_agb, program, count(*) as n from marts.report_worklist_without_care
                   group by all) w using (quarter, practice_agb, program)
        where c.assessed_patients - c.patients_with_care <> coalesce(w.n, 0)""").fetchall()
    assert mismatch == []


def test_the_reports_and_policy_marts_depend_on_what_they_read():
    """Lineage in the UI and staleness follow the reads: every relation the reports and the policy marts read is
    an asset of the graph they depend on (a key that named nothing would silently become an external asset)."""
    from cohaesie_pipeline.assets.decisions import UPSTREAM
    from cohaesie_pipeline.assets.reporting import DEPS, REPORT_LAYER
    from cohaesie_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    for key in [*DEPS, *UPSTREAM]:
        assert key in keys and graph.get(key).is_materializable, key
    read = set(re.findall(r"marts\.(report_[a-z_]+)", (REPORTS / "data.py").read_text() + (REPORTS / "worklists.py").read_text()))
    assert read <= set(REPORT_LAYER), read - set(REPORT_LAYER)
    assert any(k.path == ["marts", "practice_coverage_by_insurer"] for k in UPSTREAM)
