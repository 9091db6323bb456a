"""Small hand-made inputs for the policy rules."""
from __future__ import annotations

from datetime import date

import pandas as pd

from cohaesie_pipeline.policy.config import load_policy

POLICY = load_policy()


def indicator_rows(quarter: str, agb: str, rates: dict[str, float], denominator: int = 100, national: float = 0.9,
                   program: str = "DM2", key: bool = True) -> list[dict]:
    """Rows as marts.practice_indicators holds them; lagging computed as the mart does."""
    out = []
    for code, rate in rates.items():
        num = round(rate * denominator)
        out.append({"quarter": quarter, "practice_agb": agb, "program": program, "indicator_code": code,
                    "is_key": key, "numerator": num, "denominator": denominator,
                    "rate": num / denominator if denominator else None, "national_rate": national,
                    "national_year": 2024, "reference_kind": "national_latest", "reference_year": 2024,
                    "reference_quarter": None, "reference_latest_available": False, "reference_rate": national,
                    "lag_limit": national * 0.8,
                    "lagging": key and denominator >= 10 and num < national * 0.8 * denominator})
    return out


def frame(rows: list[dict]) -> pd.DataFrame:
    cols = ["quarter", "practice_agb", "program", "indicator_code", "is_key", "numerator", "denominator", "rate",
            "national_rate", "national_year", "reference_kind", "reference_year", "reference_quarter",
            "reference_latest_available", "reference_rate", "lag_limit", "lagging"]
    return pd.DataFrame(rows, columns=cols)


def visits(*items: tuple[str, date]) -> pd.DataFrame:
    return pd.DataFrame([{"practice_agb": a, "visited_on": d, "visit_kind": "kwartaalbezoek"} for a, d in items],
                        columns=["practice_agb", "visited_on", "visit_kind"])


def steps(*items) -> pd.DataFrame:
    """items: (agb, program, step, date, confirmed_on or None)."""
    return pd.DataFrame([{"practice_agb": a, "program": p, "step": s, "step_date": d, "confirmed_on": c,
                          "agreements": "", "source_line": i + 2} for i, (a, p, s, d, c) in enumerate(items)],
                        columns=["practice_agb", "program", "step", "step_date", "confirmed_on", "agreements",
                                 "source_line"])
