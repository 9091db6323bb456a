"""Reference values staff maintain: national (InEen) rates and targets (streefwaarden), imported with
`cohaesie reference import FILE`, used from the next run (RULES.md, Reference after InEen).

An import is validated whole before anything is written, like a delivery. An accepted file is kept as a
normalised copy under `<registers>/referentie/` and recorded in `imports.csv` there (who, when, which
file, its sha256): that folder is the versioned record, and it is part of the registers, so a run after an
import rebuilds what depends on it. The run loads every import into `raw.reference_values`; for each
kind x indicator x year the latest import wins, and the shipped dbt seeds fill what no import covers.
"""
from __future__ import annotations

import csv
import getpass
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from cohaesie_pipeline.ingestion.contract import (
    Context,
    Problems,
    check_relation,
    install_macros,
    messages,
    reference_spec,
)
from cohaesie_pipeline.ingestion.errors import EXAMPLES_PER_PROBLEM, FileProblem, ValidationFailed
from cohaesie_pipeline.ingestion.reader import file_sha256, read_table
from cohaesie_pipeline.paths import DBT_PROJECT_DIR

FOLDER = "referentie"
LOG = "imports.csv"
LOG_COLUMNS = ["import_id", "imported_at", "imported_by", "file_name", "file_sha256", "rows", "stored_as",
               "stored_sha256"]
KIND_OF = {"landelijk": "national", "streefwaarde": "target"}
REFUSED = ("Reference file rejected; the reference values in force stay as they were. Fix these rows and "
           "import the file again:")


def known_indicators() -> list[str]:
    return list(pd.read_csv(DBT_PROJECT_DIR / "seeds" / "ref_indicators.csv", usecols=["indicator_code"],
                            dtype=str).indicator_code)


@dataclass
class Imported:
    import_id: str | None  # None: this exact file was imported before, nothing written
    rows: int
    path: Path
    previous: str | None = None


def read_reference_file(path: Path) -> pd.DataFrame:
    """The validated rows as kind, indicator_code, year, rate (0-1), source, source_line; or ValidationFailed
    naming file, line and column of every problem."""
    if not path.is_file():
        raise ValidationFailed([FileProblem(str(path), None, None, None, "does not exist")], context=REFUSED)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationFailed([FileProblem(path.name, None, None, None,
                                            "is not a .csv or .xlsx file (expected columns soort; indicator; "
                                            "jaar; percentage; bron)")], context=REFUSED)
    spec, ctx = reference_spec(), Context(indicators=tuple(known_indicators()))
    try:
        frame = pd.concat([c.frame for c in read_table(path, spec.names)])
    except ValidationFailed as exc:
        raise ValidationFailed(exc.problems, context=REFUSED) from None
    if frame.empty:
        raise ValidationFailed([FileProblem(path.name, None, None, None,
                                            "has a header but no rows (expected one row per indicator and year)")],
                               context=REFUSED)
    con = duckdb.connect()
    install_macros(con)
    con.register("_f", frame.assign(line=frame.index.astype("int64")))
    found = Problems()
    found.add(check_relation(con, spec, "_f", ctx, EXAMPLES_PER_PROBLEM), EXAMPLES_PER_PROBLEM)
    con.close()
    problems = found.as_file_problems(path.name, messages(ctx))
    if problems:
        raise ValidationFailed(problems, context=REFUSED)
    out = pd.DataFrame({
        "kind": frame.soort.str.lower().map(KIND_OF),
        "indicator_code": frame.indicator.str.upper(),
        "year": frame.jaar.astype(int),
        # exact: '57,3' is 0.573, not 0.5730000000000001
        "rate": [Decimal(t.strip().removesuffix("%").strip().replace(",", ".")) / 100 for t in frame.percentage],
        "source": frame.bron,
        "source_line": frame.index.astype(int),
    })
    dup = out[out.duplicated(["kind", "indicator_code", "year"], keep=False)]
    if not dup.empty:
        for _key, grp in dup.groupby(["kind", "indicator_code", "year"], sort=False):
            lines = list(grp.source_line)
            problems.append(FileProblem(path.name, lines[1], "indicator", grp.indicator_code.iloc[0],
                                        f"appears more than once for the same soort + indicator + jaar (lines "
                                        f"{', '.join(map(str, lines))}; expected one row each)"))
        raise ValidationFailed(sorted(problems, key=lambda p: p.line or 0), context=REFUSED)
    return out


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_log(registers: Path) -> pd.DataFrame:
    log = registers / FOLDER / LOG
    if not log.exists():
        return pd.DataFrame(columns=LOG_COLUMNS)
    return pd.read_csv(log, sep=";", dtype=str, keep_default_na=False)


