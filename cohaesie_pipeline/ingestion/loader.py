"""Validated, atomic loading of deliveries and registers into the warehouse's `raw` schema.

A quarter is replaced in one transaction: the old rows of that quarter are deleted and the new ones
inserted, and the transaction only commits when every file of the delivery passed validation. A bad
delivery therefore leaves the previously loaded data exactly as it was, and a corrected re-delivery
never duplicates rows.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from cohaesie_pipeline.ingestion.contract import (
    Context,
    FileSpec,
    Problems,
    check_relation,
    delivery_specs,
    install_macros,
    messages,
    register_specs,
)
from cohaesie_pipeline.ingestion.errors import EXAMPLES_PER_PROBLEM, FileProblem, ValidationFailed
from cohaesie_pipeline.ingestion.reader import (
    CHUNK_ROWS,
    drop_read,
    duckdb_csv,
    file_sha256,
    read_table,
    xlsx_formulas,
)
from cohaesie_pipeline.ingestion.reference import REFERENCE_DDL, load_reference, log_path
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.warehouse_io import transaction

DELIVERY_FILES = ("patienten", "meetwaarden", "declaraties")
REGISTER_FILES = ("praktijken", "praktijkhouders", "praktijkbezoeken", "verbetertrajecten")
REFERENCE_REGISTER = "referentie"  # the log of `cohaesie reference import`, when there is one

# the raw tables of the contract's files come from their one spec (contract.py); these two log the loads
LOG_DDL = """
create table if not exists raw.deliveries (
    quarter varchar not null, file_kind varchar not null, file_name varchar not null, sha256 varchar not null,
    encoding varchar not null, rows_read bigint not null, rows_loaded bigint not null,
    loaded_at timestamp not null);
create table if not exists raw.register_files (
    register varchar not null, file_name varchar not null, sha256 varchar not null, encoding varchar not null,
    rows_loaded bigint not null, loaded_at timestamp not null);
