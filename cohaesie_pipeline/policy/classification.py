"""Rule: classification of a practice-program in a quarter (RULES.md, Classification).

Statuses, first match wins: no_data, on_track, watch, lagging_no_visits, improving, underperformer.
Inputs are the indicator mart rows of the quarter and of the quarter a year earlier, and the visits register.
"""
from __future__ import annotations

import json
from datetime import date
from fractions import Fraction

import pandas as pd

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.policy.wording import reference_label_of
from cohaesie_pipeline.quarters import Quarter, add_months

STATUSES = ("no_data", "on_track", "watch", "lagging_no_visits", "improving", "underperformer")
LAGGING_STATUSES = ("watch", "lagging_no_visits", "improving", "underperformer")

COLUMNS = ["quarter", "peildatum", "practice_agb", "program", "status", "is_lagging", "lagging_key_indicators",
           "n_lagging_key_indicators", "lagging_details", "lagging_year_earlier", "improvement_pp", "visits_12m",
           "policy_version"]

# The practice report's traffic light per status (the care group's colours: green on track, orange attention,
# red behind for a year), and the one override: money is at stake below the coverage norm, so on track on the
# indicators is not green there (issue 13).
TRAFFIC_LIGHT = {"no_data": "grijs", "on_track": "groen", "watch": "oranje", "improving": "oranje",
                 "lagging_no_visits": "rood", "underperformer": "rood"}


def traffic_light(status: str, meets_norm) -> tuple[str, bool]:
    """(colour, whether the coverage norm changed it): green below the coverage norm becomes orange."""
    light = TRAFFIC_LIGHT[status]
    below = meets_norm is not None and not pd.isna(meets_norm) and not bool(meets_norm)
    if below and light == "groen":
        return "oranje", True
    return light, False


def visits_in_12_months(visits: pd.DataFrame, practice_agb: str, peildatum: date,
                        kinds: tuple[str, ...] | None = None) -> int:
    """Visits in [peildatum - 12 months, peildatum): the 12 months up to the peildatum."""
    return int(_visit_counts(visits, peildatum, kinds).get(practice_agb, 0))


def _visit_counts(visits: pd.DataFrame, peildatum: date, kinds: tuple[str, ...] | None = None) -> dict[str, int]:
    """Visits in the 12 months up to the peildatum, per practice; only of `kinds` when given (the policy's
    visit_kinds_counted: an `overig` contact is not the care group doing its part)."""
    if visits.empty:
        return {}
    start = add_months(peildatum, -12)
    v = visits[(visits.visited_on >= start) & (visits.visited_on < peildatum)]
    if kinds is not None:
        v = v[v.visit_kind.isin(kinds)]
    return v.groupby("practice_agb").size().to_dict()


def exact_rates(rows: pd.DataFrame) -> dict[str, Fraction]:
    """Rates as exact fractions: 100 * (0.60 - 0.54) must be 6 points, not 5.999999999999995."""
    return {code: Fraction(int(n), int(d))
            for code, n, d in zip(rows.indicator_code, rows.numerator, rows.denominator) if d and d > 0}


def _lagging_codes(rows: pd.DataFrame) -> list[str]:
    return sorted(rows.loc[rows.is_key & rows.lagging, "indicator_code"])


def classify_quarter(quarter: Quarter, indicators: pd.DataFrame, year_earlier: pd.DataFrame,
                     visits: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """One row per practice-program in `indicators` (the quarter's practice_indicators rows)."""
    peil = quarter.peildatum
    prev_groups = {k: g for k, g in year_earlier.groupby(["practice_agb", "program"])} if len(year_earlier) else {}
    visit_counts = _visit_counts(visits, peil, policy.visit_kinds_counted)
    out = []
    for (agb, program), rows in indicators.groupby(["practice_agb", "program"], sort=True):
        lagging = _lagging_codes(rows)
        prev = prev_groups.get((agb, program))
        prev_lagging = _lagging_codes(prev) if prev is not None else []
        is_lagging = len(lagging) >= policy.min_lagging_key_indicators
        was_lagging = len(prev_lagging) >= policy.min_lagging_key_indicators
        n_visits = int(visit_counts.get(agb, 0))
        improvement = None
        if is_lagging and prev is not None:
            # over the key indicators lagging a year earlier: the ones the practice had to improve, including
            # those that no longer lag (RULES.md, Classification 5)
            now, before = exact_rates(rows), exact_rates(prev)
            diffs = [100 * (now[c] - before[c]) for c in prev_lagging if c in before and c in now]
            improvement = sum(diffs) / len(diffs) if diffs else None

        if rows.denominator.max() == 0:
            status = "no_data"
        elif not is_lagging:
            status = "on_track"
        elif not was_lagging:
            status = "watch"
        elif n_visits < policy.min_visits_12m:
            status = "lagging_no_visits"
        elif improvement is not None and improvement >= policy.min_improvement_pp:
            status = "improving"
        else:
            status = "underperformer"

        lag_rows = rows[rows.indicator_code.isin(lagging)].sort_values("indicator_code")
        # what the decision rests on: each lagging indicator with the reference it lagged against
        details = [{"indicator_code": r.indicator_code, "rate": round(float(r.rate), 4),
                    "reference_rate": float(r.reference_rate), "lag_limit": round(float(r.lag_limit), 6),
                    "reference": reference_label_of(r)} for r in lag_rows.itertuples()]
        out.append({
            "quarter": str(quarter), "peildatum": peil, "practice_agb": agb, "program": program,
            "status": status, "is_lagging": status in LAGGING_STATUSES,
            "lagging_key_indicators": ",".join(lagging), "n_lagging_key_indicators": len(lagging),
            "lagging_details": json.dumps(details), "lagging_year_earlier": was_lagging,
            "improvement_pp": None if improvement is None else round(float(improvement), 2),
            "visits_12m": n_visits,
            "policy_version": policy.label,
        })
    return pd.DataFrame(out, columns=COLUMNS)
