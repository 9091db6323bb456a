"""Dutch number, date and label formatting for the reports, and small-count suppression."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december"]
STATUS_NL = {"no_data": "geen gegevens", "on_track": "op koers", "watch": "aandacht", "lagging_no_visits":
             "achter, nog geen bezoeken", "improving": "achter, verbetert", "underperformer": "minder presterend"}
LIGHT = {"no_data": "grijs", "on_track": "groen", "watch": "oranje", "improving": "oranje",
         "lagging_no_visits": "rood", "underperformer": "rood"}
LIGHT_LABEL = {"groen": "op koers", "oranje": "aandacht", "rood": "achter", "grijs": "geen gegevens"}
STEP_NL = {"1_bindend_verbetergesprek": "1 bindend verbetergesprek", "2_intensief_traject": "2 intensief traject",
           "3a_compliment": "3A compliment", "3b_functioneringsgesprek": "3B functioneringsgesprek",
           "4_financiele_verrekening": "4 financiële verrekening"}
ACTION_NL = {"bevestiging_versturen": "bevestiging versturen", "evaluatie": "evaluatie",
             "3a_compliment": "complimentenbrief (3A)", "3b_functioneringsgesprek": "functioneringsgesprek (3B)",
             "4_financiele_verrekening": "financiële verrekening (4)",
             "1_bindend_verbetergesprek": "bindend verbetergesprek (1)", "geen": "geen"}


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def pct(v, decimals: int = 1) -> str:
    if _missing(v):
        return "–"
    return f"{100 * float(v):.{decimals}f}%".replace(".", ",")


def pp(v, decimals: int = 1) -> str:
    """A difference of two fractions, in percentage points with a sign."""
    if _missing(v):
        return "–"
    return f"{100 * float(v):+.{decimals}f} pp".replace(".", ",").replace("-", "−")


def num(v) -> str:
    if _missing(v):
        return "–"
    return f"{int(v):,}".replace(",", ".")


def euro(v) -> str:
    if _missing(v):
        return "–"
    d = Decimal(str(v)).quantize(Decimal("0.01"))
    sign = "−" if d < 0 else ""
    whole, cents = f"{abs(d):.2f}".split(".")
    return f"{sign}€ {int(whole):,}".replace(",", ".") + f",{cents}"


def datum(d) -> str:
    if _missing(d) or d is None:
        return "–"
    if hasattr(d, "date") and not isinstance(d, date):
        d = d.date()
    return d.strftime("%d-%m-%Y")


def datum_lang(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def suppress_count(n, threshold: int) -> str:
    """Counts from 1 to threshold-1 are shown as '<threshold' in anything shown across practices."""
    if _missing(n):
        return "–"
    n = int(n)
    return f"<{threshold}" if 0 < n < threshold else num(n)


def is_suppressed(n, threshold: int) -> bool:
    return not _missing(n) and 0 < int(n) < threshold