"""
RAW_DDL = "\n".join(["create schema if not exists raw;", *(spec.ddl() for spec in delivery_specs().values()),
                      *(spec.ddl() for spec in register_specs().values()), LOG_DDL])

def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL)
    con.execute(REFERENCE_DDL)
    install_macros(con)


def files_of(folder: Path, kind: str) -> list[Path]:
    """A delivery file may be .csv or .xlsx; names are matched case-insensitively."""
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.iterdir())
            if p.is_file() and p.stem.lower() == kind and p.suffix.lower() in (".csv", ".xlsx")]


def find_file(folder: Path, kind: str) -> Path | None:
    found = files_of(folder, kind)
    return found[0] if found else None


def _ambiguous(folder: Path, kinds) -> list[FileProblem]:
    """Two files for one kind (declaraties.csv and declaraties.xlsx): the pipeline will not guess which one is
    the delivery."""
    out = []
    for kind in kinds:
        found = files_of(folder, kind)
        if len(found) > 1:
            out.append(FileProblem(folder.name, None, None, None,
                                   f"holds {' and '.join(p.name for p in found)}: one {kind} file is expected; "
                                   f"remove the one that is not the export (the pipeline does not guess)"))
    return out


def register_agbs(registers: Path | None) -> set[str] | None:
    """The practice AGBs of the register file as it is now (None: no readable register; the registers step
    reports that itself)."""
    path = find_file(registers, "praktijken") if registers else None
    if path is None:
        return None
    try:
        return {a for chunk in read_table(path, ["praktijk_agb"]) for a in chunk.frame.praktijk_agb}
    except ValidationFailed:
        return None


def _unknown_practices(con, quarter: str, folder: Path, known: set[str]) -> list[FileProblem]:
    """Every practice a delivery names must be in praktijken.csv: a report needs its name and town."""
    con.execute("create or replace temp table _known_agb (praktijk_agb varchar)")
    con.executemany("insert into _known_agb values (?)", [[a] for a in sorted(known)])
    out = []
    for kind in DELIVERY_FILES:
        rows = con.execute(f"""
            select praktijk_agb, min(source_line), count(*) from raw.{kind}
            where quarter = ? and praktijk_agb not in (select praktijk_agb from _known_agb)
            group by praktijk_agb order by min(source_line)""", [quarter]).fetchall()
        name = find_file(folder, kind).name
        out += [FileProblem(name, line, "praktijk_agb", agb,
                            "is not in the practice register praktijken.csv (add the practice to "
                            "registers/praktijken.csv, or correct the AGB in the export)", total=n)
                for agb, line, n in rows]
    con.execute("drop table _known_agb")
    return out


@dataclass
class FileResult:
    kind: str
    path: Path
    sha256: str
    encoding: str = ""
    rows_read: int = 0
    rows_loaded: int = 0


@dataclass
class LoadResult:
    files: list[FileResult] = field(default_factory=list)
    reference_rows: int = 0

    def by_kind(self) -> dict[str, FileResult]:
        return {f.kind: f for f in self.files}


@dataclass
class Preread:
    """A file DuckDB read before the load's transaction (reader.duckdb_csv): the temp table holding its
    cells and its encoding, or the reason it cannot be read at all."""
    table: str
    encoding: str | None = None
    refused: ValidationFailed | None = None


def _no_rows(path: Path) -> FileProblem:
    return FileProblem(path.name, None, None, None, "has a header but no data rows (expected the quarter's export)")


def _load_file(con, spec: FileSpec, path: Path, ctx: Context, quarter: str | None, chunk_rows: int,
               pre: Preread | None) -> tuple[FileResult, list[FileProblem]]:
    """Check each chunk of text cells with the spec's SQL and insert it typed, in DuckDB."""
    result = FileResult(spec.kind, path, file_sha256(path))
    found, msgs = Problems(), messages(ctx)
    if pre is not None and pre.refused is not None:
        return result, pre.refused.problems
    if pre is not None and pre.encoding:
        return _load_cells(con, spec, result, pre, ctx, quarter)
    try:
        for chunk in read_table(path, spec.names, chunk_rows):
            result.encoding = chunk.encoding
            result.rows_read += len(chunk.frame)
            con.register("_chunk", chunk.frame.assign(line=chunk.frame.index.astype("int64")))
            try:
                found.add(check_relation(con, spec, "_chunk", ctx, EXAMPLES_PER_PROBLEM), EXAMPLES_PER_PROBLEM)
                if found:
                    continue  # keep reading to count every problem, but load nothing
                _insert(con, spec.insert_sql("_chunk", quarter))
                result.rows_loaded += len(chunk.frame)
            finally:
                con.unregister("_chunk")
    except ValidationFailed as exc:
        return result, _name_formulas(path, spec, found.as_file_problems(path.name, msgs)) + exc.problems
    if result.rows_read == 0 and quarter is not None:
        return result, [_no_rows(path)]
    return result, _name_formulas(path, spec, found.as_file_problems(path.name, msgs))


def _load_cells(con, spec: FileSpec, result: FileResult, pre: Preread, ctx: Context,
                quarter: str | None) -> tuple[FileResult, list[FileProblem]]:
    """Check and insert a file DuckDB read whole into a temp table."""
    result.encoding = pre.encoding
    result.rows_read = con.execute(f"select count(*) from {pre.table}").fetchone()[0]
    found = Problems()
    found.add(check_relation(con, spec, pre.table, ctx, EXAMPLES_PER_PROBLEM), EXAMPLES_PER_PROBLEM)
    if found:
        return result, found.as_file_problems(result.path.name, messages(ctx))
    if result.rows_read == 0 and quarter is not None:
        return result, [_no_rows(result.path)]
    _insert(con, spec.insert_sql(pre.table, quarter))
    result.rows_loaded = result.rows_read
    return result, []


