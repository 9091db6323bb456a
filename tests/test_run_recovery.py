"""Runs that recover: a run killed with SIGKILL while loading, in dbt or while rendering never blocks the
runs after it, leaves no process behind and no half report; a waiting run says what it waits on and stops on
SIGTERM. Real processes (the `cohaesie` CLI), a real Dagster instance on disk, real signals."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance, DagsterRunStatus, build_sensor_context
from dagster._core.test_utils import create_run_for_test
from pypdf import PdfReader

from cohaesie_pipeline.automation import dead_run_recovery
from cohaesie_pipeline.run_recovery import HOST_TAG, PID_TAG, START_TAG, process_tags, recover_dead_runs
from cohaesie_pipeline.warehouse_lock import warehouse_lock
from tests.conftest import pipeline_root

CLI = str(Path(sys.executable).parent / "cohaesie")
MARTS = ["practice_indicators", "practice_coverage", "practice_classification", "policy_trajectories",
         "settlements", "settlements_as_of", "settlement_quarter_detail"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return pipeline_root(tmp_path_factory.getbasetemp(), "recover3", practices=3, first="2024Q2", last="2024Q4")


@pytest.fixture
def root(built, tmp_path) -> Path:
    copy = tmp_path / "root"
    shutil.copytree(built, copy, copy_function=shutil.copy2)
    return copy


def _env(root: Path) -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {**os.environ, "COHAESIE_DATA_DIR": str(root / "data"), "COHAESIE_REPORTS_DIR": str(root / "reports"),
            "DAGSTER_HOME": str(home)}


def _marts(root: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(root / "data" / "warehouse" / "cohaesie.duckdb"), read_only=True) as con:
        out = {}
        for t in MARTS:
            df = con.execute(f"select * exclude (policy_version) from marts.{t}").df()
            out[t] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def _descendants(pid: int) -> list[int]:
    """Processes whose parent chain reaches pid (from /proc)."""
    parents = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
                parents[int(p.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
    out, frontier = [], [pid]
    while frontier:
        nxt = [c for c, par in parents.items() if par in frontier]
        out += nxt
        frontier = nxt
    return out


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(p)
    return alive


def _kill_when(env: dict, args: list[str], markers: tuple[str, ...], delay: float) -> tuple[str, list[int]]:
    """Start the CLI, SIGKILL it `delay` seconds after the `markers` have appeared in its output, in that
    order; return the output and the child processes it had at that moment."""
    proc = subprocess.Popen([CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen, lines = threading.Event(), []

    def read():
        waiting = list(markers)
        for line in proc.stdout:
            lines.append(line)
            if waiting and waiting[0] in line:
                waiting.pop(0)
                if not waiting:
                    seen.set()

    threading.Thread(target=read, daemon=True).start()
    assert seen.wait(300), "".join(lines)
    time.sleep(delay)
    children = _descendants(proc.pid)
    proc.kill()
    proc.wait(30)
    return "".join(lines), children


def _assert_complete_reports(root: Path) -> None:
    quarters = sorted(p.name for p in (root / "reports").iterdir())
    assert quarters == ["2024Q2", "2024Q3", "2024Q4"], quarters  # no temporary folder left
    for q in quarters:
        folder = root / "reports" / q
        assert (folder / ".rendered.json").exists()
        pdfs = [folder / "bestuursrapportage.pdf", *sorted((folder / "praktijken").glob("*.pdf"))]
        assert len(pdfs) == 4
        for pdf in pdfs:
            assert len(PdfReader(str(pdf)).pages) >= 1
        assert (folder / "verrekeningen.xlsx").stat().st_size > 0


# the kill must land while a Dagster run is started: "load 2024Q3" alone is printed before the run exists,
# so a slow machine could kill between runs, and then there is nothing to recover
@pytest.mark.parametrize("stage,markers,delay,args", [
    ("ingestion", ("load 2024Q3: validating", "quarterly_delivery       started"), 0.1, ["run", "--all"]),
    ("dbt", ("dbt_models               started",), 4.0, ["run", "--all"]),
    ("rendering", ("quarter_reports          started",), 3.0, ["run", "--all"]),
])
def test_a_killed_run_is_followed_by_a_run_that_succeeds_with_the_same_marts_and_complete_reports(
        root, stage, markers, delay, args):
    env = _env(root)
    before = _marts(root)
    if stage == "rendering":  # make every quarter render again, so the kill lands inside rendering
        for manifest in (root / "reports").glob("*/.rendered.json"):
            manifest.unlink()
    output, children = _kill_when(env, args, markers, delay)
    # a child notices its parent's death by itself (PR_SET_PDEATHSIG, or Dagster's compute-log poller, which
    # checks its parent every so often): give it a few seconds on a loaded machine, never forever
    deadline = time.monotonic() + 15
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = _alive(children)
    assert left == [], (f"processes left behind by the killed run ({stage}): "
                        f"{[Path(f'/proc/{p}/cmdline').read_text().replace(chr(0), ' ') for p in left]}\n{output}")
    res = subprocess.run([CLI, "run", "--all"], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "recovered run" in res.stdout  # the killed run was marked failed, not left "started"
    after = _marts(root)
    for t in MARTS:
        pd.testing.assert_frame_equal(before[t], after[t], check_dtype=False, obj=t)
    _assert_complete_reports(root)
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        statuses = [r.status for r in instance.get_runs()]
    assert DagsterRunStatus.STARTED not in statuses and DagsterRunStatus.FAILURE in statuses


def test_a_waiting_run_says_what_it_waits_on_and_stops_on_sigterm(root):
    env = _env(root)
    warehouse = root / "data" / "warehouse" / "cohaesie.duckdb"
    with warehouse_lock(warehouse, what="a test holding the warehouse"):
        proc = subprocess.Popen([CLI, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = ""
        deadline = time.time() + 60
        while "waiting for the warehouse" not in line and time.time() < deadline:
            line = proc.stdout.readline()
        assert "held by pid" in line and "a test holding the warehouse" in line, line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 130
        assert "stopped" in proc.stderr.read()


def test_recovery_fails_started_runs_whose_process_is_gone_and_leaves_live_ones(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    with DagsterInstance.ephemeral() as instance:
        dead = create_run_for_test(instance, job_name="update_pipeline", status=DagsterRunStatus.STARTED,
                                   tags={PID_TAG: str(gone.pid), HOST_TAG: process_tags()[HOST_TAG], START_TAG: "1"})
        live = create_run_for_test(instance, job_name="update_pipeline", status=DagsterRunStatus.STARTED,
                                   tags=process_tags())
        untagged = create_run_for_test(instance, job_name="update_pipeline", status=DagsterRunStatus.STARTED)
        # the sensor that is on by default does it for runs launched from the UI or a schedule
        tick = dead_run_recovery(build_sensor_context(instance=instance))
        assert dead.run_id[:8] in tick.skip_message
        assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
        assert recover_dead_runs(instance) == []
        assert instance.get_run_by_id(live.run_id).status == DagsterRunStatus.STARTED
        assert instance.get_run_by_id(untagged.run_id).status == DagsterRunStatus.STARTED


def test_a_full_disk_while_rendering_leaves_the_previous_reports_complete(root, monkeypatch):
    """Rendering writes into a temporary folder; an error (here: no space left) never touches the quarter."""
    import errno

    from cohaesie_pipeline.definitions import defs
    from cohaesie_pipeline.reports import render

    monkeypatch.setenv("COHAESIE_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("COHAESIE_REPORTS_DIR", str(root / "reports"))
    folder = root / "reports" / "2024Q3"
    before = {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}

    def disk_full(data, policy, out):
        (out / "verrekeningen.xlsx").write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(render, "render_workbook", disk_full)
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("update_pipeline").execute_in_process(
            instance=instance, raise_on_error=False,
            run_config={"ops": {"quarter_reports": {"config": {"quarters": ["2024Q3"]}}}})
    assert not result.success
    after = {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in (root / "reports").iterdir()) == ["2024Q2", "2024Q3", "2024Q4"]
