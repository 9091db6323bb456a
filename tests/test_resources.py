"""The warehouse connection: DuckDB's memory is bounded by configuration, not by 80% of the machine."""
import yaml

from cohaesie_pipeline.paths import DBT_PROJECT_DIR, DEFAULT_DUCKDB_MEMORY_LIMIT
from cohaesie_pipeline.resources import Warehouse


def test_memory_limit_default_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("COHAESIE_DUCKDB_MEMORY_LIMIT", raising=False)
    with Warehouse(path=str(tmp_path / "a.duckdb")).connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"  # 1GB
    monkeypatch.setenv("COHAESIE_DUCKDB_MEMORY_LIMIT", "4GB")
    with Warehouse(path=str(tmp_path / "b.duckdb")).connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "3.7 GiB"


def test_dbt_profile_uses_the_same_limit():
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    setting = profile["cohaesie"]["outputs"]["warehouse"]["settings"]["memory_limit"]
    assert "COHAESIE_DUCKDB_MEMORY_LIMIT" in setting and f"'{DEFAULT_DUCKDB_MEMORY_LIMIT}'" in setting


def test_dbt_run_target_folders_are_pruned_to_the_newest_few(tmp_path):
    import os

    from cohaesie_pipeline.assets.transformation import prune_run_targets

    for i in range(8):
        folder = tmp_path / f"dbt_models-{i:07d}-abc"
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
        os.utime(folder, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "manifest.json").write_text("{}")  # the project's own manifest stays
    prune_run_targets(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.glob("dbt_models-*")) == [f"dbt_models-{i:07d}-abc" for i in (5, 6, 7)]
    assert (tmp_path / "manifest.json").exists()


def test_dagster_dbt_still_has_the_two_hooks_the_pipeline_skips():
    """transformation.DbtCli overrides them (3.4 s per build): a dagster-dbt that renames them would make the
    override dead code, silently."""
    from dagster_dbt import DbtCliResource

    from cohaesie_pipeline.assets.transformation import DbtCli, dbt_resource

    assert "_cli_version" in vars(DbtCliResource) and callable(DbtCliResource._initialize_dbt_core_adapter)
    resource = dbt_resource()
    assert isinstance(resource, DbtCli)
    from importlib.metadata import version
    assert str(resource._cli_version) == version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_builds_reuse_dbts_parse_from_the_first_build_of_a_warehouse(demo_root):
    """dbt_env.py: `make setup` parses as builds see the project, so no build of the demo root (one per
    `cohaesie run`) parsed the project in full; each build's dbt log is in the warehouse's target folder."""
    log = (demo_root / "data" / "warehouse" / "cohaesie-dbt-target" / "dbt.log").read_text()
    assert "Partial parsing enabled" in log or "skipping parsing" in log
    assert "Unable to do partial parsing" not in log, [
        line[:300] for line in log.splitlines() if "Unable to do partial parsing" in line]


def test_dagster_dbt_still_starts_dbt_through_the_class_the_pipeline_swaps():
    """dbt_in_process.invocations_in_process replaces the DbtCliInvocation that DbtCliResource.cli names in its
    module: a dagster-dbt that moved or re-signed it would silently start dbt as a child again."""
    import inspect

    from dagster_dbt.core import resource as dagster_dbt_resource
    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

    from cohaesie_pipeline.dbt_in_process import InProcessInvocation, invocations_in_process

    assert dagster_dbt_resource.DbtCliInvocation is DbtCliInvocation
    assert "DbtCliInvocation.run(" in inspect.getsource(dagster_dbt_resource.DbtCliResource.cli)
    assert list(inspect.signature(DbtCliInvocation.run).parameters) == list(
        inspect.signature(InProcessInvocation.run).parameters)
    with invocations_in_process():
        assert dagster_dbt_resource.DbtCliInvocation is InProcessInvocation
    assert dagster_dbt_resource.DbtCliInvocation is DbtCliInvocation


def test_dbt_in_this_process_reports_like_a_child_and_leaves_the_process_as_it_was(demo_root, tmp_path):
    """A build in the test's own process: its results arrive as dagster-dbt's events, an error as dagster-dbt's
    error with dbt's message; afterwards the folder, the environment and the warehouse are as before (dbt-duckdb's
    connection closed, so the file opens again for writing)."""
    import json
    import os
    import shutil
    import sys
    from unittest import mock

    import duckdb
    import pytest
    from dagster_dbt.errors import DagsterDbtCliRuntimeError
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    from cohaesie_pipeline.assets.transformation import dbt_project, dbt_resource, dbt_vars, target_path_of
    from cohaesie_pipeline.dbt_env import environment_for_build

    db = tmp_path / "cohaesie.duckdb"
    shutil.copy(demo_root / "data" / "warehouse" / "cohaesie.duckdb", db)
    dbt = dbt_resource()
    cwd, env = os.getcwd(), dict(os.environ)
    with environment_for_build(db):
        invocation = dbt.cli(["build", "--select", "report_practices", "--vars", json.dumps(dbt_vars())],
                             manifest=dbt_project.manifest_path, target_path=target_path_of(db))
    events = list(invocation.stream_raw_events())
    finished = [e.raw_event["data"]["node_info"]["node_name"] for e in events if e.is_result_event]
    assert "report_practices" in finished and invocation.is_successful()
    assert os.getcwd() == cwd and dict(os.environ) == env and DuckDBConnectionManager._ENV is None
    duckdb.connect(str(db)).close()
    # an error dbt raises before it logs anything still reaches dagster-dbt's message
    with environment_for_build(db), pytest.raises(DagsterDbtCliRuntimeError, match="No such option '--no-such-flag'"):
        list(dbt.cli(["build", "--no-such-flag"], manifest=dbt_project.manifest_path,
                     target_path=target_path_of(db)).stream_raw_events())
    # dbt also parses sys.argv for flags: the process's own command line must not reach it (a child's would not)
    with environment_for_build(db), mock.patch.object(sys, "argv", ["cohaesie", "--threads", "7", "-q"]):
        dbt.cli(["build", "--select", "report_practices", "--vars", json.dumps(dbt_vars())],
                manifest=dbt_project.manifest_path, target_path=target_path_of(db)).wait()
        assert sys.argv == ["cohaesie", "--threads", "7", "-q"]
    started = [json.loads(line)["info"]["msg"] for line in (target_path_of(db) / "dbt.log").read_text().splitlines()
               if "running dbt with arguments" in line][-1]
    command = started.split("'invocation_command': '")[1].split("'")[0]
    assert command.startswith("dbt build ") and "--select report_practices" in command
    assert "'quiet': 'False'" in started and "--threads" not in started
    with environment_for_build(db), pytest.raises(DagsterDbtCliRuntimeError, match="Required var"):
        # a model that needs a policy var, built without the vars
        list(dbt.cli(["build", "--select", "report_board_coverage"], manifest=dbt_project.manifest_path,
                     target_path=target_path_of(db)).stream_raw_events())
    assert os.getcwd() == cwd and dict(os.environ) == env and DuckDBConnectionManager._ENV is None