def _insert(con, sql: str) -> None:
    """The typed insert into raw, without keeping the rows in the order read. Every row carries its own
    `source_line` and nothing reads raw in physical order, so the order only cost: DuckDB wrote the ordered
    insert's row groups partly filled, one set per thread, and the first two checkpoints after a delivery
    merged them again (0.5 s of a 200-practice quarter, paid by whichever step wrote next), and the insert
    itself ran 0.6 s slower. The reads before it keep their order: a temp table's rowid is a file's line."""
    before = con.execute("select current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("set preserve_insertion_order = false")
    try:
        con.execute(sql)
    finally:
        con.execute(f"set preserve_insertion_order = {'true' if before else 'false'}")


def _name_formulas(path: Path, spec: FileSpec, problems: list[FileProblem]) -> list[FileProblem]:
    """An empty cell of an XLSX that is really a formula without a saved value says so, with the formula."""
    empty = [p for p in problems if p.value == "" and p.line is not None]
    if not empty or path.suffix.lower() != ".xlsx":
        return problems
    formulas = xlsx_formulas(path, spec.names, {p.line for p in empty})
    out = []
    for p in problems:
        f = formulas.get((p.line, p.column)) if p.value == "" else None
        out.append(p if f is None else FileProblem(
            p.file, p.line, p.column, f, "is a formula without a saved value (the file was written by a program "
            "that does not calculate): open it in Excel and save it, or paste the values as values", total=p.total))
    return out


def _duplicate_problems(con, table: str, keys: list[str], display: str, quarter: str | None) -> list[FileProblem]:
    where = f"where quarter = '{quarter}'" if quarter else ""
    rows = con.execute(f"""
        select {', '.join(keys)}, list(source_line order by source_line) as lines
        from raw.{table} {where} group by all having count(*) > 1 order by min(source_line) limit 6""").fetchall()
    if not rows:
        return []
    total = con.execute(f"""select count(*) from (select 1 from raw.{table} {where}
                            group by {', '.join(keys)} having count(*) > 1)""").fetchone()[0]
    out = []
    for r in rows[:EXAMPLES_PER_PROBLEM]:
        lines = r[-1]
        out.append(FileProblem(display, lines[1], keys[0], str(r[0]),
                               f"appears more than once for the same {' + '.join(keys)} (lines "
                               f"{', '.join(map(str, lines))}; expected one row each)",
                               total=1))
    if total > len(out):
        out[-1] = FileProblem(out[-1].file, out[-1].line, out[-1].column, out[-1].value, out[-1].problem,
                              total=1 + total - len(out))
    return out




def _load_files(con, kinds, folder: Path, specs: dict[str, FileSpec], ctx: Context, quarter: str | None,
                chunk_rows: int, pre: dict[str, Preread]) -> tuple[LoadResult, list[FileProblem]]:
    """Validate and insert each file (inside the caller's transaction); every file is checked, so one run
    reports the problems of all of them."""
    result, problems = LoadResult(), []
    for kind in kinds:
        path = find_file(folder, kind)
        fr, file_problems = _load_file(con, specs[kind], path, ctx, quarter, chunk_rows, pre.get(kind))
        if not file_problems and specs[kind].unique:
            file_problems = _duplicate_problems(con, kind, list(specs[kind].unique), path.name, quarter)
        problems += file_problems
        result.files.append(fr)
    return result, problems


@contextmanager
def _prereading(con, folder: Path, kinds, specs: dict[str, FileSpec]) -> Iterator[dict[str, Preread]]:
    """Every well-formed UTF-8 CSV of `kinds` read into a temp table, outside any transaction (see duckdb_csv),
    and dropped afterwards."""
    pre = {}
    try:
        for kind in kinds:
            path = find_file(folder, kind)
            if path.suffix.lower() != ".csv":
                continue
            pre[kind] = Preread(f"_cells_{kind}")
            try:
                pre[kind].encoding = duckdb_csv(con, path, specs[kind].names, pre[kind].table)
            except ValidationFailed as exc:
                pre[kind].refused = exc
        yield pre
    finally:
        for p in pre.values():
            drop_read(con, p.table)


def load_delivery(con: duckdb.DuckDBPyConnection, quarter: Quarter, folder: Path,
                  chunk_rows: int = CHUNK_ROWS, practices: set[str] | None = None) -> LoadResult:
    """Replace `quarter` in the raw tables with the delivery in `folder`, or change nothing at all.
    `practices`: the AGBs of the practice register (None: not checked here)."""
    ensure_raw_schema(con)
    missing = [k for k in DELIVERY_FILES if find_file(folder, k) is None]
    if missing:
        raise ValidationFailed([FileProblem(
            str(folder), None, None, None,
            f"is an incomplete delivery for {quarter}: {', '.join(m + '.csv/.xlsx' for m in missing)} missing "
            f"(expected {', '.join(DELIVERY_FILES)})")])
    if ambiguous := _ambiguous(folder, DELIVERY_FILES):
        raise ValidationFailed(ambiguous, context=f"Delivery {quarter} rejected; the warehouse keeps what it had "
                                                  f"for {quarter}:")
    specs, ctx = delivery_specs(), Context(quarter)
    q = str(quarter)
    with _prereading(con, folder, DELIVERY_FILES, specs) as pre, transaction(con, f"the delivery of {q}"):
        for kind in DELIVERY_FILES:
            con.execute(f"delete from raw.{kind} where quarter = ?", [q])
            con.execute("delete from raw.deliveries where quarter = ? and file_kind = ?", [q, kind])
        result, problems = _load_files(con, DELIVERY_FILES, folder, specs, ctx, q, chunk_rows, pre)
        if not problems and practices is not None:
            problems = _unknown_practices(con, q, folder, practices)
        if problems:
            raise ValidationFailed(problems, context=f"Delivery {q} rejected; the warehouse keeps what it had "
                                                     f"for {q}. Fix these rows and deliver again:")
        now = datetime.now()
        for fr in result.files:
            con.execute("insert into raw.deliveries values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [q, fr.kind, fr.path.name, fr.sha256, fr.encoding, fr.rows_read, fr.rows_loaded, now])
    return result


def _practices_still_delivered(con, register_name: str) -> list[FileProblem]:
    """A practice may not leave the register while loaded deliveries name it: its reports need its name."""
    rows = con.execute("""
        select praktijk_agb, string_agg(distinct quarter, ', ' order by quarter), count(distinct quarter)
        from (select quarter, praktijk_agb from raw.patienten union all
              select quarter, praktijk_agb from raw.declaraties)
        where praktijk_agb not in (select praktijk_agb from raw.praktijken)
        group by praktijk_agb order by praktijk_agb""").fetchall()
    return [FileProblem(register_name, None, "praktijk_agb", agb,
                        f"is missing from the register, but the loaded deliveries of {quarters} name it: add the "
                        f"practice back to {register_name} (a practice that stopped stays in the register)")
            for agb, quarters, _n in rows]


def load_registers(con: duckdb.DuckDBPyConnection, folder: Path, chunk_rows: int = CHUNK_ROWS) -> LoadResult:
    """Replace all registers at once: they are the staff's current record, history included."""
    ensure_raw_schema(con)
    missing = [k for k in REGISTER_FILES if find_file(folder, k) is None]
    if missing:
        raise ValidationFailed([FileProblem(
            str(folder), None, None, None,
            f"misses register(s) {', '.join(m + '.csv' for m in missing)} (expected {', '.join(REGISTER_FILES)})")])
    if ambiguous := _ambiguous(folder, REGISTER_FILES):
        raise ValidationFailed(ambiguous, context="Registers rejected; the warehouse keeps the registers it had:")
    specs, ctx = register_specs(), Context(None)
    with _prereading(con, folder, REGISTER_FILES, specs) as pre, transaction(con, "the registers"):
        for kind in REGISTER_FILES:
            con.execute(f"delete from raw.{kind}")
        con.execute("delete from raw.register_files")
        result, problems = _load_files(con, REGISTER_FILES, folder, specs, ctx, None, chunk_rows, pre)
        if not problems:
            problems = _practices_still_delivered(con, find_file(folder, "praktijken").name)
        if problems:
            raise ValidationFailed(problems, context="Registers rejected; the warehouse keeps the registers it "
                                                     "had. Fix these rows and save the register again:")
        now = datetime.now()
        for fr in result.files:
            con.execute("insert into raw.register_files values (?, ?, ?, ?, ?, ?)",
                        [fr.kind, fr.path.name, fr.sha256, fr.encoding, fr.rows_loaded, now])
        # imported reference values (optional: without an import the shipped seeds are the reference)
        log = log_path(folder)
        result.reference_rows = load_reference(con, folder)
        if log is not None:
            con.execute("insert into raw.register_files values (?, ?, ?, ?, ?, ?)",
                        [REFERENCE_REGISTER, f"{log.parent.name}/{log.name}", file_sha256(log), "utf-8",
                         result.reference_rows, now])
    return result
