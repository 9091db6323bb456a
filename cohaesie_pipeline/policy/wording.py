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


@dataclass(frozen=True)
class Wording:
    """The policy's numbers as report text; templates receive it as `rule`."""
    norm: str               # "90%"
    norm_label: str         # "90%-norm"
    lag: str                # "20%"
    lag_rule: str           # "meer dan 20% onder het landelijk gemiddelde"
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

    @classmethod
    def of(cls, policy: Policy) -> Wording:
        return cls(
            norm=percent(policy.coverage_norm), norm_label=f"{percent(policy.coverage_norm)}-norm",
            lag=percent(policy.lag_threshold),
            lag_rule=f"meer dan {percent(policy.lag_threshold)} onder het landelijk gemiddelde",
            min_denominator=policy.min_denominator, grace=months(policy.grace_months),
            window=months(policy.window_months), intensive=months(policy.intensive_months),
            final=months(policy.final_months), first_talk=months(policy.first_talk_months),
            confirmation=days(policy.confirmation_days), min_improvement=points(policy.min_improvement_pp),
            substantial_improvement=points(policy.substantial_improvement_pp),
            care_rule=("minstens één kernmeting in de periode" if policy.care_rule == "any"
                       else "alle kernmetingen, elk in de periode van zijn indicator"),
            suppress_below=policy.suppress_below, planned_visits_per_year=policy.planned_visits_per_year)
