"""Replacing a slice of a warehouse table with a DataFrame in one transaction, with every column typed as
declared (money DECIMAL(12,2), dates DATE): never inferred from the data, which may be empty."""
from __future__ import annotations

import duckdb
import pandas as pd


def replace_slice(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, where: str, params: list,
                  types: dict[str, str]) -> None:
    missing = set(types) ^ set(df.columns)
    if missing:
        raise ValueError(f"{table}: columns and declared types differ: {sorted(missing)}")
    frame = df[list(types)].copy()
    for c, t in types.items():
        if t.startswith("decimal"):
            # exact: Decimal -> text -> DECIMAL, never through a float
            frame[c] = frame[c].map(lambda v: None if v is None or pd.isna(v) else str(v)).astype(object)
        elif t == "date":
            frame[c] = frame[c].map(lambda v: None if v is None or pd.isna(v) else str(v)).astype(object)
    select = ", ".join(f"cast({c} as {t}) as {c}" for c, t in types.items())
    columns = ", ".join(f"{c} {t}" for c, t in types.items())
    con.register("_slice", frame)
    try:
        con.begin()
        con.execute(f"create schema if not exists {table.split('.')[0]}")
        con.execute(f"create table if not exists {table} ({columns})")
        con.execute(f"delete from {table} where {where}", params)
        if len(frame):
            con.execute(f"insert into {table} by name select {select} from _slice")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.unregister("_slice")
