"""Everything the reports show, read once per quarter from the warehouse (read-only) into plain Python
structures that can be handed to worker processes. No patient-level rows leave this module: only counts.

As of the quarter (RULES.md, As-of semantics): a quarter's data holds its own and earlier quarters only,
the settlements as known after it (`*_as_of` tables) and the register rows dated on or before it. So the
same quarter read later, after more quarters were loaded, gives the same data, and the fingerprint of that
data (`content_fingerprint`) says exactly when its reports must be rendered again.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd

from cohaesie_pipeline.quarters import Quarter

PROGRAM_ORDER = ["DM2", "CVRM", "COPD", "ASTMA"]
PROGRAM_NAMES = {"DM2": "Diabetes mellitus type 2", "CVRM": "Cardiovasculair risicomanagement",
                 "COPD": "COPD", "ASTMA": "Astma"}


@dataclass
class QuarterData:
    quarter: Quarter
    practices: pd.DataFrame  # practice_agb, practice_name, gp_group, place
    indicators: pd.DataFrame  # practice_indicators, last 8 quarters up to this one
    coverage: pd.DataFrame  # practice_coverage, last 8 quarters
    classification: pd.DataFrame  # this quarter and the one before
    trajectories: pd.DataFrame  # this quarter
    settlements: pd.DataFrame  # year of the quarter (year to date)
    booking: pd.DataFrame  # every year settled as of this quarter and as of the one before: what to book now
    settlement_detail: pd.DataFrame
    reserve: pd.DataFrame
    rounding: pd.DataFrame  # where the GP rows differ from the practice total by a cent
    insurers: pd.DataFrame  # the year's settlement per practice x program x insurer, as of this quarter
    quality: pd.DataFrame  # data_quality_findings, this quarter (per practice: the practice's own report)
    changes: pd.DataFrame  # report_practice_changes, this quarter: "Wat is veranderd"
    # shown across practices: the board's tables as the report layer stores them, disclosure applied
    board_overview: pd.DataFrame
    board_indicators: pd.DataFrame
    board_coverage: pd.DataFrame
    board_quality: pd.DataFrame
    visits: pd.DataFrame
    steps: pd.DataFrame
    holders: pd.DataFrame
    deliveries: pd.DataFrame
    references: pd.DataFrame
    fingerprint: str = ""  # of the frames above: set by load_quarter
    extra: dict = field(default_factory=dict)

    @property
    def q(self) -> str:
        return str(self.quarter)

    def quarters(self) -> list[str]:
        return sorted(self.indicators.quarter.unique())


def _q(con, sql: str, params=None) -> pd.DataFrame:
    # a fixed row order: the same data must draw the same report, whatever order DuckDB returns rows in
    if "order by" not in sql.lower():
        sql += " order by all"
    return con.execute(sql, params or []).df()


def load_quarter(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> QuarterData:
    q = str(quarter)
    first = str(quarter - 7)
    qs = [q, str(quarter - 1)]
    peil, last_day = quarter.peildatum, quarter.last_day
    data = QuarterData(
        quarter=quarter,
        practices=_q(con, "select * from marts.report_practices order by practice_name"),
        indicators=_q(con, "select * from marts.practice_indicators where quarter between ? and ?", [first, q]),
        coverage=_q(con, "select * from marts.practice_coverage where quarter between ? and ?", [first, q]),
        classification=_q(con, "select * from marts.practice_classification where quarter in (?, ?)", qs),
        trajectories=_q(con, "select * from marts.policy_trajectories where quarter = ?", [q]),
        settlements=_q(con, "select * from marts.settlements_as_of where as_of_quarter = ? and year = ?",
                       [q, quarter.year]),
        # applied money as known now against as known a quarter ago, per GP row: booking each quarter's
        # difference books every euro once (a Q1 also books the previous year's final settlement)
        booking=_q(con, """with now as (select * from marts.settlements_as_of where as_of_quarter = ?),
                                before as (select * from marts.settlements_as_of where as_of_quarter = ?)
                           select coalesce(n.year, b.year) as year,
                                  coalesce(n.practice_agb, b.practice_agb) as practice_agb,
                                  coalesce(n.huisarts_agb, b.huisarts_agb) as huisarts_agb,
                                  coalesce(n.huisarts_naam, b.huisarts_naam) as huisarts_naam,
                                  coalesce(n.program, b.program) as program,
                                  coalesce(case when n.applied then n.settlement_amount end, 0) as booked_now,
                                  coalesce(case when b.applied then b.settlement_amount end, 0) as booked_before,
                                  coalesce(n.settlement_amount, 0) as settlement_now, n.settlement_status,
                                  n.status_reason
                           from now as n full outer join before as b
                               using (year, practice_agb, huisarts_agb, program)
                           order by all""", [q, str(quarter - 1)]),
        settlement_detail=_q(con, """select * from marts.settlement_quarter_detail_as_of
                                     where as_of_quarter = ? and year = ?""", [q, quarter.year]),
        reserve=_q(con, "select * from marts.settlement_reserve_as_of where as_of_quarter = ? and year = ?",
                   [q, quarter.year]),
        rounding=_q(con, "select * from marts.settlement_rounding_as_of where as_of_quarter = ? and year = ?",
                    [q, quarter.year]),
        insurers=_q(con, """select * from marts.settlement_by_insurer_as_of where as_of_quarter = ? and year = ?
                            order by practice_agb, program, insurer_uzovi""", [q, quarter.year]),
        quality=_q(con, "select * from marts.data_quality_findings where quarter = ?", [q]),
        changes=_q(con, "select * from marts.report_practice_changes where quarter = ?", [q]),
        board_overview=_q(con, "select * from marts.report_board_overview where quarter = ?", [q]),
        board_indicators=_q(con, "select * from marts.report_board_key_indicators where quarter = ?", [q]),
        board_coverage=_q(con, "select * from marts.report_board_coverage where quarter = ?", [q]),
        board_quality=_q(con, "select * from marts.report_board_data_quality where quarter = ?", [q]),
        visits=_q(con, "select * from marts.report_practice_visits where visited_on < ?", [peil]),
        # a confirmation sent after the peildatum did not exist yet (policy/trajectory.register_as_of)
        steps=_q(con, """select * replace (case when confirmed_on <= ? then confirmed_on end as confirmed_on)
                         from marts.report_improvement_steps where step_date <= ?""", [peil, peil]),
        # the holders as seen on the quarter's last day: a later end date is not known yet
        holders=_q(con, """select * replace (case when held_until < ? then held_until end as held_until)
                           from marts.report_practice_holders where held_from <= ?""", [last_day, last_day]),
        deliveries=_q(con, """select quarter, file_kind, file_name, content_sha256, encoding, rows_read, rows_loaded
                              from marts.report_deliveries where quarter = ?""", [q]),
        references=_q(con, """select distinct indicator_code, national_year, national_source, national_is_placeholder,
                                     reference_kind, reference_year, reference_quarter, reference_source,
                                     reference_is_placeholder, reference_latest_available
                              from marts.practice_indicators where quarter = ?""", [q]),
    )
    data.fingerprint = content_fingerprint(data)
    return data


def _frame_digest(df: pd.DataFrame) -> bytes:
    """Order-independent digest of a frame's columns and rows (SQL without ORDER BY may return any order)."""
    rows = pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy()
    rows.sort()
    return hashlib.sha256(",".join(map(str, df.columns)).encode() + rows.tobytes()).digest()


