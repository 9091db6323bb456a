"""Where things live. Defaults from the data contract, overridable through the environment so the
same code runs on the demo root, a test root, or real exports."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def data_dir() -> Path:
    return Path(os.environ.get("COHAESIE_DATA_DIR", REPO_ROOT / "data")).resolve()


def inbox_dir() -> Path:
    return data_dir() / "inbox"


def registers_dir() -> Path:
    return data_dir() / "registers"


def warehouse_path() -> Path:
    return data_dir() / "warehouse" / "cohaesie.duckdb"


def reports_dir() -> Path:
    return Path(os.environ.get("COHAESIE_REPORTS_DIR", REPO_ROOT / "reports")).resolve()


DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"


def duckdb_memory_limit() -> str:
    """DuckDB's buffer limit for every warehouse connection and for dbt (profiles.yml reads the same
    variable). DuckDB's own default is 80% of RAM; at national scale (5,000 practices) dbt then grew to
    7.4 GB and ingestion to 8 GB. With a limit DuckDB spills to `<warehouse>.tmp/` instead."""
    return os.environ.get("COHAESIE_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT)
