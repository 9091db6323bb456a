"""Bringing the warehouse and the reports up to date from a terminal (`cohaesie run`) and in the tests.

A run loads the deliveries it has to (one `load_delivery` run per quarter, each its own transaction), then
brings everything downstream up to date in one `update_pipeline` run: the registers, dbt over every loaded
quarter, the policy marts, and the reports of every quarter whose inputs changed. The CLI holds the
warehouse lock for all of it, so no other run interleaves. Each invocation keeps its own log file.
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance

from cohaesie_pipeline.assets.reporting import BOARD, LETTERS, PRACTICE, WORKBOOK
from cohaesie_pipeline.inputs import CODE_VERSION, Inputs, current_inputs, warehouse_inputs
from cohaesie_pipeline.jobs import delivery_job, update_job
from cohaesie_pipeline.partitions import register_quarters
from cohaesie_pipeline.paths import data_dir, inbox_dir, registers_dir, warehouse_path
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.run_recovery import process_tags, recover_dead_runs
from cohaesie_pipeline.warehouse_lock import warehouse_lock

REPORT_KEYS = [PRACTICE.key, BOARD.key, LETTERS.key, WORKBOOK.key]


class PipelineFailed(RuntimeError):
    pass


def _instance() -> DagsterInstance:
    """The DAGSTER_HOME instance when one is set, so CLI runs show in the UI; a throwaway one otherwise.
    A broken instance config is an error, not a reason to run somewhere nobody looks."""
    if os.environ.get("DAGSTER_HOME"):
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


def _failure_text(result) -> str:
    lines = []
    for ev in result.all_events:
        if ev.event_type == DagsterEventType.STEP_FAILURE:
            err = ev.event_specific_data.error
            desc = getattr(ev.event_specific_data, "user_failure_data", None)
            if desc is not None and desc.description:
                text = desc.description  # a Failure we raised on purpose: already in plain words
            else:
                while err is not None and err.cause is not None:  # Dagster wraps the real error
                    err = err.cause
                text = "".join(err.stack[-3:]) + err.message if err else ""
            lines.append(f"step {ev.step_key} failed:\n{text.strip()}")
    return "\n".join(lines) or "the run failed (see the Dagster logs)"


@dataclass
class RunSummary:
    loaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # quarter -> message
    updated: bool = False
    rendered: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    results: list = field(default_factory=list)
    log_path: Path | None = None


def plan(quarters: list[Quarter] | None, everything: bool) -> tuple[list[str], bool, list[str]]:
    """(quarters to load, whether the marts need rebuilding, why) for `cohaesie run`.

    quarters: reload these (--quarter); everything: reload every quarter in the inbox (--all); neither: load
    what changed since the warehouse was last brought up to date."""
    policy = load_policy().label
    disk, _ = current_inputs(inbox_dir(), registers_dir(), policy)
    loaded, state = Inputs(), None
    if warehouse_path().exists():
        import duckdb

        with duckdb.connect(str(warehouse_path()), read_only=True) as con:
            loaded, state = warehouse_inputs(con)
    why = disk.misnamed + disk.incomplete
    if quarters is not None:
        load = [str(q) for q in quarters]
        why.append(f"reloading {', '.join(load)} as asked")
    elif everything:
        load = sorted(disk.deliveries)
        why.append(f"reloading every quarter in the inbox ({len(load)})")
    else:
        load = disk.changed_quarters(loaded)
        for q in load:
            why.append(f"{q}: {'new delivery' if q not in loaded.deliveries else 'delivery changed'}")
        if disk.registers != loaded.registers:
            why.append("registers changed")
        if state is not None and loaded.policy != policy:
            why.append(f"policy changed ({loaded.policy} -> {policy})")
        if state is not None and loaded.code != CODE_VERSION:
            why.append("the pipeline's dbt models or policy rules changed (software update)")
    expected = Inputs(deliveries={**loaded.deliveries, **{q: disk.deliveries.get(q, "") for q in load}},
                      registers=disk.registers, policy=policy)
    update = bool(load) or state != expected.whole()
    if update and not load and not any(w.startswith(("registers", "policy", "the pipeline")) for w in why):
        why.append("the marts were not computed from the loaded inputs (an earlier run stopped early)")
    return load, update, why


def _execute(job_name: str, instance: DagsterInstance, log, partition_key: str | None = None,
             asset_selection=None):
    from cohaesie_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    # the run's log file gets dbt's output (stdout) and Dagster's events (the console logger, on stderr)
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        return job.execute_in_process(
            partition_key=partition_key, instance=instance, raise_on_error=False,
            tags={**process_tags(), "cohaesie/trigger": "cli"}, asset_selection=asset_selection,
            run_config={"loggers": {"progress": {}, "console": {"config": {"log_level": "INFO"}}}})


def _report_lists(result) -> tuple[list[str], list[str]]:
    for ev in result.get_asset_materialization_events():
        mat = ev.event_specific_data.materialization
        if mat.asset_key == PRACTICE.key:
            meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
            split = lambda s: [] if s in ("", "none") else s.split(", ")  # noqa: E731
            return split(meta.get("rendered_quarters", "")), split(meta.get("unchanged_quarters", ""))
    return [], []


def run_pipeline(load: list[str], update: bool = True, echo: Callable[[str], None] = print,
                 instance: DagsterInstance | None = None) -> RunSummary:
    """Load `load` (in quarter order), then rebuild everything downstream (or, with update False, only check
    the reports). Raises PipelineFailed after the update when a delivery was rejected."""
    instance = instance or _instance()
    summary = RunSummary()
    logs = data_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    summary.log_path = logs / f"run-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    with warehouse_lock(warehouse_path(), what="cohaesie run", log=echo), \
            open(summary.log_path, "a", encoding="utf-8") as log:
        for line in recover_dead_runs(instance, echo):
            log.write(line + "\n")
        quarters = sorted(Quarter.parse(q) for q in load)
        register_quarters(instance, quarters)
        for q in quarters:
            t = time.perf_counter()
            echo(f"load {q}: validating and loading the delivery ...")
            result = _execute(delivery_job.name, instance, log, partition_key=str(q))
            summary.results.append(result)
            if result.success:
                summary.loaded.append(str(q))
                echo(f"load {q}: done in {time.perf_counter() - t:.1f}s")
            else:
                summary.failed[str(q)] = _failure_text(result)
                echo(f"load {q}: REJECTED (the warehouse keeps what it had for {q})")
        t = time.perf_counter()
        if update:
            echo("update: registers, dbt over every loaded quarter, policy marts, reports ...")
            result = _execute(update_job.name, instance, log)
        else:
            echo("update: inputs unchanged; checking the reports ...")
            result = _execute(update_job.name, instance, log, asset_selection=REPORT_KEYS)
        summary.results.append(result)
        if not result.success:
            raise PipelineFailed(f"{_failure_text(result)}\n(full log: {summary.log_path})")
        summary.updated = update
        summary.rendered, summary.unchanged = _report_lists(result)
        echo(f"update: done in {time.perf_counter() - t:.1f}s; reports rendered again: "
             f"{', '.join(summary.rendered) or 'none'}"
             + (f" ({len(summary.unchanged)} quarters unchanged)" if summary.unchanged else ""))
    if summary.failed:
        text = "\n\n".join(f"quarter {q}: {m}" for q, m in summary.failed.items())
        raise PipelineFailed(f"{text}\n(full log: {summary.log_path})")
    return summary


def run_quarters(quarters: list[Quarter], echo: Callable[[str], None] = print,
                 instance: DagsterInstance | None = None) -> RunSummary:
    """Reload these quarters and bring everything up to date (what `cohaesie run --quarter/--all` does)."""
    return run_pipeline([str(q) for q in quarters], update=True, echo=echo, instance=instance)
