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


def detect_encoding(path: Path) -> str:
    """UTF-8 when the whole file decodes as UTF-8, else Windows-1252 (which decodes any byte string)."""
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: fh.read(_BLOCK), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


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


def read_table(path: Path, required: list[str], chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    display = path.name
    if path.suffix.lower() == ".xlsx":
        yield from _read_xlsx(path, display, required)
    else:
        yield from _read_csv(path, display, required, chunk_rows)
