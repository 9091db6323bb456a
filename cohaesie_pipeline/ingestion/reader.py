"""Reading export files as Dutch systems write them: `;`-separated CSV in UTF-8 (with or without BOM) or
Windows-1252, or the first sheet of an XLSX. Every cell comes out as stripped text; typing and checking
is the schemas' job. Line numbers are kept so an error can point at the row a person sees in the file."""
from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from cohaesie_pipeline.ingestion.errors import FileProblem, ValidationFailed

CHUNK_ROWS = 500_000
_BLOCK = 1 << 24


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


# bytes Windows-1252 leaves undefined: a file holding one is neither UTF-8 nor Windows-1252 text
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_RE_EXPORT = ("export the file again as UTF-8 (Excel: 'CSV UTF-8 (gescheiden door lijstscheidingsteken)') "
              "or Windows-1252 ('CSV (gescheiden door lijstscheidingsteken)')")


def _line_of(path: Path, offset: int) -> int:
    line = 1
    with open(path, "rb") as fh:
        done = 0
        while done < offset:
            block = fh.read(min(_BLOCK, offset - done))
            if not block:
                break
            line += block.count(b"\n")
            done += len(block)
    return line


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else Windows-1252. Anything else is
    refused with the line of the first byte that fits neither, never a bare UnicodeDecodeError."""
    display = path.name
    with open(path, "rb") as fh:
        head = fh.read(4096)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or b"\x00" in head:
            raise ValidationFailed([FileProblem(display, None, None, None,
                                                f"is UTF-16 (or another two-byte) encoded text, which the contract "
                                                f"does not allow; {_RE_EXPORT}")])
        bom = head.startswith(codecs.BOM_UTF8)
        fh.seek(3 if bom else 0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        done, pending = (3 if bom else 0), 0
        try:
            for block in iter(lambda: fh.read(_BLOCK), b""):
                pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous block
                decoder.decode(block)
                done += len(block)
            pending = len(decoder.getstate()[0])
            decoder.decode(b"", final=True)
            return "utf-8-sig" if bom else "utf-8"
        except UnicodeDecodeError as exc:
            bad = done - pending + exc.start  # the offending byte's position in the file
    if bom:
        raise ValidationFailed([FileProblem(display, _line_of(path, bad), None, None,
                                            f"starts with a UTF-8 marker, but this line holds bytes that are not "
                                            f"UTF-8 (the file mixes encodings); {_RE_EXPORT}")])
    with open(path, "rb") as fh:
        done = 0
        for block in iter(lambda: fh.read(_BLOCK), b""):
            hits = [i for i in (block.find(bytes([b])) for b in _CP1252_UNDEFINED) if i >= 0]
            if hits:
                pos = done + min(hits)
                byte = block[min(hits)]
                raise ValidationFailed([FileProblem(display, _line_of(path, pos), None, None,
                                                    f"holds the byte 0x{byte:02x}, which is neither UTF-8 nor "
                                                    f"Windows-1252 text (the export is damaged or in another "
                                                    f"encoding); {_RE_EXPORT}")])
            done += len(block)
    return "cp1252"


def normalise_header(name: object) -> str:
    return str(name if name is not None else "").strip().lower().lstrip("\ufeff")


@dataclass
class Chunk:
    frame: pd.DataFrame  # text cells, canonical column names, index = line number in the file
    encoding: str


def _check_columns(display: str, found: list[str], required: list[str]) -> None:
    if not any(found):
        raise ValidationFailed([FileProblem(display, None, None, None,
                                            f"has no header row (expected the columns {'; '.join(required)})")])
    missing = [c for c in required if c not in found]
    if missing and len(found) == 1:
        for sep, name in ((",", "a comma ','"), ("\t", "a tab"), ("|", "'|'")):
            if all(c in [normalise_header(x) for x in found[0].split(sep)] for c in required):
                raise ValidationFailed([FileProblem(
                    display, 1, None, None,
                    f"is separated by {name}, but the contract expects ';' (as Dutch exports write it): export "
                    f"again with ';' as separator (Excel: 'CSV (gescheiden door lijstscheidingsteken)' with Dutch "
                    f"regional settings), or replace the separator")])
    if missing:
        raise ValidationFailed([FileProblem(
            display, 1, ", ".join(missing), None,
            f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing from the header "
            f"(found: {'; '.join(c for c in found if c)}; expected: {'; '.join(required)})")])


def _check_field_counts(fh, display: str, width: int) -> None:
    """pandas pads a short row with empty cells, which would hide a cut-off export: count fields first."""
    fh.seek(0)
    reader = csv.reader(fh, delimiter=";")
    next(reader, None)
    bad, first = 0, None
    for row in reader:
        if row and len(row) != width:
            bad += 1
            if first is None:
                first = (reader.line_num, len(row))
    if first:
        line, n = first
        kind = "fewer" if n < width else "more"
        raise ValidationFailed([FileProblem(
            display, line, None, None,
            f"has {n} fields where the header has {width} ({kind} than expected: the row is cut off or a "
            f"separator is missing or extra; check that the file was exported completely)", total=bad)])


def _read_csv(path: Path, display: str, required: list[str], chunk_rows: int) -> Iterator[Chunk]:
    if path.stat().st_size == 0:
        raise ValidationFailed([FileProblem(display, None, None, None,
                                            f"is empty (expected a header row with {'; '.join(required)})")])
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        header_line = fh.readline()
        header = [normalise_header(h) for h in next(csv.reader([header_line], delimiter=";"), [])]
        _check_columns(display, header, required)
        width = len(header)
        _check_field_counts(fh, display, width)
        fh.seek(0)
        reader = pd.read_csv(fh, sep=";", dtype=str, keep_default_na=False, na_values=[], header=0,
                             names=header, chunksize=chunk_rows, engine="c", on_bad_lines="error",
                             skip_blank_lines=True, quoting=csv.QUOTE_MINIMAL)
        line = 2
        try:
            for df in reader:
                df.index = range(line, line + len(df))
                line += len(df)
                yield Chunk(df[required].apply(lambda s: s.str.strip()), encoding)
        except pd.errors.ParserError as exc:
            raise ValidationFailed([FileProblem(display, None, None, None,
                                                f"cannot be read as ';'-separated CSV: {exc}")]) from exc


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v).strip()


def _read_xlsx(path: Path, display: str, required: list[str]) -> Iterator[Chunk]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a zoo of types for a damaged file
        raise ValidationFailed([FileProblem(display, None, None, None,
                                            f"cannot be opened as an Excel workbook: {exc}")]) from exc
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [normalise_header(h) for h in next(rows, [])]
        _check_columns(display, header, required)
        pos = [header.index(c) for c in required]
        data = []
        for row in rows:
            cells = [_cell_text(row[p] if p < len(row) else None) for p in pos]
            data.append(cells)
        # trailing empty rows are what spreadsheets leave behind, not data
        while data and not any(data[-1]):
            data.pop()
        df = pd.DataFrame(data, columns=required, index=range(2, 2 + len(data)), dtype=object)
        yield Chunk(df, "xlsx")
    finally:
        wb.close()


def xlsx_formulas(path: Path, required: list[str], lines: set[int]) -> dict[tuple[int, str], str]:
    """The formulas behind cells that read as empty: a workbook written by a program (not Excel) may hold a
    formula without its calculated value, which then reads as ''. Only asked for once a check failed on an
    empty cell, so a good delivery is read once."""
    from openpyxl import load_workbook

    out = {}
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = [normalise_header(h) for h in next(rows, [])]
        pos = {c: header.index(c) for c in required if c in header}
        last = max(lines, default=1)
        for line, row in enumerate(rows, start=2):
            if line > last:
                break
            if line in lines:
                for c, p in pos.items():
                    v = row[p] if p < len(row) else None
                    if isinstance(v, str) and v.startswith("="):
                        out[(line, c)] = v
    finally:
        wb.close()
    return out


def duckdb_csv(con, path: Path, required: list[str], table: str) -> str | None:
    """The common case read by DuckDB itself: a well-formed UTF-8 CSV into the temp table `table` (the
    required columns as stripped text, '' for empty, plus `line`, the line in the file), ~5x faster than
    pandas on a quarter's measurements. Returns the encoding, or None when the file needs the careful reader
    below (Windows-1252, a row with the wrong number of fields, a blank line): that one then gives the exact
    message. Call it outside a transaction: a malformed file fails DuckDB's read, which inside a transaction
    would abort it (the loaders read every file before theirs begins)."""
    import duckdb

    encoding = detect_encoding(path)  # refuses what is neither UTF-8 nor Windows-1252, with the line
    if encoding == "cp1252" or path.stat().st_size == 0:
        return None
    with open(path, encoding=encoding, newline="") as fh:
        header = [normalise_header(h) for h in next(csv.reader([fh.readline()], delimiter=";"), [])]
    _check_columns(path.name, header, required)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    # trim() strips spaces (what exports pad cells with); a trim of a set of characters costs DuckDB twice the
    # whole read, so a tab or no-break space around a value stays and is reported as part of it
    cells = ", ".join(f"trim(coalesce(c{header.index(c)}, '')) as {c}" for c in required)
    source = f"""read_csv(?, delim = ';', quote = '"', escape = '"', header = false, skip = 1, columns = {columns},
                         strict_mode = true, null_padding = false, auto_detect = false, encoding = 'utf-8')"""
    try:
        con.execute(f"create or replace temp table {table}_cells as select {cells} from {source}", [str(path)])
    except duckdb.Error:
        drop_read(con, table)
        return None
    # the table keeps the file's order (preserve_insertion_order), so its rowid is the data row's index: half
    # the cost of a row_number() over the read, which serialises it
    con.execute(f"create or replace temp view {table} as select *, rowid + 2 as line from {table}_cells")
    return encoding


def drop_read(con, table: str) -> None:
    """Remove what duckdb_csv made."""
    con.execute(f"drop view if exists {table}")
    con.execute(f"drop table if exists {table}_cells")


def read_table(path: Path, required: list[str], chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    display = path.name
    if path.suffix.lower() == ".xlsx":
        yield from _read_xlsx(path, display, required)
    else:
        yield from _read_csv(path, display, required, chunk_rows)
