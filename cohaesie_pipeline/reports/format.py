"""Dutch number, date and label formatting for the reports."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pandas as pd

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december"]
STATUS_NL = {"no_data": "geen gegevens", "on_track": "op koers", "watch": "aandacht", "lagging_no_visits":
             "achter, nog geen bezoeken", "improving": "achter, verbetert", "underperformer": "minder presterend"}
LIGHT_LABEL = {"groen": "op koers", "oranje": "aandacht", "rood": "achter", "grijs": "geen gegevens"}
STEP_NL = {"1_bindend_verbetergesprek": "1 bindend verbetergesprek", "2_intensief_traject": "2 intensief traject",
           "3a_compliment": "3A compliment", "3b_functioneringsgesprek": "3B functioneringsgesprek",
           "4_financiele_verrekening": "4 financiële verrekening"}
ACTION_NL = {"bevestiging_versturen": "bevestiging versturen", "evaluatie": "evaluatie",
             "3a_compliment": "complimentenbrief (3A)", "3b_functioneringsgesprek": "functioneringsgesprek (3B)",
             "4_financiele_verrekening": "financiële verrekening (4)",
             "1_bindend_verbetergesprek": "bindend verbetergesprek (1)", "gegevens_controleren": "gegevens controleren",
             "geen": "geen"}


def missing(v) -> bool:
    """None, NaN, or pandas' NA/NaT: what an empty cell of a mart reads as."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def pct(v, decimals: int = 1) -> str:
    if missing(v):
        return "–"
    return f"{100 * float(v):.{decimals}f}%".replace(".", ",")


def pp(v, decimals: int = 1) -> str:
    """A difference of two fractions, in percentage points with a sign."""
    if missing(v):
        return "–"
    text = f"{100 * float(v):+.{decimals}f}"
    if float(text) == 0:  # -0,0 and +0,0 are no difference
        return f"{0:.{decimals}f} pp".replace(".", ",")
    return f"{text} pp".replace(".", ",").replace("-", "−")


def num(v) -> str:
    if missing(v):
        return "–"
    return f"{int(v):,}".replace(",", ".")


def euro(v) -> str:
    if missing(v):
        return "–"
    d = Decimal(str(v)).quantize(Decimal("0.01"))
    sign = "−" if d < 0 else ""
    whole, cents = f"{abs(d):.2f}".split(".")
    # a no-break space: "€" never ends a line with its amount on the next
    return f"{sign}€\u00a0{int(whole):,}".replace(",", ".") + f",{cents}"


def datum(d) -> str:
    if missing(d) or d is None:
        return "–"
    if hasattr(d, "date") and not isinstance(d, date):
        d = d.date()
    return d.strftime("%d-%m-%Y")


def datum_lang(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def shown(value, mark, fmt=num) -> str:
    """A cell of a table shown across practices, as the report layer stores it: its mark ('<10', '–') where the
    disclosure rule hid it, else the value formatted."""
    return mark if isinstance(mark, str) and mark else fmt(value)


def period(quarters: list[str]) -> str:
    """The span of a trend chart, e.g. '2023Q1 t/m 2024Q4'."""
    return f"{quarters[0]} t/m {quarters[-1]}" if quarters else ""
