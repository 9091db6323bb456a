"""Bad input fails with a message naming file, line, column, value and what was expected, and loads nothing."""
from __future__ import annotations

import duckdb
import pytest

from cohaesie_pipeline.ingestion.errors import ValidationFailed
from cohaesie_pipeline.ingestion.loader import load_delivery
from cohaesie_pipeline.quarters import Quarter
from tests.test_ingestion_dialects import DECL_HEADER, MEAS_HEADER, PAT_HEADER, Q, write_delivery

GOOD_DECL = "PX0001A;01051234;DM2;9664;01-07-2024;30-09-2024;85,00"


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


def _fail(con, folder) -> str:
    with pytest.raises(ValidationFailed) as exc:
        load_delivery(con, Q, folder)
    return str(exc.value)


def _rows(con) -> int:
    return sum(con.execute(f"select count(*) from raw.{t}").fetchone()[0]
               for t in ("patienten", "meetwaarden", "declaraties"))


def test_bad_amount_names_file_line_column_value_and_expectation(tmp_path, con):
    decl = [DECL_HEADER] + [GOOD_DECL.replace("PX0001A", f"PX00{i:02d}A") for i in range(6)]
    decl.append("PX0099A;01051234;DM2;9664;01-07-2024;30-09-2024;82,5O")
    msg = _fail(con, write_delivery(tmp_path / "in", declarations=decl))
    assert "declaraties.csv line 8, column bedrag: '82,5O' is not an amount (expected e.g. 82,50)" in msg
    assert _rows(con) == 0


def test_many_bad_rows_show_first_examples_and_the_total(tmp_path, con):
    decl = [DECL_HEADER] + [f"PX{i:04d}A;01051234;DM2;9664;01-07-2024;30-09-2024;8x" for i in range(12)]
    msg = _fail(con, write_delivery(tmp_path / "in", declarations=decl))
    assert msg.count("is not an amount") == 5
    assert "7 more row(s) with the same problem in column bedrag (12 in total)" in msg


def test_empty_file(tmp_path, con):
    folder = write_delivery(tmp_path / "in")
    (folder / "meetwaarden.csv").write_bytes(b"")
    msg = _fail(con, folder)
    assert "meetwaarden.csv is empty (expected a header row with patientnummer; praktijk_agb;" in msg


def test_header_without_rows(tmp_path, con):
    msg = _fail(con, write_delivery(tmp_path / "in", declarations=[DECL_HEADER]))
    assert "declaraties.csv has a header but no data rows" in msg


def test_missing_column(tmp_path, con):
    pat = [PAT_HEADER.replace(";geslacht", ""), "PX0001A;01051234;DM2;9664;1950;01-02-2015;;HA"]
    msg = _fail(con, write_delivery(tmp_path / "in", patients=pat))
    assert "patienten.csv line 1: column geslacht missing from the header" in msg
    assert "expected: patientnummer; praktijk_agb; zorgprogramma" in msg


def test_truncated_last_row(tmp_path, con):
    meas = [MEAS_HEADER, "PX0001A;01051234;3266;HBAP B;15-03-2024;52;mmol/mol", "PX0001A;01051234;3266;HBA"]
    msg = _fail(con, write_delivery(tmp_path / "in", measurements=meas))
    assert "meetwaarden.csv line 3: has 4 fields where the header has 7" in msg


def test_unknown_program(tmp_path, con):
    pat = [PAT_HEADER, "PX0001A;01051234;DM1;9664;1950;V;01-02-2015;;HA"]
    msg = _fail(con, write_delivery(tmp_path / "in", patients=pat))
    assert ("patienten.csv line 2, column zorgprogramma: 'DM1' is not a known program "
            "(expected one of DM2, COPD, ASTMA, CVRM)") in msg


def test_bsn_like_patient_id_is_rejected(tmp_path, con):
    # 111222333 passes the eleven-test: 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3-1*3 = 66
    pat = [PAT_HEADER, "111222333;01051234;DM2;9664;1950;V;01-02-2015;;HA"]
    msg = _fail(con, write_delivery(tmp_path / "in", patients=pat))
    assert "patienten.csv line 2, column patientnummer: the value holds nine digits that pass the BSN eleven-test" in msg
    # the BSN itself never reaches a message, a log or the event log
    assert "111222333" not in msg and "(value withheld: patient identifier)" in msg


def test_nine_digit_id_failing_the_eleven_test_is_a_pseudonym(tmp_path, con):
    pat = [PAT_HEADER, "111222334;01051234;DM2;9664;1950;V;01-02-2015;;HA"]
    load_delivery(con, Q, write_delivery(tmp_path / "in", patients=pat))
    assert con.execute("select patientnummer from raw.patienten").fetchone()[0] == "111222334"


