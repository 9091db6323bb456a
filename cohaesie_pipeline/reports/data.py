"""Everything the reports show, read once per quarter from the warehouse (read-only) into plain Python
structures that can be handed to worker processes. No patient-level rows leave this module: only counts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

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
    settlement_detail: pd.DataFrame
    reserve: pd.DataFrame
    quality: pd.DataFrame  # data_quality_findings, this quarter
    visits: pd.DataFrame
    steps: pd.DataFrame
    holders: pd.DataFrame
    deliveries: pd.DataFrame
    national_sources: pd.DataFrame
    extra: dict = field(default_factory=dict)

    @property
    def q(self) -> str:
        return str(self.quarter)

    def quarters(self) -> list[str]:
        return sorted(self.indicators.quarter.unique())


def _q(con, sql: str, params=None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def load_quarter(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> QuarterData:
    q = str(quarter)
    first = str(quarter - 7)
    qs = [q, str(quarter - 1)]
    return QuarterData(
        quarter=quarter,
        practices=_q(con, "select * from staging.stg_practices order by practice_name"),
        indicators=_q(con, "select * from marts.practice_indicators where quarter between ? and ?", [first, q]),
        coverage=_q(con, "select * from marts.practice_coverage where quarter between ? and ?", [first, q]),
        classification=_q(con, "select * from marts.practice_classification where quarter in (?, ?)", qs),
        trajectories=_q(con, "select * from marts.policy_trajectories where quarter = ?", [q]),
        settlements=_q(con, "select * from marts.settlements where year = ?", [quarter.year]),
        settlement_detail=_q(con, "select * from marts.settlement_quarter_detail where year = ?", [quarter.year]),
        reserve=_q(con, "select * from marts.settlement_reserve where year = ?", [quarter.year]),
        quality=_q(con, "select * from marts.data_quality_findings where quarter = ?", [q]),
        visits=_q(con, "select * from staging.stg_practice_visits"),
        steps=_q(con, "select * from staging.stg_improvement_steps"),
        holders=_q(con, "select * from staging.stg_practice_holders"),
        deliveries=_q(con, "select * from staging.stg_deliveries where quarter = ?", [q]),
        national_sources=_q(con, """select distinct indicator_code, national_year, national_source
                                    from marts.practice_indicators where quarter = ?""", [q]),
    )


def gp_names_on(holders: pd.DataFrame, practice_agb: str, day: date) -> list[str]:
    h = holders[(holders.practice_agb == practice_agb) & (pd.to_datetime(holders.held_from) <= pd.Timestamp(day))
                & (holders.held_until.isna() | (pd.to_datetime(holders.held_until) >= pd.Timestamp(day)))]
    return sorted(h.gp_name)
