"""Transformation layer: the dbt project (staging -> intermediate -> marts) over every loaded quarter in one
dbt invocation per run: the quarter is a column, so dbt's start-up and parse are paid once and no quarter's
marts depend on which quarter ran last. The policy config's values are passed as dbt vars; dbt tests
surface as asset checks."""

import json
import os
import shutil
from collections.abc import Mapping
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetSpec, Output, TableColumn, TableSchema
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging.version import Version

from cohaesie_pipeline.dbt_env import DBT_EXECUTABLE, environment_for_build, parse_project
from cohaesie_pipeline.dbt_in_process import invocations_in_process
from cohaesie_pipeline.paths import DBT_PROJECT_DIR
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.resources import Warehouse

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> None:
    """The manifest is built by `make setup`; build it here too so a fresh checkout still loads."""
    if not dbt_project.manifest_path.exists():
        parse_project()


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
    # unit tests check the models' logic on fixed fixtures, not the data: `make test` runs them
    # (tests/test_dbt_unit_tests.py); every production build would pay ~3 s for them and learn nothing new
    # --no-write-json: manifest.json and run_results.json are read by nothing here (the events carry the results,
    # dbt.log the details) and writing them cost ~0.6 s per build; the saved parse is written regardless
    args = ["build", "--exclude-resource-type", "unit_test", "--no-write-json", "--vars", json.dumps(dbt_vars())]
    with warehouse.lock(context):
        # held back until dbt is done: the column types and row counts are read from the warehouse, which the
        # dbt process holds open for writing while it runs (DuckDB: one writer, and no reader beside it)
        path = warehouse.resolved_path()
        with environment_for_build(path):
            invocation = dbt.cli(args, context=context, target_path=target_path_of(path))
        events = list(invocation.stream())
        with warehouse.connect(read_only=True) as con:
            tables = table_metadata(con)
    for event in events:
        if isinstance(event, Output):
            key = context.asset_key_for_output(event.output_name)
            event = event.with_metadata({**event.metadata, **tables.get(tuple(key.path[-2:]), {})})
        yield event
    prune_run_targets(dbt_project.project_dir / "target")


def target_path_of(warehouse: Path) -> Path:
    """dbt's target folder for builds of this warehouse, kept from run to run: dbt re-parses only the files
    that changed when its saved parse state (partial_parse.msgpack) matches the profile, and the profile
    names the warehouse file. One folder per run (dagster-dbt's default) or one shared by every warehouse
    (tests, `cohaesie policy-diff`'s copy) meant a full parse on every build. Builds of one warehouse never
    overlap: they hold its lock."""
    return warehouse.with_name(warehouse.stem + "-dbt-target")


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


KEEP_RUN_TARGETS = 0


def prune_run_targets(target: Path, keep: int = KEEP_RUN_TARGETS) -> None:
    """Per-run target folders (~4 MB each) that dagster-dbt made before the builds got one folder per
    warehouse (target_path_of): removed, newest `keep` kept."""
    runs = sorted(target.glob("dbt_models-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)


class DbtCli(DbtCliResource):
    """dagster-dbt's resource running dbt in this process (dbt_in_process.py, ~2 s per build), and without two
    things it does before every invocation that this pipeline does not use, 3.4 s of a 200-practice build:
    running `dbt --version` in a subprocess (the dbt started here is always the dbt-core installed beside this
    package, cohaesie-dbt included), and opening a dbt adapter in-process, which dagster-dbt needs only for
    `fetch_column_metadata`/`fetch_row_counts` (table_metadata reads the warehouse once instead).
    tests/test_resources.py fails when dagster-dbt renames these."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None

    def cli(self, args, **kwargs):
        """dbt in this process (dbt_in_process.py): the step has imported dbt already."""
        with invocations_in_process():
            return super().cli(args, **kwargs)


def dbt_resource() -> DbtCliResource:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return DbtCli(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE)
