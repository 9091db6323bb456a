"""Issue 11 item 6: bad files found by trying the reader with them. Each is refused with a message that names
the file and the fix, and the warehouse keeps exactly what it had (a good delivery of the same quarter loaded
first, compared table by table afterwards)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from cohaesie_pipeline.ingestion.errors import ValidationFailed
from cohaesie_pipeline.ingestion.loader import load_delivery, load_registers
from cohaesie_pipeline.warehouse_io import WarehouseFull
from tests.test_ingestion_dialects import DECL_HEADER, MEAS_HEADER, PAT_HEADER, Q, write_delivery

RAW = ("patienten", "meetwaarden", "declaraties", "deliveries", "praktijken", "praktijkhouders")


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_delivery(c, Q, write_delivery(tmp_path / "good"), practices={"01051234"})
    yield c
    c.close()


def _state(con) -> str:
    h = hashlib.sha256()
    for t in RAW:
        if con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = ?",
                       [t]).fetchone()[0]:
            for row in con.execute(f"select * exclude (loaded_at) from raw.{t} order by all" if t == "deliveries"
                                   else f"select * from raw.{t} order by all").fetchall():
                h.update(repr(row).encode())
    return h.hexdigest()


def _refused(con, folder, practices=frozenset({"01051234"})) -> str:
    before = _state(con)
    with pytest.raises(ValidationFailed) as exc:
        load_delivery(con, Q, folder, practices=set(practices))
    assert _state(con) == before  # the warehouse is unchanged
    assert "the warehouse keeps what it had for 2024Q3" in str(exc.value)
    return str(exc.value)


def test_a_byte_undefined_in_windows_1252_names_file_and_line(tmp_path, con):
    folder = write_delivery(tmp_path / "in", encoding="cp1252",
                            measurements=[MEAS_HEADER, "PX0001A;01051234;3266;HBAP B;15-03-2024;52;mmol/mol",
                                          "PX0001A;01051234;2196;RIVU SQ;15-03-2024;één;"])
    p = folder / "meetwaarden.csv"
    p.write_bytes(p.read_bytes().replace("één".encode("cp1252"), b"\xe9\x81n"))
    msg = _refused(con, folder)
    assert "meetwaarden.csv line 3: holds the byte 0x81, which is neither UTF-8 nor Windows-1252 text" in msg
    assert "export the file again as UTF-8" in msg


def test_a_utf8_file_with_a_foreign_byte_names_the_line(tmp_path, con):
    folder = write_delivery(tmp_path / "in", encoding="utf-8-sig")
    p = folder / "declaraties.csv"
    p.write_bytes(p.read_bytes().replace(b"85,00", b"85,\xe900"))
    msg = _refused(con, folder)
    assert "declaraties.csv line 2: starts with a UTF-8 marker, but this line holds bytes that are not UTF-8" in msg


def test_a_utf16_export_is_named_as_such(tmp_path, con):
    folder = write_delivery(tmp_path / "in", encoding="utf-16")
    msg = _refused(con, folder)
    assert "patienten.csv is UTF-16 (or another two-byte) encoded text" in msg and "export the file again as UTF-8" in msg
    assert "ÿþ" not in msg


def test_a_comma_separated_file_is_told_the_separator(tmp_path, con):
    folder = write_delivery(tmp_path / "in", declarations=[DECL_HEADER.replace(";", ","),
                                                          "PX0001A,01051234,DM2,9664,01-07-2024,30-09-2024,85.00"])
    msg = _refused(con, folder)
    assert "declaraties.csv line 1: is separated by a comma ','" in msg and "the contract expects ';'" in msg
    assert "missing from the header" not in msg


def test_csv_and_xlsx_of_the_same_kind_is_an_error_not_a_guess(tmp_path, con):
    folder = write_delivery(tmp_path / "2024Q3")
    wb = Workbook()
    wb.active.append(DECL_HEADER.split(";"))
    wb.save(folder / "declaraties.xlsx")
    msg = _refused(con, folder)
    assert "2024Q3 holds declaraties.csv and declaraties.xlsx: one declaraties file is expected" in msg


def test_a_practice_missing_from_the_register_names_file_line_and_agb(tmp_path, con):
    folder = write_delivery(tmp_path / "in", declarations=[
        DECL_HEADER, "PX0001A;01051234;DM2;9664;01-07-2024;30-09-2024;85,00",
        "PX0003C;01059999;DM2;9664;01-07-2024;30-09-2024;85,00"])
    msg = _refused(con, folder)
    assert ("declaraties.csv line 3, column praktijk_agb: '01059999' is not in the practice register "
            "praktijken.csv (add the practice to registers/praktijken.csv, or correct the AGB") in msg


def test_a_register_may_not_drop_a_practice_that_deliveries_name(tmp_path, con):
    reg = tmp_path / "registers"
    reg.mkdir()
    (reg / "praktijken.csv").write_text("praktijk_agb;praktijk_naam;hagro;plaats\n01050000;Andere praktijk;;\n")
    (reg / "praktijkhouders.csv").write_text("praktijk_agb;huisarts_agb;huisarts_naam;van;tot\n")
    (reg / "praktijkbezoeken.csv").write_text("praktijk_agb;datum;soort\n")
    (reg / "verbetertrajecten.csv").write_text("praktijk_agb;zorgprogramma;stap;datum;bevestigd_op;afspraken\n")
    before = _state(con)
    with pytest.raises(ValidationFailed) as exc:
        load_registers(con, reg)
    assert ("praktijken.csv, column praktijk_agb: '01051234' is missing from the register, but the loaded "
            "deliveries of 2024Q3 name it") in str(exc.value)
    assert _state(con) == before


@pytest.mark.parametrize("patient_id", ["BSN111222333", "111222333-01", "NL_111222333"])
def test_an_id_hiding_a_bsn_is_refused_and_the_value_never_shown(tmp_path, con, patient_id):
    folder = write_delivery(tmp_path / "in", patients=[
        PAT_HEADER, "PX0001A;01051234;DM2;9664;1950;V;01-02-2015;;HA",
        f"{patient_id};01051234;CVRM;3311;1960;M;2016-03-01;;SP"])
    msg = _refused(con, folder)
    assert "patienten.csv line 3, column patientnummer: the value holds nine digits that pass the BSN eleven-test" in msg
    assert "111222333" not in msg


def test_a_formula_without_a_saved_value_says_it_is_a_formula(tmp_path, con):
    folder = write_delivery(tmp_path / "in", declarations=False)
    wb = Workbook()  # openpyxl writes formulas without a calculated value, as many export tools do
    ws = wb.active
    ws.append(DECL_HEADER.split(";"))
    ws.append(["PX0001A", "01051234", "DM2", "9664", "01-07-2024", "30-09-2024", "=80+5"])
    wb.save(folder / "declaraties.xlsx")
    msg = _refused(con, folder)
    assert "declaraties.xlsx line 2, column bedrag: '=80+5' is a formula without a saved value" in msg
    assert "open it in Excel and save it" in msg and "'' is not an amount" not in msg


def _tmpfs(mount: Path, size: str) -> bool:
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True).returncode == 0


def test_a_full_disk_says_the_disk_is_full_and_keeps_the_warehouse(tmp_path):
    """A real full disk: a 1.5 MB tmpfs holding the warehouse, then a delivery that does not fit."""
    mount = tmp_path / "small"
    if not _tmpfs(mount, "1500k"):
        pytest.skip("needs root to mount a small tmpfs (the project machine and CI run as root)")
    try:
        code = f"""
