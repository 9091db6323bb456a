"""Runs that died stay "started" in the Dagster instance forever: the default run launcher cannot check a run
worker's health, and `execute_in_process` (the CLI) has no worker to check. With one run at a time
(`max_concurrent_runs: 1`) such a run would block every later one.

Every run of this pipeline tags itself with its process (host, pid and the process's start time, so a
recycled pid is not mistaken for the run). `recover_dead_runs`, called when the CLI starts, on every sensor
tick and by every writing step, marks a started run whose process is gone as failed and frees any
concurrency slots it held.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Callable

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

PID_TAG = "cohaesie/pid"
HOST_TAG = "cohaesie/host"
START_TAG = "cohaesie/pid_start"


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22); None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            stat = fh.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its closing parenthesis
    return stat[stat.rindex(")") + 2:].split()[19]


def process_tags() -> dict[str, str]:
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), START_TAG: _process_start(pid) or ""}


def tag_run_with_process(instance: DagsterInstance, run_id: str) -> None:
    run = instance.get_run_by_id(run_id)
    if run is not None and run.tags.get(PID_TAG) != str(os.getpid()):
        instance.add_run_tags(run_id, process_tags())


def _is_dead(tags: dict[str, str]) -> bool:
    pid, host, start = tags.get(PID_TAG), tags.get(HOST_TAG), tags.get(START_TAG)
    if not pid or host != socket.gethostname():
        return False  # not ours to judge
    now = _process_start(int(pid))
    return now is None or (bool(start) and now != start)


def recover_dead_runs(instance: DagsterInstance, log: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Mark started runs whose process has died as failed; returns their run ids."""
    recovered = []
    runs = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTING, DagsterRunStatus.STARTED,
                                                          DagsterRunStatus.CANCELING]))
    for run in runs:
        if not _is_dead(run.tags):
            continue
        message = (f"the run's process (pid {run.tags[PID_TAG]}) ended without finishing the run (killed or "
                   "crashed); marked failed so that later runs can go ahead")
        instance.report_run_failed(run, message=message)
        try:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        except NotImplementedError:
            pass
        log(f"recovered run {run.run_id[:8]} ({run.job_name}): {message}")
        recovered.append(run.run_id)
    return recovered
