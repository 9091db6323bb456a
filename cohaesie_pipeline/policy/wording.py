"""The one place where policy numbers become Dutch words. Every report, letter and workbook text that names a
rule ("de norm van 90%", "meer dan 20% onder het landelijk gemiddelde", "de komende zes maanden") takes it from
here, so a changed `policy.yaml` changes every text with it and no template types a policy number."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cohaesie_pipeline.policy.config import Policy

_WORDS = {1: "één", 2: "twee", 3: "drie", 4: "vier", 5: "vijf", 6: "zes", 7: "zeven", 8: "acht", 9: "negen",
          10: "tien", 11: "elf", 12: "twaalf"}


def percent(fraction: float) -> str:
    """0.9 -> '90%', 0.875 -> '87,5%': as many decimals as the policy value has, never rounded away."""
    text = format((Decimal(str(fraction)) * 100).normalize(), "f")
    return text.replace(".", ",") + "%"


def points(value: float) -> str:
    """Percentage points: 5 -> '5 procentpunt', 7.5 -> '7,5 procentpunt'."""
    return format(Decimal(str(value)).normalize(), "f").replace(".", ",") + " procentpunt"


def months(n: int) -> str:
    """6 -> 'zes maanden', 1 -> 'één maand', 18 -> '18 maanden'."""
    word = _WORDS.get(n, str(n))
    return f"{word} {'maand' if n == 1 else 'maanden'}"


def days(n: int) -> str:
    return f"{n} {'dag' if n == 1 else 'dagen'}"


# what the 20% rule compares with, as a noun (RULES.md, Reference after InEen)
REFERENCE_NOUN = {"national_latest": "het landelijk gemiddelde",
                  "care_group_previous_year": "het zorggroepgemiddelde van een jaar eerder",
                  "targets": "de streefwaarde"}
LATEST_AVAILABLE = "laatst beschikbaar"


def reference_label(kind: str, year, quarter=None, latest_available: bool = False) -> str:
    """The reference printed beside a comparison: 'landelijk 2024, laatst beschikbaar', 'landelijk 2023',
    'zorggroep 2024Q3', 'streefwaarde 2025'; '' when there is no reference value."""
    if year is None or year != year:  # None or NaN
        return ""
    if kind == "care_group_previous_year":
        return f"zorggroep {quarter}"
    if kind == "targets":
        return f"streefwaarde {int(year)}"
    return f"landelijk {int(year)}" + (f", {LATEST_AVAILABLE}" if latest_available else "")


def reference_label_of(row) -> str:
    """reference_label from a practice_indicators row (a dict or a namedtuple)."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k, None))
    return reference_label(get("reference_kind"), get("reference_year"), get("reference_quarter"),
                           bool(get("reference_latest_available")))


def most_common_label(rows) -> str:
    """The reference most rows of a table compare with (a column header says it once); '' when none has one."""
    labels = [x for x in (reference_label_of(r) for r in rows) if x]
    return max(set(labels), key=labels.count) if labels else ""


@dataclass(frozen=True)
class Wording:
    """The policy's numbers as report text; templates receive it as `rule`."""
    norm: str               # "90%"
    norm_label: str         # "90%-norm"
    lag: str                # "20%"
    lag_rule: str           # "meer dan 20% onder het landelijk gemiddelde"
    reference: str          # "het landelijk gemiddelde" / "de streefwaarde" / ...
    min_denominator: int
    grace: str              # "drie maanden"
    window: str             # "12 maanden" / "twaalf maanden"
    intensive: str          # "zes maanden"
    final: str              # "drie maanden"
    first_talk: str
    confirmation: str       # "14 dagen"
    min_improvement: str    # "5 procentpunt"
    substantial_improvement: str
    care_rule: str
    suppress_below: int
    planned_visits_per_year: int
    notable_change: str     # "5 procentpunt": what "Wat is veranderd" lists at least

    @classmethod
    def of(cls, policy: Policy) -> Wording:
        return cls(
            norm=percent(policy.coverage_norm), norm_label=f"{percent(policy.coverage_norm)}-norm",
            lag=percent(policy.lag_threshold),
            lag_rule=f"meer dan {percent(policy.lag_threshold)} onder {REFERENCE_NOUN[policy.reference_kind]}",
            reference=REFERENCE_NOUN[policy.reference_kind],
            min_denominator=policy.min_denominator, grace=months(policy.grace_months),
            window=months(policy.window_months), intensive=months(policy.intensive_months),
            final=months(policy.final_months), first_talk=months(policy.first_talk_months),
            confirmation=days(policy.confirmation_days), min_improvement=points(policy.min_improvement_pp),
            substantial_improvement=points(policy.substantial_improvement_pp),
            care_rule=("minstens één kernmeting in de periode" if policy.care_rule == "any"
                       else "alle kernmetingen, elk in de periode van zijn indicator"),
            suppress_below=policy.suppress_below, planned_visits_per_year=policy.planned_visits_per_year,
            notable_change=points(policy.notable_change_pp))
