"""Resources shared by the assets. DuckDB allows one writing process per file, so every asset opens the
warehouse for the shortest time it can and closes it before the next step (or dbt) needs it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource

from cohaesie_pipeline.paths import duckdb_memory_limit, warehouse_path


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse file. Empty path: `<data root>/warehouse/cohaesie.duckdb` at run time."""

    path: str = ""

    def resolved_path(self):
        from pathlib import Path

        return Path(self.path) if self.path else warehouse_path()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        p = self.resolved_path()
        if read_only and not p.exists():
            raise FileNotFoundError(f"warehouse {p} does not exist yet: run the ingestion first")
        p.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(p), read_only=read_only, config={"memory_limit": duckdb_memory_limit()})
        try:
            yield con
        finally:
            con.close()
