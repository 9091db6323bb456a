"""Resources shared by the assets. DuckDB allows one writing process per file: every step that writes holds
the warehouse's OS file lock (warehouse_lock.py) for as long as it works, and opens the file only then."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from cohaesie_pipeline.paths import duckdb_memory_limit, warehouse_path
from cohaesie_pipeline.run_recovery import recover_dead_runs, tag_run_with_process
from cohaesie_pipeline.warehouse_lock import warehouse_lock

# Another process (a reader such as the sensor, or a dbt child finishing after its parent died) may hold
# DuckDB's own file lock for a moment: try again for this long before giving up with DuckDB's message.
_DUCKDB_LOCK_PATIENCE_SECONDS = 60


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse file. Empty path: `<data root>/warehouse/cohaesie.duckdb` at run time."""

    path: str = ""

    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else warehouse_path()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        p = self.resolved_path()
        if read_only and not p.exists():
            raise FileNotFoundError(f"warehouse {p} does not exist yet: run the ingestion first")
        p.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + _DUCKDB_LOCK_PATIENCE_SECONDS
        while True:
            try:
                con = duckdb.connect(str(p), read_only=read_only, config={"memory_limit": duckdb_memory_limit()})
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def lock(self, context=None) -> Iterator[None]:
        """The one-writer lock for a step; the run is tagged with its process so that, should it die, the
        next run can tell (run_recovery.py)."""
        log = print
        what = "a step outside Dagster"
        if context is not None:
            tag_run_with_process(context.instance, context.run.run_id)
            recover_dead_runs(context.instance, context.log.warning)
            log = context.log.info
            what = f"run {context.run.run_id[:8]} ({context.job_name})"
        with warehouse_lock(self.resolved_path(), what=what, log=log):
            yield

    @contextmanager
    def writer(self, context=None) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.lock(context), self.connect() as con:
            yield con
