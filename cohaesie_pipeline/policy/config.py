"""The one versioned policy config. Loaded from the shipped `policy.yaml` or `COHAESIE_POLICY`, validated
so a bad value stops the pipeline with a message naming the key, and hashed so every row records the
exact parameters it was computed with."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import yaml

from cohaesie_pipeline.paths import PACKAGE_DIR

DEFAULT_POLICY_PATH = PACKAGE_DIR / "policy.yaml"


# praktijkbezoeken.soort (DATA-CONTRACT.md)
VISIT_KINDS = ("kwartaalbezoek", "jaargesprek", "verbetergesprek", "functioneringsgesprek", "overig")
# what the 20% rule compares with (RULES.md, Reference after InEen)
REFERENCE_KINDS = ("national_latest", "care_group_previous_year", "targets")


class PolicyConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Policy:
    version: str
    window_months: int
    lag_threshold: float
    min_denominator: int
    grace_months: int
    coverage_norm: float
    care_rule: str
    min_lagging_key_indicators: int
    min_visits_12m: int
    visit_kinds_counted: tuple[str, ...]
    min_improvement_pp: float
    first_talk_months: int
    confirmation_days: int
    intensive_months: int
    final_months: int
    substantial_improvement_pp: float
    suppress_below: int
    planned_visits_per_year: int
    notable_change_pp: float
    notable_coverage_change_pp: float
    reference_kind: str = "national_latest"
    source: str = ""

    @cached_property  # asked for on every row written; the dataclass is frozen, so it never goes stale
    def hash(self) -> str:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "source"}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        return f"{self.version}+{self.hash}"

    def dbt_vars(self) -> dict:
        return {
            "policy_version": self.label,
            "window_months": self.window_months,
            "lag_threshold": self.lag_threshold,
            "min_denominator": self.min_denominator,
            "grace_months": self.grace_months,
            "coverage_norm": self.coverage_norm,
            "care_rule": self.care_rule,
            "reference_kind": self.reference_kind,
            # the report layer (marts.report_*): disclosure and what a practice report calls a change
            "suppress_below": self.suppress_below,
            "notable_change_pp": self.notable_change_pp,
            "notable_coverage_change_pp": self.notable_coverage_change_pp,
        }


# (section, key, field, type, check, explanation); a key in _OPTIONAL may be left out of the file
_SPEC = [
    ("indicators", "window_months", "window_months", int, lambda v: 1 <= v <= 60, "a whole number of months, 1-60"),
    ("indicators", "lag_threshold", "lag_threshold", float, lambda v: 0 < v < 1, "a fraction between 0 and 1, e.g. 0.20"),
    ("indicators", "min_denominator", "min_denominator", int, lambda v: v >= 1, "a whole number >= 1"),
    ("coverage", "grace_months", "grace_months", int, lambda v: 0 <= v <= 12, "a whole number of months, 0-12"),
    ("coverage", "coverage_norm", "coverage_norm", float, lambda v: 0 < v <= 1, "a fraction between 0 and 1, e.g. 0.90"),
    ("coverage", "care_rule", "care_rule", str, lambda v: v in ("any", "all"), "'any' or 'all'"),
    ("classification", "min_lagging_key_indicators", "min_lagging_key_indicators", int, lambda v: v >= 1,
     "a whole number >= 1"),
    ("classification", "min_visits_12m", "min_visits_12m", int, lambda v: v >= 0, "a whole number >= 0"),
    ("classification", "visit_kinds_counted", "visit_kinds_counted", tuple,
     lambda v: len(v) > 0 and set(v) <= set(VISIT_KINDS) and len(set(v)) == len(v),
     f"a list of visit kinds from {', '.join(VISIT_KINDS)}, each once"),
    ("classification", "min_improvement_pp", "min_improvement_pp", float, lambda v: 0 <= v <= 100,
     "percentage points, 0-100"),
    ("trajectory", "first_talk_months", "first_talk_months", int, lambda v: 1 <= v <= 24, "months, 1-24"),
    ("trajectory", "confirmation_days", "confirmation_days", int, lambda v: 1 <= v <= 90, "days, 1-90"),
    ("trajectory", "intensive_months", "intensive_months", int, lambda v: 1 <= v <= 24, "months, 1-24"),
    ("trajectory", "final_months", "final_months", int, lambda v: 1 <= v <= 24, "months, 1-24"),
    ("trajectory", "substantial_improvement_pp", "substantial_improvement_pp", float, lambda v: 0 <= v <= 100,
     "percentage points, 0-100"),
    ("disclosure", "suppress_below", "suppress_below", int, lambda v: 1 <= v <= 100, "a whole number, 1-100"),
    ("reports", "notable_change_pp", "notable_change_pp", float, lambda v: 0 <= v <= 100, "percentage points, 0-100"),
    ("reports", "notable_coverage_change_pp", "notable_coverage_change_pp", float, lambda v: 0 <= v <= 100,
     "percentage points, 0-100"),
    ("visits", "planned_per_year", "planned_visits_per_year", int, lambda v: 0 <= v <= 52, "a whole number, 0-52"),
    ("reference", "kind", "reference_kind", str, lambda v: v in REFERENCE_KINDS, f"one of {', '.join(REFERENCE_KINDS)}"),
]
# a policy written before InEen stopped has no `reference` section: it meant the national average
_OPTIONAL = {("reference", "kind")}


def _coerce(value, typ):
    if typ is tuple:  # a YAML list of strings
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError
        return tuple(value)
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typ is int and isinstance(value, bool):
        raise TypeError
    if not isinstance(value, typ):
        raise TypeError
    return value


def load_policy(path: str | Path | None = None) -> Policy:
    path = Path(path or os.environ.get("COHAESIE_POLICY") or DEFAULT_POLICY_PATH)
    if not path.exists():
        raise PolicyConfigError(f"policy config {path} does not exist (set COHAESIE_POLICY to a policy.yaml)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PolicyConfigError(f"policy config {path} is not valid YAML: {exc}") from exc
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        raise PolicyConfigError(f"policy config {path}: 'version' must be a non-empty string, e.g. \"2025.1\"")
    values = {}
    for section, key, field, typ, check, expected in _SPEC:
        where = f"{section}.{key}"
        if not isinstance(raw.get(section), dict) or key not in raw[section]:
            if (section, key) in _OPTIONAL:
                continue
            raise PolicyConfigError(f"policy config {path}: '{where}' is missing (expected {expected})")
        value = raw[section][key]
        try:
            value = _coerce(value, typ)
            ok = check(value)
        except TypeError:
            ok = False
        if not ok:
            raise PolicyConfigError(f"policy config {path}: '{where}' = {value!r} is invalid (expected {expected})")
        values[field] = value
    return Policy(version=version.strip(), source=str(path), **values)
