"""Replacing warehouse tables with DataFrames in one transaction, with every column typed as declared (money
DECIMAL(12,2), dates DATE): never inferred from the data, which may be empty. Tables are created anew, so a
column added in a new version of the pipeline needs no migration."""
from __future__ import annotations

import duckdb
import pandas as pd


def _replace(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, types: dict[str, str]) -> None:
    missing = set(types) ^ set(df.columns)
    if missing:
        raise ValueError(f"{table}: columns and declared types differ: {sorted(missing)}")
    frame = df[list(types)].copy()
    for c, t in types.items():
        if t.startswith("decimal") or t == "date":
            # exact: Decimal -> text -> DECIMAL, never through a float
            frame[c] = frame[c].map(lambda v: None if v is None or pd.isna(v) else str(v)).astype(object)
    select = ", ".join(f"cast({c} as {t}) as {c}" for c, t in types.items())
    columns = ", ".join(f"{c} {t}" for c, t in types.items())
    con.register("_slice", frame)
    try:
        con.execute(f"create schema if not exists {table.split('.')[0]}")
        con.execute(f"create or replace table {table} ({columns})")
        if len(frame):
            con.execute(f"insert into {table} by name select {select} from _slice")
    finally:
        con.unregister("_slice")


def replace_tables(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, pd.DataFrame, dict[str, str]]]) -> None:
    """Replace the whole content of several tables at once: readers see all the old tables or all the new."""
    con.begin()
    try:
        for table, df, types in tables:
            _replace(con, table, df, types)
        con.commit()
    except BaseException:
        con.rollback()
        raise

