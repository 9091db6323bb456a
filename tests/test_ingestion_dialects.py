"""Every way the contract lets a file arrive reads to the same rows."""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest
from openpyxl import Workbook

from cohaesie_pipeline.ingestion.loader import load_delivery, load_registers
from cohaesie_pipeline.quarters import Quarter

Q = Quarter.parse("2024Q3")
PAT_HEADER = "patientnummer;praktijk_agb;zorgprogramma;uzovi;geboortejaar;geslacht;startdatum;einddatum;hoofdbehandelaar"
MEAS_HEADER = "patientnummer;praktijk_agb;bepalingnummer;memocode;datum;waarde;eenheid"
DECL_HEADER = "patientnummer;praktijk_agb;zorgprogramma;uzovi;periode_start;periode_eind;bedrag"


def write_delivery(folder, patients=None, measurements=None, declarations=None, encoding="utf-8"):
    folder.mkdir(parents=True, exist_ok=True)
    patients = patients if patients is not None else [PAT_HEADER, "PX0001A;01051234;DM2;9664;1950;V;01-02-2015;;HA",
                            "PX0002B;01051234;CVRM;3311;1960;M;2016-03-01;;SP"]
    measurements = measurements if measurements is not None else [MEAS_HEADER, "PX0001A;01051234;3266;HBAP B;15-03-2024;52;mmol/mol",
                                    "PX0001A;01051234;542;LDL B;15-03-2024;2,6;mmol/l"]
    declarations = declarations if declarations is not None else [DECL_HEADER, "PX0001A;01051234;DM2;9664;01-07-2024;30-09-2024;85,00"]
    for name, lines in (("patienten", patients), ("meetwaarden", measurements), ("declaraties", declarations)):
        if lines is not False:
            (folder / f"{name}.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return folder


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_read_the_same(tmp_path, con, encoding):
    folder = write_delivery(tmp_path / "in", encoding=encoding,
                            measurements=[MEAS_HEADER, "PX0001A;01051234;2196;RIVU SQ;15-03-2024;één afwijking;"])
    load_delivery(con, Q, folder)
    assert con.execute("select waarde from raw.meetwaarden").fetchone()[0] == "één afwijking"
    row = con.execute("select startdatum, einddatum, geboortejaar from raw.patienten order by patientnummer").fetchone()
    assert row == (date(2015, 2, 1), None, 1950)


def test_iso_dates_case_insensitive_headers_and_extra_columns(tmp_path, con):
    folder = write_delivery(tmp_path / "in", declarations=[
        " PatientNummer ; PRAKTIJK_AGB;zorgprogramma;uzovi;Periode_Start;periode_eind;bedrag;opmerking",
        "PX0001A;01051234;dm2;9664;2024-07-01;2024-09-30;85,5;extra kolom"])
    load_delivery(con, Q, folder)
    row = con.execute("select zorgprogramma, periode_start, bedrag from raw.declaraties").fetchone()
    assert row[0] == "DM2" and row[1] == date(2024, 7, 1) and str(row[2]) == "85.50"


def test_xlsx_with_real_numbers_and_dates(tmp_path, con):
    folder = write_delivery(tmp_path / "in", declarations=False)
    wb = Workbook()
    ws = wb.active
    ws.append(DECL_HEADER.split(";"))
    ws.append(["PX0001A", "01051234", "DM2", 9664, datetime(2024, 7, 1), datetime(2024, 9, 30), 85.0])
    ws.append(["PX0002B", "01051234", "CVRM", "3311", "01-07-2024", "30-09-2024", "41,50"])
    ws.append([None] * 7)  # spreadsheets leave empty rows behind
    wb.save(folder / "Declaraties.xlsx")
    res = load_delivery(con, Q, folder).by_kind()
    assert res["declaraties"].encoding == "xlsx" and res["declaraties"].rows_loaded == 2
    rows = con.execute("select uzovi, periode_start, bedrag from raw.declaraties order by patientnummer").fetchall()
    assert [(r[0], r[1], str(r[2])) for r in rows] == [("9664", date(2024, 7, 1), "85.00"),
                                                       ("3311", date(2024, 7, 1), "41.50")]


def test_registers_load_with_quoted_text(tmp_path, con):
    reg = tmp_path / "registers"
    reg.mkdir()
    (reg / "praktijken.csv").write_bytes("praktijk_agb;praktijk_naam;hagro;plaats\r\n01051234;Huisartsenpraktijk Révész;Hagro Venlo;Venlo\r\n".encode("cp1252"))
    (reg / "praktijkhouders.csv").write_text("praktijk_agb;huisarts_agb;huisarts_naam;van;tot\n01051234;01000001;A. Janssen;01-01-2010;15-05-2024\n01051234;01000002;B. Müller;16-05-2024;\n", encoding="utf-8")
    (reg / "praktijkbezoeken.csv").write_text("praktijk_agb;datum;soort\n01051234;10-02-2024;Kwartaalbezoek\n", encoding="utf-8")
    (reg / "verbetertrajecten.csv").write_text('praktijk_agb;zorgprogramma;stap;datum;bevestigd_op;afspraken\n01051234;DM2;1_bindend_verbetergesprek;01-03-2024;;"Oproepen; extra spreekuur"\n', encoding="utf-8")
    load_registers(con, reg)
    assert con.execute("select praktijk_naam from raw.praktijken").fetchone()[0] == "Huisartsenpraktijk Révész"
    assert con.execute("select afspraken, bevestigd_op from raw.verbetertrajecten").fetchone() == ("Oproepen; extra spreekuur", None)
    assert con.execute("select soort from raw.praktijkbezoeken").fetchone()[0] == "kwartaalbezoek"
