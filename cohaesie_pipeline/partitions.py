"""Quarterly partitions, keyed `YYYYQn` so people read the quarter they know.

Dagster's time-window partitions are keyed by a strftime format and strftime has no quarter directive, so
their keys would read 2024-07-01. The partitions are therefore dynamic: a quarter becomes a partition when
its delivery is found in the inbox (by `cohaesie run`, the inbox sensor or the schedule).
"""
from __future__ import annotations

import re
from pathlib import Path

from dagster import DagsterInstance, DynamicPartitionsDefinition

from cohaesie_pipeline.paths import inbox_dir
from cohaesie_pipeline.quarters import Quarter

quarter_partitions = DynamicPartitionsDefinition(name="quarter")

QUARTER_DIR = re.compile(r"^\d{4}Q[1-4]$")  # an inbox folder name


def quarters_in_inbox(inbox: Path | None = None) -> list[Quarter]:
    inbox = inbox or inbox_dir()
    if not inbox.is_dir():
        return []
    return sorted(Quarter.parse(p.name) for p in inbox.iterdir() if p.is_dir() and QUARTER_DIR.match(p.name))


def register_quarters(instance: DagsterInstance, quarters: list[Quarter]) -> None:
    existing = set(instance.get_dynamic_partitions(quarter_partitions.name))
    new = [str(q) for q in quarters if str(q) not in existing]
    if new:
        instance.add_dynamic_partitions(quarter_partitions.name, new)


def loaded_quarters(warehouse: Path) -> set[str]:
    """Quarters whose delivery is loaded in the warehouse (empty without a warehouse, before the first load, or
    while a writer holds the file: then only the inbox can tell)."""
    import duckdb

    if not warehouse.exists():
        return set()
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return set()
    try:
        return {q for (q,) in con.execute("select distinct quarter from raw.deliveries").fetchall()}
    except duckdb.CatalogException:
        return set()
    finally:
        con.close()


class PartitionRefused(ValueError):
    pass


def partition_status(instance: DagsterInstance, loaded: set[str], inbox: Path | None = None) -> list[dict]:
    """Every quarter partition with whether its inbox folder exists and whether the warehouse holds it."""
    inbox = inbox or inbox_dir()
    keys = sorted(instance.get_dynamic_partitions(quarter_partitions.name))
    return [{"quarter": k, "valid": bool(QUARTER_DIR.match(k)), "inbox_folder": (inbox / k).is_dir(),
             "loaded": k in loaded} for k in keys]


def remove_partition(instance: DagsterInstance, key: str, loaded: set[str], inbox: Path | None = None) -> None:
    """Remove a quarter partition that has nothing behind it: no inbox folder and nothing loaded. A quarter
    with a delivery folder is a real quarter; one whose data is in the warehouse is evidence for money and
    reports, so removing either is refused with the reason."""
    inbox = inbox or inbox_dir()
    if key not in instance.get_dynamic_partitions(quarter_partitions.name):
        raise PartitionRefused(f"there is no partition {key!r}")
    if (inbox / key).is_dir():
        raise PartitionRefused(f"{key} has a delivery folder ({inbox / key}); remove the folder first if the "
                               "quarter really does not exist")
    if key in loaded:
        raise PartitionRefused(f"{key} is loaded in the warehouse: its data feeds decisions, money and reports; "
                               "it is not removed")
    instance.delete_dynamic_partition(quarter_partitions.name, key)
