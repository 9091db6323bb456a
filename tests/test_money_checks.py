"""The money and policy invariants (asset checks on policy_marts): pass on the demo, fail on purpose with the
offending rows in their metadata."""
from __future__ import annotations

import shutil

import duckdb
import pytest

from cohaesie_pipeline.assets.money_checks import INVARIANTS, evaluate

BY_NAME = {i.name: i for i in INVARIANTS}


@pytest.fixture
def warehouse_copy(demo_root, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy2(demo_root / "data" / "warehouse" / "cohaesie.duckdb", copy)
    con = duckdb.connect(str(copy))
    yield con
    con.close()


def _result(con, name):
    return next(r for r in evaluate(con) if r.check_name == name)


def test_every_invariant_holds_on_the_demo(demo_db):
    failed = [(r.check_name, r.metadata["violations"].value) for r in evaluate(demo_db) if not r.passed]
    assert failed == []


def test_a_corrupted_settlement_row_fails_with_the_row_in_the_metadata(warehouse_copy):
    con = warehouse_copy
    row = con.execute("""select as_of_quarter, practice_agb, huisarts_agb, program from marts.settlements_as_of
                         where settlement_amount > 0 order by all limit 1""").fetchone()
    con.execute("""update marts.settlements_as_of set settlement_amount = fees_paid + 1
                   where as_of_quarter = ? and practice_agb = ? and huisarts_agb = ? and program = ?""", list(row))
    within = _result(con, "settlement_within_fees_paid")
    assert not within.passed and within.metadata["violations"].value == 1
    assert row[1] in within.metadata["first_violations"].value
    # the same euro no longer adds up to the quarters, nor to the reserve if it was applied
    assert not _result(con, "quarters_add_up_to_gp_rows").passed
    assert BY_NAME["settlement_within_fees_paid"].blocking


def test_a_lost_declared_euro_and_a_second_status_fail(warehouse_copy):
    con = warehouse_copy
    con.execute("""update marts.practice_coverage set fees_not_assessable = fees_not_assessable + 0.01
                   where (quarter, practice_agb, program) in
                         (select quarter, practice_agb, program from marts.practice_coverage order by all limit 1)""")
    assert not _result(con, "every_declared_euro_accounted_for").passed
    con.execute("""insert into marts.practice_classification
                   select * from marts.practice_classification order by all limit 1""")
    status = _result(con, "one_status_per_practice_program_quarter")
    assert not status.passed and status.metadata["violations"].value == 1
    con.execute("update marts.settlement_reserve_as_of set reserved_amount = reserved_amount + 5")
    assert not _result(con, "reserve_equals_applied_settlements").passed
    con.execute("update marts.settlements_as_of set input_fingerprint = null where year = 2024")
    assert not _result(con, "fingerprint_and_policy_recorded").passed
