"""Running the quarterly job in-process, the way `cohaesie run` and the tests do."""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable

from dagster import DagsterEventType, DagsterInstance

from cohaesie_pipeline.partitions import register_quarters
from cohaesie_pipeline.paths import data_dir
from cohaesie_pipeline.quarters import Quarter


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


def run_quarters(quarters: list[Quarter], echo: Callable[[str], None] = print,
                 instance: DagsterInstance | None = None) -> list:
    from cohaesie_pipeline.definitions import defs

    instance = instance or _instance()
    register_quarters(instance, quarters)
    job = defs.resolve_job_def("quarterly_pipeline")
    results = []
    for i, q in enumerate(sorted(quarters), 1):
        echo(f"[{i}/{len(quarters)}] {q}: running ...")
        t = time.perf_counter()
        log_path = data_dir() / "logs" / f"run-{q}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
            result = job.execute_in_process(partition_key=str(q), instance=instance, raise_on_error=False,
                                            run_config={"loggers": {"progress": {}}})
        if not result.success:
            raise PipelineFailed(f"quarter {q}: {_failure_text(result)}\n(full log: {log_path})")
        n = len(result.get_asset_materialization_events())
        echo(f"[{i}/{len(quarters)}] {q}: done, {n} assets materialised in {time.perf_counter() - t:.1f}s")
        results.append(result)
    return results