def import_reference(path: Path, registers: Path, who: str | None = None) -> Imported:
    """Validate `path` whole, then record it; a rejected file writes nothing."""
    values = read_reference_file(path)
    sha = file_sha256(path)
    log = read_log(registers)
    if not log.empty and log.file_sha256.iloc[-1] == sha:  # an older file imported again does count: it wins again
        return Imported(None, len(values), path, previous=log.import_id.iloc[-1])
    folder = registers / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now().replace(microsecond=0)
    import_id = f"{now:%Y%m%dT%H%M%S}-{sha[:8]}"
    stored = f"{import_id}.csv"
    buf = io.StringIO()
    values.to_csv(buf, sep=";", index=False, lineterminator="\n")
    _atomic_write(folder / stored, buf.getvalue())
    entry = {"import_id": import_id, "imported_at": now.isoformat(), "imported_by": who or getpass.getuser(),
             "file_name": path.name, "file_sha256": sha, "rows": str(len(values)), "stored_as": stored,
             "stored_sha256": file_sha256(folder / stored)}
    buf = io.StringIO()
    pd.concat([log, pd.DataFrame([entry])]).to_csv(buf, sep=";", index=False, lineterminator="\n",
                                                  quoting=csv.QUOTE_MINIMAL)
    _atomic_write(folder / LOG, buf.getvalue())  # the import exists from this rename on
    return Imported(import_id, len(values), path)


REFERENCE_DDL = """
create table if not exists raw.reference_values (
    kind varchar not null, indicator_code varchar not null, year integer not null, rate decimal(9, 6) not null,
    source varchar not null, source_line integer not null, import_id varchar not null,
    imported_at timestamp not null, imported_by varchar not null, file_name varchar not null,
    file_sha256 varchar not null);
"""


def log_path(registers: Path) -> Path | None:
    p = registers / FOLDER / LOG
    return p if p.exists() else None


def load_reference(con: duckdb.DuckDBPyConnection, registers: Path) -> int:
    """Replace raw.reference_values with every recorded import (inside the caller's transaction). A stored
    copy changed by hand since its import is refused: the log's hash is what the values are defended by."""
    con.execute("delete from raw.reference_values")
    log = read_log(registers)
    folder = registers / FOLDER
    problems = []
    for entry in log.to_dict("records"):
        stored = folder / entry["stored_as"]
        if not stored.exists():
            problems.append(FileProblem(f"{FOLDER}/{LOG}", None, None, None,
                                        f"records import {entry['import_id']} but {FOLDER}/{entry['stored_as']} is "
                                        f"missing: restore it from backup, or import {entry['file_name']} again"))
        elif file_sha256(stored) != entry["stored_sha256"]:
            problems.append(FileProblem(f"{FOLDER}/{entry['stored_as']}", None, None, None,
                                        f"was changed after it was imported on {entry['imported_at']} (hash differs "
                                        f"from {LOG}): change reference values only with `cohaesie reference "
                                        f"import`, and restore this file"))
    if problems:
        raise ValidationFailed(problems, context="Reference values rejected; the warehouse keeps the ones it had:")
    for entry in log.to_dict("records"):
        con.execute("""
            insert into raw.reference_values
            select kind, indicator_code, year, rate, source, source_line, ?, cast(? as timestamp), ?, ?, ?
            from read_csv(?, delim = ';', header = true, all_varchar = false,
                          columns = {'kind': 'varchar', 'indicator_code': 'varchar', 'year': 'integer',
                                     'rate': 'decimal(9, 6)', 'source': 'varchar', 'source_line': 'integer'})""",
                    [entry["import_id"], entry["imported_at"], entry["imported_by"], entry["file_name"],
                     entry["file_sha256"], str(folder / entry["stored_as"])])
    return int(con.execute("select count(*) from raw.reference_values").fetchone()[0])