def content_fingerprint(data: QuarterData) -> str:
    h = hashlib.sha256(str(data.quarter).encode())
    for f in fields(QuarterData):
        value = getattr(data, f.name)
        if isinstance(value, pd.DataFrame):
            h.update(f.name.encode() + _frame_digest(value))
    return "sha256:" + h.hexdigest()[:16]


def exact_sum(values) -> Decimal:
    """Money summed exactly: each value through its text into a Decimal, never added as floats; missing values
    skipped."""
    return sum((Decimal(str(v)) for v in values if not pd.isna(v)), Decimal(0))


def money_by_practice_program(settlements: pd.DataFrame) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """Per (practice_agb, program): the year's settlement so far, (potential, applied), in exact decimals. The
    board's decision page and the practice report show the same two numbers."""
    out: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for agb, program, amount, applied in zip(settlements.practice_agb, settlements.program,
                                             settlements.settlement_amount, settlements.applied):
        amount = Decimal(str(amount))
        pot, app = out.get((agb, program), (Decimal(0), Decimal(0)))
        out[(agb, program)] = (pot + amount, app + (amount if applied else Decimal(0)))
    return out


def gp_names_on(holders: pd.DataFrame, practice_agb: str, day: date) -> list[str]:
    h = holders[(holders.practice_agb == practice_agb) & (pd.to_datetime(holders.held_from) <= pd.Timestamp(day))
                & (holders.held_until.isna() | (pd.to_datetime(holders.held_until) >= pd.Timestamp(day)))]
    return sorted(h.gp_name)
