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
from cohaesie_pipeline.policy.config import load_policy

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


def _requests(result) -> list[tuple[str, str | None]]:
    return [(r.job_name, r.partition_key) for r in result.run_requests]


def test_sensor_requests_each_change_once_and_says_why_it_skips(env_root, monkeypatch, tmp_path):
    generate(env_root, practices=2, first="2024Q2", last="2024Q3", seed=1)
    incomplete = env_root / "inbox" / "2024Q4"
    incomplete.mkdir()
    shutil.copy(env_root / "inbox" / "2024Q3" / "patienten.csv", incomplete / "patienten.csv")
    (env_root / "inbox" / "2024-Q4").mkdir()
    with DagsterInstance.ephemeral() as instance:
        first = inbox_sensor(build_sensor_context(instance=instance))
        # two new deliveries: a load run each (first in the queue), then one update run
        assert _requests(first) == [("load_delivery", "2024Q2"), ("load_delivery", "2024Q3"), ("update_pipeline", None)]
        assert [r.tags["dagster/priority"] for r in first.run_requests] == ["1", "1", "0"]
        assert first.dynamic_partitions_requests[0].partition_keys == ["2024Q2", "2024Q3"]
        # nothing changed: skipped, with the reason and what is not a delivery (yet)
        again = inbox_sensor(build_sensor_context(instance=instance, cursor=first.cursor))
        assert not again.run_requests
        assert "no change since the last request" in again.skip_reason.skip_message
        assert "2024Q4: waiting for meetwaarden, declaraties" in again.skip_reason.skip_message
        assert "inbox folder '2024-Q4' NOT LOADED: rename it to 2024Q4" in again.skip_reason.skip_message
        # a re-delivery of one quarter: one run that loads it and updates everything
        path = env_root / "inbox" / "2024Q3" / "patienten.csv"
        original = path.read_bytes()
        path.write_bytes(original.replace(b"\r\n", b"\n"))
        changed = inbox_sensor(build_sensor_context(instance=instance, cursor=again.cursor))
        assert _requests(changed) == [("quarterly_pipeline", "2024Q3")]
        # and back to the version before (after a failed run, say): asked for again, under a new run key
        path.write_bytes(original)
        back = inbox_sensor(build_sensor_context(instance=instance, cursor=changed.cursor))
        assert _requests(back) == [("quarterly_pipeline", "2024Q3")]
        assert back.run_requests[0].run_key != first.run_requests[1].run_key
        # a register edit and a policy change each ask for one update run
        reg = env_root / "registers" / "praktijkbezoeken.csv"
        reg.write_bytes(reg.read_bytes() + b"\n")
        edited = inbox_sensor(build_sensor_context(instance=instance, cursor=back.cursor))
        assert _requests(edited) == [("update_pipeline", None)]
        policy = tmp_path / "policy.yaml"
        policy.write_text(Path(load_policy().source).read_text().replace('version: "', 'version: "test-'))
        monkeypatch.setenv("COHAESIE_POLICY", str(policy))
        new_policy = inbox_sensor(build_sensor_context(instance=instance, cursor=edited.cursor))
        assert _requests(new_policy) == [("update_pipeline", None)]
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
    assert "load 2024Q4: done" in res.stdout and "quarter_reports" in res.stdout
    assert "reports rendered again: 2024Q4" in res.stdout
    # no option: what changed since (the 2024Q3 delivery was never loaded)
    res = subprocess.run([CLI, "run"], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2024Q3: new delivery" in res.stdout and "load 2024Q4" not in res.stdout
    res = subprocess.run([CLI, "run"], capture_output=True, text=True, env=env)
    assert res.returncode == 0 and "inputs unchanged since the last run" in res.stdout
    assert "reports rendered again: none" in res.stdout
    res = subprocess.run([CLI, "run", "--all"], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.index("load 2024Q3: done") < res.stdout.index("load 2024Q4: done")
    logs = list((env_root / "logs").glob("run-*.log"))
    assert len(logs) == 4  # every run keeps its own log
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
