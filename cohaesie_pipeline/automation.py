"""How runs start without a person: the quarterly schedule and the inbox sensor.

Partitions are dynamic (see partitions.py), so both register the quarter as a partition before asking for
its run; `build_schedule_from_partitioned_job` only serves time-window partitions.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

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

from cohaesie_pipeline.ingestion.loader import DELIVERY_FILES, find_file
from cohaesie_pipeline.partitions import quarter_partitions, quarters_in_inbox
from cohaesie_pipeline.paths import inbox_dir
from cohaesie_pipeline.quarters import Quarter

TIMEZONE = "Europe/Amsterdam"
JOB_NAME = "quarterly_pipeline"


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


def delivery_status(folder: Path) -> tuple[list[Path], list[str]]:
    found = [find_file(folder, k) for k in DELIVERY_FILES]
    return [f for f in found if f], [k for k, f in zip(DELIVERY_FILES, found) if f is None]


@schedule(name="quarterly_schedule", cron_schedule=quarterly_cron(), execution_timezone=TIMEZONE,
          job_name=JOB_NAME, default_status=DefaultScheduleStatus.STOPPED,
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()


def inbox_requests(inbox: Path, cache: dict) -> tuple[list[RunRequest], list[str], dict]:
    """Run requests for complete deliveries, keyed by their content hashes; reasons for incomplete ones.
    `cache` maps a file to (size, mtime, sha256) so unchanged files are not hashed again."""
    requests, incomplete, new_cache = [], [], {}
    for quarter in quarters_in_inbox(inbox):
        files, missing = delivery_status(inbox / str(quarter))
        if missing:
            incomplete.append(f"{quarter}: waiting for {', '.join(missing)}")
            continue
        hashes = []
        for f in files:
            st = f.stat()
            key = str(f)
            entry = cache.get(key)
            if entry and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
                digest = entry[2]
            else:
                digest = _sha256(f)
            new_cache[key] = [st.st_size, st.st_mtime_ns, digest]
            hashes.append(f"{f.name}:{digest}")
        run_key = f"{quarter}:" + hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()[:16]
        requests.append(RunRequest(run_key=run_key, partition_key=str(quarter),
                                   tags={"cohaesie/trigger": "inbox", "cohaesie/delivery": run_key}))
    return requests, incomplete, new_cache


@sensor(name="inbox_sensor", job_name=JOB_NAME, minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description="Watches the inbox for new or changed quarterly deliveries (all three files present) and "
                    "runs that quarter; an unchanged delivery never runs twice (run key = file hashes).")
def inbox_sensor(context: SensorEvaluationContext):
    cache = json.loads(context.cursor) if context.cursor else {}
    requests, incomplete, new_cache = inbox_requests(inbox_dir(), cache)
    context.update_cursor(json.dumps(new_cache))
    for line in incomplete:
        context.log.info("incomplete delivery %s", line)
    if not requests:
        reason = "no complete deliveries in the inbox"
        if incomplete:
            reason = "incomplete deliveries: " + "; ".join(incomplete)
        return SkipReason(reason)
    existing = set(context.instance.get_dynamic_partitions(quarter_partitions.name))
    new = sorted({r.partition_key for r in requests} - existing)
    return SensorResult(run_requests=requests,
                        dynamic_partitions_requests=[quarter_partitions.build_add_request(new)] if new else [],
                        skip_reason=None)
