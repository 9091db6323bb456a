"""How runs start without a person: the quarterly schedule and the inbox sensor.

Partitions are dynamic (see partitions.py), so both register the quarter as a partition before asking for
its run; `build_schedule_from_partitioned_job` only serves time-window partitions.

The sensor compares the inputs on disk (deliveries, registers, policy) with what it last asked runs for
(its cursor; at the first tick, with what the warehouse holds), so every change starts exactly one round
of runs, a failing delivery is not retried every minute, and a change back to an earlier version after a
failure runs again. Run keys carry a sequence number: an earlier version's key does not stop its run.
"""
from __future__ import annotations

import json
import os
from datetime import datetime

import duckdb
from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    schedule,
    sensor,
)

from cohaesie_pipeline.inputs import Inputs, current_inputs, delivery_status, warehouse_inputs
from cohaesie_pipeline.jobs import delivery_job, quarterly_job, update_job
from cohaesie_pipeline.partitions import quarter_partitions
from cohaesie_pipeline.paths import inbox_dir, registers_dir, warehouse_path
from cohaesie_pipeline.policy.config import PolicyConfigError, load_policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.run_recovery import recover_dead_runs

TIMEZONE = "Europe/Amsterdam"


def schedule_day() -> int:
    """Day of the quarter's second month to run on; deliveries are due around the 21st of the first month."""
    day = int(os.environ.get("COHAESIE_SCHEDULE_DAY", "1"))
    if not 1 <= day <= 28:
        raise ValueError(f"COHAESIE_SCHEDULE_DAY={day}: expected a day from 1 to 28")
    return day


def quarterly_cron(day: int | None = None) -> str:
    return f"0 6 {day or schedule_day()} 2,5,8,11 *"


def quarter_for_run(when: datetime) -> Quarter:
    """The quarter that just started: a run in February is for Q1, whose peildatum is 1 January."""
    return Quarter.of(when.date() if isinstance(when, datetime) else when)


@schedule(name="quarterly_schedule", cron_schedule=quarterly_cron(), execution_timezone=TIMEZONE,
          job=quarterly_job, default_status=DefaultScheduleStatus.STOPPED,
          description="Runs the whole graph for the quarter that just started, on day COHAESIE_SCHEDULE_DAY "
                      "(default 1) of the quarter's second month, 06:00 Amsterdam time.")
def quarterly_schedule(context: ScheduleEvaluationContext):
    quarter = quarter_for_run(context.scheduled_execution_time)
    _, missing = delivery_status(inbox_dir() / str(quarter))
    if missing:
        return SkipReason(f"delivery {quarter} is incomplete in {inbox_dir() / str(quarter)}: missing "
                          f"{', '.join(m + '.csv/.xlsx' for m in missing)}")
    context.instance.add_dynamic_partitions(quarter_partitions.name, [str(quarter)])
    return RunRequest(partition_key=str(quarter), tags={"cohaesie/trigger": "schedule"})


def _baseline(instance_log) -> Inputs | None:
    """What the warehouse was last brought up to date with, as the sensor's starting point (no cursor yet).
    None when the warehouse is being written (DuckDB refuses a reader then): try again next tick."""
    path = warehouse_path()
    if not path.exists():
        return Inputs()
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            loaded, state = warehouse_inputs(con)
    except duckdb.Error as exc:
        instance_log(f"warehouse not readable now ({exc.__class__.__name__}); trying again next tick")
        return None
    if state != loaded.whole():
        loaded.registers = None  # the marts were not computed from what is loaded: ask for an update
    return loaded


