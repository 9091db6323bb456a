"""Draft letters for trajectory events that need one: the written confirmation of a binding improvement talk
(step 1) or a performance talk (3B), due within two weeks, and the compliment letter (3A)."""
from __future__ import annotations

import os
from datetime import date

import pandas as pd

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.policy.trajectory import register_as_of
from cohaesie_pipeline.policy.wording import Wording, reference_label_of
from cohaesie_pipeline.quarters import Quarter, add_months
from cohaesie_pipeline.reports import format as f
from cohaesie_pipeline.reports.data import QuarterData, gp_names_on

SUBJECTS = {
    "1_bindend_verbetergesprek": "Bevestiging afspraken bindend verbetergesprek",
    "3b_functioneringsgesprek": "Bevestiging afspraken functioneringsgesprek",
    "3a_compliment": "Compliment voor de bereikte verbetering",
}


def letter_events(data: QuarterData) -> pd.DataFrame:
    """Letters due as of the peildatum: the confirmation of a talk (step 1, 3B) not yet confirmed
    (`bevestigd_op` empty), and a compliment (3A) of the last quarter whose letter is not recorded as sent.
    A talk already confirmed gets no draft: its letter went out."""
    peil = data.quarter.peildatum
    steps = data.steps.copy()
    for c in ("step_date", "confirmed_on"):
        steps[c] = pd.to_datetime(steps[c]).dt.date
        steps[c] = steps[c].astype(object).where(steps[c].notna(), None)
    reg = register_as_of(steps, peil)
    if reg.empty:
        return reg
    relevant = reg[reg.step.isin(SUBJECTS) & reg.confirmed_on.isna()]
    talk = relevant.step.isin(["1_bindend_verbetergesprek", "3b_functioneringsgesprek"])
    recent_compliment = (relevant.step == "3a_compliment") & (relevant.step_date >= add_months(peil, -3))
    return relevant[talk | recent_compliment].sort_values(["practice_agb", "program", "step_date"])


# a program as it reads inside a Dutch sentence ("patiënten met COPD", not "copd")
PROGRAM_IN_TEXT = {"DM2": "diabetes mellitus type 2", "CVRM": "cardiovasculair risicomanagement", "COPD": "COPD",
                   "ASTMA": "astma"}


def sender_place() -> str:
    """Where Cohaesie writes from (the date line is the sender's, not the recipient's town)."""
    return os.environ.get("COHAESIE_SENDER_PLACE", "Venlo")


def salutation(names: list[str]) -> str:
    """'Geachte collega Janssen' / 'Geachte collega's Jacobs en Ramaekers': GPs are written to as colleagues,
    by surname (the register holds initials and surname, no title or gender)."""
    surnames = [n.split(". ")[-1] if ". " in n else n for n in names]
    if len(surnames) == 1:
        return f"Geachte collega {surnames[0]}"
    return f"Geachte collega's {', '.join(surnames[:-1])} en {surnames[-1]}"


def targets(data: QuarterData, event, policy: Policy) -> list[str]:
    """The measurable targets of a talk: the key indicators lagging in the quarter of the talk, each with its
    rate then, the national average and the limit it has to reach, or the improvement that counts."""
    ref = str(Quarter.of(event.step_date))
    ind = data.indicators
    rows = ind[(ind.quarter == ref) & (ind.practice_agb == event.practice_agb) & (ind.program == event.program)
               & ind.is_key & ind.lagging.fillna(False).astype(bool)]
    rule = Wording.of(policy)
    return [f"{r.indicator_name}: {f.pct(r.rate)} in {ref} ({reference_label_of(r)}: {f.pct(r.reference_rate)}); "
            f"doel minstens {f.pct(r.lag_limit)}, of gemiddeld {rule.substantial_improvement} "
            f"verbetering" for r in rows.sort_values("sort_order").itertuples()]


def letter_context(data: QuarterData, event, produced: date, policy: Policy, fingerprint: str = "") -> dict:
    p = data.practices.set_index("practice_agb").loc[event.practice_agb]
    gps = gp_names_on(data.holders, event.practice_agb, event.step_date) or ["de praktijkhouder"]
    program = PROGRAM_IN_TEXT.get(event.program, event.program)
    when = f.datum_lang(event.step_date)
    goals, evaluation = [], None
    if event.step == "3a_compliment":
        paragraphs = [
            f"Graag complimenteren wij u met de verbetering die uw praktijk heeft bereikt in de zorg voor patiënten "
            f"met {program}. Na het verbetertraject liggen de kernindicatoren weer op of dichter bij het "
            f"landelijk gemiddelde.",
            "Het bestuur van Cohaesie is hierover geïnformeerd. Wij blijven u graag ondersteunen tijdens de "
            "kwartaalbezoeken van de consulent chronische zorg.",
        ]
    else:
        talk = "het bindend verbetergesprek" if event.step.startswith("1_") else "het functioneringsgesprek"
        rule = Wording.of(policy)
        term = rule.intensive if event.step.startswith("1_") else rule.final
        months = policy.intensive_months if event.step.startswith("1_") else policy.final_months
        evaluation = f.datum_lang(add_months(event.step_date, months))
        goals = targets(data, event, policy)
        paragraphs = [
            f"Op {when} voerden wij met u {talk} over de zorg voor patiënten met {program} in uw praktijk. "
            f"Met deze brief bevestigen wij, zoals het beleid minder presterende praktijken voorschrijft, schriftelijk "
            f"de afspraken die wij samen hebben gemaakt.",
            f"U werkt de komende {term} aan deze afspraken; de projectleider chronische zorg bewaakt de voortgang en "
            f"heeft periodiek contact met uw praktijk. Daarna evalueren wij samen de resultaten.",
        ]
        if event.step.startswith("3b_"):
            paragraphs.append("Cohaesie gaat ervan uit dat dit de laatst benodigde stap is. Blijft de afgesproken "
                              "verbetering uit, dan volgt een financiële verrekening conform artikel 4.17 van het contract.")
    agreements = [a.strip() for a in str(event.agreements or "").split(";") if a.strip()]
    return {
        "title": SUBJECTS[event.step], "quarter": data.q, "header_left": "Cohaesie · concept-brief",
        "header_right": p.practice_name, "gp": ", ".join(gps),
        "practice": p.practice_name, "place": p.place or "", "today": f.datum_lang(produced),
        "sender_place": sender_place(), "salutation": salutation(gps) if gps != ["de praktijkhouder"] else "Geachte collega",
        "goals": goals, "evaluation": evaluation,
        "subject": f"{SUBJECTS[event.step]} ({event.program})", "paragraphs": paragraphs,
        "agreements": agreements, "reference": f"{event.practice_agb}-{event.program}-{event.step[:2].rstrip('_')}-"
        f"{event.step_date:%Y%m%d}", "program": event.program, "step_nl": f.STEP_NL[event.step],
        "step_date": f.datum(event.step_date), "fingerprint": fingerprint,
    }


def letter_filename(event) -> str:
    return f"{event.practice_agb}_{event.program}_{event.step}_{event.step_date:%Y-%m-%d}.pdf"
