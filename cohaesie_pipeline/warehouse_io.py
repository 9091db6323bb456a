"""Replacing warehouse tables with DataFrames in one transaction, with every column typed as declared (money
DECIMAL(12,2), dates DATE): never inferred from the data, which may be empty. Tables are created anew, so a
column added in a new version of the pipeline needs no migration."""
from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd


class WarehouseFull(OSError):
    """The disk holding the warehouse has no space left; the transaction was rolled back."""


def _no_space(exc: BaseException) -> bool:
    while exc is not None:
        if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, what: str) -> Iterator[None]:
    """One transaction: committed whole or not at all. A commit that fails because the disk is full leaves
    DuckDB without an active transaction, so the rollback itself would fail with "cannot rollback" and hide
    the cause: say that the disk is full, and that nothing of `what` was written."""
    con.begin()
    try:
        yield
        con.commit()
    except BaseException as exc:
        try:
            con.rollback()
        except duckdb.TransactionException:
            pass  # a failed commit already ended the transaction
        if _no_space(exc):
            path = con.execute("select path from duckdb_databases() where database_name = current_database()"
                               ).fetchone()[0]
            raise WarehouseFull(errno.ENOSPC, f"The disk holding the warehouse ({path}) is full: {what} was not "
                                              f"written and the warehouse keeps what it had. Free space on that "
                                              f"disk (see `df -h {path}`) and run again.") from exc
        raise


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
    with transaction(con, ", ".join(t for t, _df, _types in tables)):
        for table, df, types in tables:
            _replace(con, table, df, types)