import duckdb, sys
from pathlib import Path
from cohaesie_pipeline.demo.generator import generate
from cohaesie_pipeline.ingestion.loader import load_delivery, load_registers
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.warehouse_io import WarehouseFull
generate('{tmp_path}/data', practices=2, first='2024Q4', last='2024Q4', seed=3)
con = duckdb.connect('{mount}/w.duckdb')
load_registers(con, Path('{tmp_path}/data/registers'))
con.execute('checkpoint')
try:
    load_delivery(con, Quarter.parse('2024Q4'), Path('{tmp_path}/data/inbox/2024Q4'))
except WarehouseFull as exc:
    print(exc)
    sys.exit(3)
"""
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert res.returncode == 3, res.stdout + res.stderr
        assert f"The disk holding the warehouse ({mount}/w.duckdb) is full: the delivery of 2024Q4 was not written" \
               in res.stdout and "cannot rollback" not in res.stdout + res.stderr
        con = duckdb.connect(str(mount / "w.duckdb"), read_only=True)
        assert con.execute("select count(*) from raw.praktijken").fetchone()[0] == 2
        assert con.execute("select count(*) from raw.patienten").fetchone()[0] == 0
        con.close()
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
    assert issubclass(WarehouseFull, OSError)


def test_a_rejected_bsn_never_reaches_the_dagster_event_log(env_root, tmp_path):
    """A real run of the delivery job: the failure, the contract checks and the log name line and column; the
    value (a BSN hidden in an id) appears in no event of the run and nowhere in the run's log file."""
    import io

    from dagster import DagsterInstance
    from dagster._serdes import serialize_value

    from cohaesie_pipeline.demo.generator import generate
    from cohaesie_pipeline.partitions import register_quarters
    from cohaesie_pipeline.quarters import Quarter
    from cohaesie_pipeline.runner import _execute

    generate(env_root, practices=2, first="2024Q4", last="2024Q4", seed=3)
    pat = env_root / "inbox" / "2024Q4" / "patienten.csv"
    lines = pat.read_text(encoding="utf-8-sig").splitlines()
    fields = lines[5].split(";")
    fields[0] = "NL_111222333"
    lines[5] = ";".join(fields)
    pat.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log = io.StringIO()
    with DagsterInstance.ephemeral() as instance:
        register_quarters(instance, [Quarter.parse("2024Q4")])
        result = _execute("load_delivery", instance, log, partition_key="2024Q4")
        assert not result.success
        events = [serialize_value(e) for e in instance.all_logs(result.run_id)]
    text = "\n".join(events) + log.getvalue()
    assert "patienten.csv" in text and "line 6" in text and "patientnummer" in text
    assert "111222333" not in text


