"""Definitions, the quarterly schedule and the inbox sensor, and the CLI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster import DagsterInstance, SkipReason, build_schedule_context, build_sensor_context

from cohaesie_pipeline.automation import inbox_sensor, quarter_for_run, quarterly_cron, quarterly_schedule
from cohaesie_pipeline.cli import build_parser
from cohaesie_pipeline.demo.generator import generate

AMS = ZoneInfo("Europe/Amsterdam")
CLI = str(Path(sys.executable).parent / "cohaesie")


def test_definitions_load_with_layers_schedule_and_sensor():
    from cohaesie_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"ingestion", "staging", "intermediate", "marts", "reference", "policy", "reports"} <= groups
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw/patienten", "marts/practice_indicators", "marts/settlements", "reports/practice_reports"} <= keys
    for k in graph.get_all_asset_keys():
        node = graph.get(k)
        if not node.is_external:
            assert node.description, k
            assert node.owners, k
    assert defs.resolve_schedule_def("quarterly_schedule").execution_timezone == "Europe/Amsterdam"
    assert defs.resolve_sensor_def("inbox_sensor") is not None
    checks = {c.name for c in graph.asset_check_keys}
    assert {"passes_data_contract", "no_patient_data_in_reports"} <= checks


@pytest.mark.parametrize("when,quarter", [
    (datetime(2024, 2, 1, 6, 0, tzinfo=AMS), "2024Q1"),
    (datetime(2024, 5, 1, 6, 0, tzinfo=AMS), "2024Q2"),
    (datetime(2024, 8, 1, 6, 0, tzinfo=AMS), "2024Q3"),
    (datetime(2024, 11, 1, 6, 0, tzinfo=AMS), "2024Q4"),
    (datetime(2025, 2, 1, 6, 0, tzinfo=AMS), "2025Q1"),  # over the year end
    (datetime(2024, 12, 31, 23, 59, tzinfo=AMS), "2024Q4"),
])
def test_schedule_targets_the_quarter_that_just_started(when, quarter):
    assert str(quarter_for_run(when)) == quarter


def test_schedule_cron_is_configurable(monkeypatch):
    assert quarterly_cron() == "0 6 1 2,5,8,11 *"
    monkeypatch.setenv("COHAESIE_SCHEDULE_DAY", "15")
    assert quarterly_cron() == "0 6 15 2,5,8,11 *"
    monkeypatch.setenv("COHAESIE_SCHEDULE_DAY", "31")
    with pytest.raises(ValueError):
        quarterly_cron()


def test_schedule_requests_the_quarter_or_skips_an_incomplete_delivery(env_root):
    generate(env_root, practices=2, first="2024Q3", last="2024Q3", seed=1)
    with DagsterInstance.local_temp() as instance:  # schedules need an instance with a reference
        ctx = build_schedule_context(instance=instance, scheduled_execution_time=datetime(2024, 8, 1, 6, tzinfo=AMS))
        req = quarterly_schedule(ctx)
        assert req.partition_key == "2024Q3"
        assert "2024Q3" in instance.get_dynamic_partitions("quarter")
        ctx = build_schedule_context(instance=instance, scheduled_execution_time=datetime(2024, 11, 1, 6, tzinfo=AMS))
        skip = quarterly_schedule(ctx)
        assert isinstance(skip, SkipReason) and "2024Q4 is incomplete" in skip.skip_message


def test_sensor_one_run_per_new_delivery_none_for_unchanged_skip_for_incomplete(env_root):
    generate(env_root, practices=2, first="2024Q2", last="2024Q3", seed=1)
    incomplete = env_root / "inbox" / "2024Q4"
    incomplete.mkdir()
    shutil.copy(env_root / "inbox" / "2024Q3" / "patienten.csv", incomplete / "patienten.csv")
    with DagsterInstance.ephemeral() as instance:
        ctx = build_sensor_context(instance=instance)
        result = inbox_sensor(ctx)
        keys = {r.partition_key: r.run_key for r in result.run_requests}
        assert set(keys) == {"2024Q2", "2024Q3"}
        assert result.dynamic_partitions_requests[0].partition_keys == ["2024Q2", "2024Q3"]
        # same files: the same run keys, so Dagster will not run them again
        again = inbox_sensor(build_sensor_context(instance=instance, cursor=ctx.cursor))
        assert {r.partition_key: r.run_key for r in again.run_requests} == keys
        # a corrected re-delivery gets a new run key for that quarter only
        with open(env_root / "inbox" / "2024Q3" / "declaraties.csv", "a", encoding="utf-8") as fh:
            fh.write("")
        path = env_root / "inbox" / "2024Q3" / "patienten.csv"
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
        changed = inbox_sensor(build_sensor_context(instance=instance, cursor=ctx.cursor))
        new = {r.partition_key: r.run_key for r in changed.run_requests}
        assert new["2024Q2"] == keys["2024Q2"] and new["2024Q3"] != keys["2024Q3"]
    # only incomplete deliveries: a skip that says what is missing
    for q in ("2024Q2", "2024Q3"):
        shutil.rmtree(env_root / "inbox" / q)
    with DagsterInstance.ephemeral() as instance:
        skip = inbox_sensor(build_sensor_context(instance=instance))
        assert isinstance(skip, SkipReason)
        assert "2024Q4: waiting for meetwaarden, declaraties" in skip.skip_message


def test_cli_help_is_useful():
    parser = build_parser()
    text = parser.format_help()
    assert "demo-data" in text and "run" in text and "COHAESIE_DATA_DIR" in text
    res = subprocess.run([CLI, "run", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--quarter" in res.stdout and "--all" in res.stdout


def test_cli_rejects_a_bad_quarter_and_an_empty_inbox(env_root):
    res = subprocess.run([CLI, "run", "--quarter", "2024Q5"], capture_output=True, text=True, env=os.environ.copy())
    assert res.returncode == 2 and "expected YYYYQn" in res.stderr
    res = subprocess.run([CLI, "run", "--all"], capture_output=True, text=True, env=os.environ.copy())
    assert res.returncode == 2 and "no quarter folders" in res.stderr


def test_cli_run_quarter_and_all_on_a_small_root(env_root):
    env = os.environ.copy()
    res = subprocess.run([CLI, "demo-data", "--practices", "3", "--from", "2024Q3", "--to", "2024Q4", "--seed", "5"],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([CLI, "run", "--quarter", "2024Q4"], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[1/1] 2024Q4: done" in res.stdout and "quarter_reports" in res.stdout
    res = subprocess.run([CLI, "run", "--all"], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.index("2024Q3: done") < res.stdout.index("2024Q4: done")
    reports = Path(env["COHAESIE_REPORTS_DIR"])
    assert (reports / "2024Q3" / "bestuursrapportage.pdf").exists()
    assert len(list((reports / "2024Q4" / "praktijken").glob("*.pdf"))) == 3
    # a broken delivery: non-zero exit and the file, line and column in the message
    decl = env_root / "inbox" / "2024Q4" / "declaraties.csv"
    lines = decl.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].rsplit(";", 1)[0] + ";12,3x"
    decl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = subprocess.run([CLI, "run", "--quarter", "2024Q4"], capture_output=True, text=True, env=env)
    assert res.returncode == 1
    assert "declaraties.csv line 4, column bedrag: '12,3x' is not an amount" in res.stderr
    with duckdb.connect(str(env_root / "warehouse" / "cohaesie.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.declaraties where quarter = '2024Q4'").fetchone()[0] > 0
