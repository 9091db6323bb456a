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
