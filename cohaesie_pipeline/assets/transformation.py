"""Transformation layer: the dbt project (staging -> intermediate -> marts) over every loaded quarter in one
dbt invocation per run: the quarter is a column, so dbt's start-up and parse are paid once and no quarter's
marts depend on which quarter ran last. The policy config's values are passed as dbt vars; dbt tests
surface as asset checks."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetSpec, Output, TableColumn, TableSchema
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from cohaesie_pipeline.paths import DBT_PROJECT_DIR, warehouse_path
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.resources import Warehouse

# dbt next to this interpreter (the venv need not be activated for `cohaesie` or the UI), started through
# `cohaesie-dbt` so that it dies with the run that started it (dbt_child.py)
_BIN = Path(sys.executable).parent
DBT_EXECUTABLE = str(_BIN / "cohaesie-dbt") if (_BIN / "cohaesie-dbt").exists() else str(_BIN / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_env() -> dict[str, str]:
    return {**os.environ, "COHAESIE_WAREHOUSE_PATH": str(warehouse_path()), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def ensure_manifest() -> None:
    """The manifest is built by `make setup`; build it here too so a fresh checkout still loads."""
    if not dbt_project.manifest_path.exists():
        subprocess.run([DBT_EXECUTABLE, "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                        "--quiet"], check=True, env=dbt_env(), cwd=DBT_PROJECT_DIR)


ensure_manifest()

_LAYER_OWNERS = {"staging": "team:data-engineering", "intermediate": "team:data-engineering",
                 "marts": "team:kwaliteit", "reference": "team:kwaliteit"}


class LayeredTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer (staging, intermediate, marts, reference) and keys marts as marts/<name>."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id) or {}
        if node.get("resource_type") == "source":
            return spec
        layer = "reference" if node.get("resource_type") == "seed" else (node.get("fqn") or ["", "marts"])[1]
        return spec.replace_attributes(group_name=layer, owners=[_LAYER_OWNERS.get(layer, "team:data-engineering")])

    def get_asset_key(self, dbt_resource_props):
        key = super().get_asset_key(dbt_resource_props)
        if dbt_resource_props.get("resource_type") == "model":
            schema = dbt_resource_props.get("config", {}).get("schema") or "main"
            return key.with_prefix(schema) if len(key.path) == 1 else key
        if dbt_resource_props.get("resource_type") == "seed":
            return key.with_prefix("reference") if len(key.path) == 1 else key
        return key


def dbt_vars() -> dict:
    return load_policy().dbt_vars()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=LayeredTranslator(),
            name="dbt_models")
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Builds seeds, staging views, patient-level intermediate views and the marts of every loaded quarter,
    then runs the dbt tests (shown as asset checks). Marts are rebuilt whole: they are the current truth."""
    os.environ["COHAESIE_WAREHOUSE_PATH"] = str(warehouse.resolved_path())
    # unit tests check the models' logic on fixed fixtures, not the data: `make test` runs them
    # (tests/test_dbt_unit_tests.py); every production build would pay ~3 s for them and learn nothing new
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars())]
    with warehouse.lock(context):
        # held back until dbt is done: the column types and row counts are read from the warehouse, which the
        # dbt process holds open for writing while it runs (DuckDB: one writer, and no reader beside it)
        events = list(dbt.cli(args, context=context).stream())
        with warehouse.connect(read_only=True) as con:
            tables = table_metadata(con)
    for event in events:
        if isinstance(event, Output):
            key = context.asset_key_for_output(event.output_name)
            event = event.with_metadata({**event.metadata, **tables.get(tuple(key.path[-2:]), {})})
        yield event
    prune_run_targets(dbt_project.project_dir / "target")


def table_metadata(con) -> dict[tuple[str, str], dict]:
    """Per (schema, table): the column names and types, and for tables the row count. Views get no count: a
    count of an intermediate view recomputes the patient-level joins."""
    cols = con.execute("""select table_schema, table_name, column_name, data_type from information_schema.columns
                          where table_schema in ('staging', 'intermediate', 'marts', 'reference')
                          order by table_schema, table_name, ordinal_position""").fetchall()
    kinds = dict(((r[0], r[1]), r[2]) for r in con.execute(
        """select table_schema, table_name, table_type from information_schema.tables
           where table_schema in ('staging', 'intermediate', 'marts', 'reference')""").fetchall())
    by_table: dict[tuple[str, str], list[TableColumn]] = {}
    for schema, table, column, dtype in cols:
        by_table.setdefault((schema, table), []).append(TableColumn(column, dtype))
    out = {}
    for key, columns in by_table.items():
        meta = {"dagster/column_schema": TableSchema(columns=columns)}
        if kinds.get(key) == "BASE TABLE":
            meta["dagster/row_count"] = con.execute(f'select count(*) from "{key[0]}"."{key[1]}"').fetchone()[0]
        out[key] = meta
    return out


KEEP_RUN_TARGETS = 5


def prune_run_targets(target: Path, keep: int = KEEP_RUN_TARGETS) -> None:
    """dagster-dbt gives every invocation its own target folder (~4 MB: manifest, run results, compiled SQL)
    and never removes one: keep the newest few for debugging."""
    runs = sorted(target.glob("dbt_models-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def dbt_resource() -> DbtCliResource:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE)