def test_misnamed_inbox_folders_are_reported_with_the_rename(env_root, capsys):
    from cohaesie_pipeline.cli import main
    from cohaesie_pipeline.runner import plan

    for name in ("2024Q5", "2024-Q4", "2024q4", "oud"):
        (env_root / "inbox" / name).mkdir(parents=True)
    (env_root / "registers").mkdir()
    _load, _update, why = plan(None, False)
    assert "inbox folder '2024-Q4' NOT LOADED: rename it to 2024Q4 (quarter folders are named YYYYQn)" in why
    assert "inbox folder '2024q4' NOT LOADED: rename it to 2024Q4 (quarter folders are named YYYYQn)" in why
    assert "inbox folder '2024Q5' NOT LOADED: there is no quarter 5 (YYYYQ1 to YYYYQ4); rename it" in why
    assert any(w.startswith("inbox folder 'oud' NOT LOADED: not a quarter folder") for w in why)
    assert main(["run", "--all"]) == 2
    err = capsys.readouterr().err
    assert "no quarter folders (YYYYQn) with a complete delivery" in err and "rename it to 2024Q4" in err


def test_the_contract_spec_is_one_definition_for_sql_ddl_and_pandera():
    """The pandera schema derived from the spec runs the same SQL as the loader: they cannot disagree."""
    import pandas as pd
    import pandera.pandas as pa

    from cohaesie_pipeline.ingestion.contract import Context, delivery_specs
    from cohaesie_pipeline.ingestion.loader import RAW_DDL

    spec = delivery_specs()["declaraties"]
    assert "bedrag decimal(12, 2) not null" in spec.ddl() and spec.ddl() in RAW_DDL
    schema = spec.pandera_schema(Context(Q))
    good = pd.DataFrame([["PX0001A", "01051234", "DM2", "9664", "01-07-2024", "30-09-2024", "85,00"]],
                        columns=spec.names)
    schema.validate(good)
    bad = good.assign(bedrag="82,5O", patientnummer="NL_111222333", periode_start="01-06-2024")
    with pytest.raises(pa.errors.SchemaErrors) as exc:
        schema.validate(bad, lazy=True)
    failed = set(zip(exc.value.failure_cases.column, exc.value.failure_cases.check))
    assert failed == {("bedrag", "amount"), ("patientnummer", "not_bsn"), ("periode_start", "in_quarter")}