@pytest.mark.parametrize("line,column,expected", [
    ("PX0001A;0105123;DM2;9664;1950;V;01-02-2015;;HA", "praktijk_agb", "is not an AGB code (expected 8 digits"),
    ("PX0001A;01051234;DM2;9664;1950;V;31-02-2015;;HA", "startdatum", "is not a date (expected dd-mm-jjjj"),
    ("PX0001A;01051234;DM2;9664;1950;V;01-10-2024;;HA", "startdatum", "is after the delivery's quarter 2024Q3"),
    ("PX0001A;01051234;DM2;9664;1950;V;01-02-2015;01-01-2014;HA", "einddatum", "is before the start date"),
    ("PX0001A;01051234;DM2;96640;1950;X;01-02-2015;;HA", "uzovi", "is not a UZOVI insurer code"),
    ("PX0001A;01051234;DM2;9664;1950;X;01-02-2015;;HA", "geslacht", "is not a sex code (expected M, V or O)"),
    ("PX0001A;01051234;DM2;9664;1950;V;01-02-2015;;XX", "hoofdbehandelaar", "expected HA or SP"),
])
def test_each_patient_column_check(tmp_path, con, line, column, expected):
    msg = _fail(con, write_delivery(tmp_path / "in", patients=[PAT_HEADER, line]))
    assert f"patienten.csv line 2, column {column}:" in msg and expected in msg


def test_measurement_after_the_quarter_and_declaration_outside_it(tmp_path, con):
    meas = [MEAS_HEADER, "PX0001A;01051234;3266;HBAP B;02-10-2024;52;mmol/mol"]
    decl = [DECL_HEADER, "PX0001A;01051234;DM2;9664;01-04-2024;30-09-2024;85,00"]
    msg = _fail(con, write_delivery(tmp_path / "in", measurements=meas, declarations=decl))
    assert "meetwaarden.csv line 2, column datum: '02-10-2024' is after the delivery's quarter 2024Q3" in msg
    assert "declaraties.csv line 2, column periode_start: '01-04-2024' is outside the quarter 2024Q3" in msg


def test_duplicate_declaration(tmp_path, con):
    msg = _fail(con, write_delivery(tmp_path / "in", declarations=[DECL_HEADER, GOOD_DECL, GOOD_DECL]))
    assert "declaraties.csv line 3, column patientnummer: the value appears more than once" in msg
    assert "PX0001A" not in msg


def test_incomplete_delivery_folder(tmp_path, con):
    folder = write_delivery(tmp_path / "in", declarations=False)
    msg = _fail(con, folder)
    assert "incomplete delivery for 2024Q3: declaraties.csv/.xlsx missing" in msg


def test_failed_delivery_leaves_earlier_data_intact_and_redelivery_replaces(tmp_path, con):
    good = write_delivery(tmp_path / "good")
    load_delivery(con, Q, good)
    before = con.execute("select * from raw.patienten order by patientnummer").fetchall()
    hashes = con.execute("select file_kind, sha256 from raw.deliveries order by 1").fetchall()
    # a bad re-delivery of the same quarter: nothing changes
    bad = write_delivery(tmp_path / "bad", declarations=[DECL_HEADER, GOOD_DECL.replace("85,00", "abc")])
    with pytest.raises(ValidationFailed):
        load_delivery(con, Q, bad)
    assert con.execute("select * from raw.patienten order by patientnummer").fetchall() == before
    assert con.execute("select file_kind, sha256 from raw.deliveries order by 1").fetchall() == hashes
    # loading the same delivery twice never duplicates
    load_delivery(con, Q, good)
    assert con.execute("select count(*) from raw.patienten").fetchone()[0] == len(before)
    # a corrected re-delivery replaces the quarter, other quarters untouched
    other = Quarter.parse("2024Q2")
    load_delivery(con, other, write_delivery(tmp_path / "q2", declarations=[
        DECL_HEADER, "PX0001A;01051234;DM2;9664;01-04-2024;30-06-2024;85,00"]))
    fixed = write_delivery(tmp_path / "fixed", patients=[PAT_HEADER, "PX0001A;01051234;DM2;9664;1950;V;01-02-2015;;HA"])
    load_delivery(con, Q, fixed)
    counts = dict(con.execute("select quarter, count(*) from raw.patienten group by 1").fetchall())
    assert counts == {"2024Q3": 1, "2024Q2": 2}
    assert con.execute("select count(*) from raw.deliveries where quarter = '2024Q3'").fetchone()[0] == 3
