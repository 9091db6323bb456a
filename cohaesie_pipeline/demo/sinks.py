"""Writers for the Dutch export dialect: `;`-separated CSV in a chosen encoding, or XLSX. Rows are
appended chunk by chunk so a national-size data root is generated with bounded memory."""
from __future__ import annotations

from pathlib import Path

import pandas as pd


class CsvSink:
    def __init__(self, path: Path, columns: list[str], encoding: str = "utf-8"):
        self.path = path
        self.columns = columns
        self.rows = 0
        # errors="strict": a character the encoding cannot hold is a bug in the generator, not data
        self._fh = open(path, "w", encoding=encoding, newline="")
        self._fh.write(";".join(columns) + "\r\n")

    def write(self, df: pd.DataFrame) -> None:
        if len(df):
            df[self.columns].to_csv(self._fh, sep=";", header=False, index=False, lineterminator="\r\n")
            self.rows += len(df)

    def close(self) -> None:
        self._fh.close()


class XlsxSink:
    def __init__(self, path: Path, columns: list[str]):
        from openpyxl import Workbook

        self.path = path
        self.columns = columns
        self.rows = 0
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet("export")
        self._ws.append(columns)

    def write(self, df: pd.DataFrame) -> None:
        df = df[self.columns].copy()
        # spreadsheets hold real numbers and dates, not Dutch-formatted text
        for col in df.columns:
            s = df[col].astype(str)
            if s.str.fullmatch(r"\d+,\d{2}").all():
                df[col] = s.str.replace(",", ".").astype(float)
            elif s.str.fullmatch(r"\d{2}-\d{2}-\d{4}").all():
                df[col] = pd.to_datetime(s, format="%d-%m-%Y")
        for row in df.itertuples(index=False, name=None):
            self._ws.append(list(row))
        self.rows += len(df)

    def close(self) -> None:
        self._wb.save(self.path)