def inbox_requests(disk: Inputs, requested: Inputs, seq: int) -> tuple[list[RunRequest], list[str]]:
    """The runs that bring the warehouse from `requested` (what the last requests asked for) to `disk`, and
    what changed, in words. One changed quarter: one run that loads it and updates everything. Several: a
    load run per quarter first (higher priority in the queue), then one update run."""
    changed = disk.changed_quarters(requested)
    why = [f"{q}: {'new delivery' if q not in requested.deliveries else 'delivery changed'}" for q in changed]
    others = []
    if disk.registers != requested.registers:
        others.append("registers changed" if disk.registers else "registers incomplete: not loaded")
    if disk.policy != requested.policy:
        others.append(f"policy changed ({requested.policy} -> {disk.policy})")
    if disk.code != requested.code:
        others.append("the pipeline's dbt models or policy rules changed (software update)")
    tags = {"cohaesie/trigger": "inbox_sensor"}
    requests = []
    if len(changed) == 1:
        q = changed[0]
        requests.append(RunRequest(job_name=quarterly_job.name, partition_key=q, run_key=f"{q}:{disk.deliveries[q]}:{seq}",
                                   tags={**tags, "cohaesie/delivery": disk.deliveries[q]}))
    elif changed:
        for q in changed:
            requests.append(RunRequest(job_name=delivery_job.name, partition_key=q,
                                       run_key=f"load:{q}:{disk.deliveries[q]}:{seq}",
                                       tags={**tags, "cohaesie/delivery": disk.deliveries[q], "dagster/priority": "1"}))
    if len(changed) > 1 or (not changed and disk.registers and any(others)):
        requests.append(RunRequest(job_name=update_job.name, run_key=f"update:{disk.whole()}:{seq}",
                                   tags={**tags, "dagster/priority": "0"}))
    return requests, why + others


@sensor(name="inbox_sensor", jobs=[quarterly_job, delivery_job, update_job], minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description="Watches the deliveries in the inbox, the registers and policy.yaml. When one changes (also "
                    "back to an earlier version after a failed run) it asks for the runs that bring every "
                    "quarter's marts, money and reports up to date; a skipped tick says why.")
def inbox_sensor(context: SensorEvaluationContext):
    recover_dead_runs(context.instance, context.log.warning)
    cursor = json.loads(context.cursor) if context.cursor else {}
    try:
        policy = load_policy().label
    except PolicyConfigError as exc:
        return SkipReason(f"policy config invalid, nothing requested: {exc}")
    disk, files = current_inputs(inbox_dir(), registers_dir(), policy, cursor.get("files"))
    if "requested" in cursor:
        requested = Inputs(**cursor["requested"])
    else:
        requested = _baseline(context.log.info)
        if requested is None:
            return SkipReason("the warehouse is being written by a run; checking again next tick")
    seq = cursor.get("seq", 0) + 1
    requests, why = inbox_requests(disk, requested, seq)
    new_cursor = json.dumps({"files": files, "seq": seq,
                             "requested": {"deliveries": disk.deliveries, "registers": disk.registers,
                                           "policy": disk.policy, "code": disk.code}})
    waiting = "; ".join(disk.misnamed + disk.incomplete)
    for line in disk.misnamed:
        context.log.warning(line)
    if not requests:
        reason = (f"no change since the last request: {len(disk.deliveries)} deliveries, registers and policy "
                  "as they were")
        if why:
            reason += f" ({'; '.join(why)})"
        if waiting:
            reason += f". Not (yet) a delivery: {waiting}"
        return SensorResult(skip_reason=reason, cursor=new_cursor)
    context.log.info("requesting %d run(s): %s", len(requests), "; ".join(why))
    if waiting:
        context.log.info("not (yet) a delivery: %s", waiting)
    existing = set(context.instance.get_dynamic_partitions(quarter_partitions.name))
    new = sorted({r.partition_key for r in requests if r.partition_key} - existing)
    return SensorResult(run_requests=requests, cursor=new_cursor,
                        dynamic_partitions_requests=[quarter_partitions.build_add_request(new)] if new else [])


@sensor(name="dead_run_recovery", minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Marks runs whose process died (killed, crashed) as failed, so that the one run slot "
                    "(max_concurrent_runs: 1) is free again for the next run. On by default: without it, a run "
                    "killed while launched from the UI would keep every later run waiting in the queue.")
def dead_run_recovery(context: SensorEvaluationContext):
    recovered = recover_dead_runs(context.instance, context.log.warning)
    if recovered:
        return SkipReason(f"marked {len(recovered)} run(s) whose process died as failed: "
                          f"{', '.join(r[:8] for r in recovered)}")
    return SkipReason("no run whose process died")
