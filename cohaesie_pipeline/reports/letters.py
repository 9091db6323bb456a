"""Draft letters for trajectory events that need one: the written confirmation of a binding improvement talk
(step 1) or a performance talk (3B), due within two weeks, and the compliment letter (3A)."""
from __future__ import annotations

from datetime import date

import pandas as pd

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.policy.trajectory import register_as_of
from cohaesie_pipeline.policy.wording import Wording
from cohaesie_pipeline.quarters import add_months
from cohaesie_pipeline.reports import format as f
from cohaesie_pipeline.reports.data import PROGRAM_NAMES, QuarterData, gp_names_on

SUBJECTS = {
    "1_bindend_verbetergesprek": "Bevestiging afspraken bindend verbetergesprek",
    "3b_functioneringsgesprek": "Bevestiging afspraken functioneringsgesprek",
    "3a_compliment": "Compliment voor de bereikte verbetering",
}


def letter_events(data: QuarterData) -> pd.DataFrame:
    """Events needing a letter as of the peildatum: talks without a sent confirmation, and steps of the
    last quarter (a confirmation or compliment that may still need its letter on file)."""
    peil = data.quarter.peildatum
    steps = data.steps.copy()
    for c in ("step_date", "confirmed_on"):
        steps[c] = pd.to_datetime(steps[c]).dt.date
        steps[c] = steps[c].astype(object).where(steps[c].notna(), None)
    reg = register_as_of(steps, peil)
    if reg.empty:
        return reg
    relevant = reg[reg.step.isin(SUBJECTS)]
    recent = relevant.step_date >= add_months(peil, -3)
    unconfirmed = relevant.step.isin(["1_bindend_verbetergesprek", "3b_functioneringsgesprek"]) & relevant.confirmed_on.isna()
    return relevant[recent | unconfirmed].sort_values(["practice_agb", "program", "step_date"])


def letter_context(data: QuarterData, event, produced: date, policy: Policy, fingerprint: str = "") -> dict:
    p = data.practices.set_index("practice_agb").loc[event.practice_agb]
    gps = gp_names_on(data.holders, event.practice_agb, event.step_date) or ["de praktijkhouder"]
    program = PROGRAM_NAMES.get(event.program, event.program)
    when = f.datum_lang(event.step_date)
    if event.step == "3a_compliment":
        paragraphs = [
            f"Graag complimenteren wij u met de verbetering die uw praktijk heeft bereikt in de zorg voor patiënten "
            f"met {program.lower()}. Na het verbetertraject liggen de kernindicatoren weer op of dichter bij het "
            f"landelijk gemiddelde.",
            "Het bestuur van Cohaesie is hierover geïnformeerd. Wij blijven u graag ondersteunen tijdens de "
            "kwartaalbezoeken van de consulent chronische zorg.",
        ]
    else:
        talk = "het bindend verbetergesprek" if event.step.startswith("1_") else "het functioneringsgesprek"
        rule = Wording.of(policy)
        term = rule.intensive if event.step.startswith("1_") else rule.final
        paragraphs = [
            f"Op {when} voerden wij met u {talk} over de zorg voor patiënten met {program.lower()} in uw praktijk. "
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
        "header_right": p.practice_name, "gp": ", ".join(gps), "gp_salutation": " en ".join(gps),
        "practice": p.practice_name, "place": p.place or "", "today": f.datum_lang(produced),
        "subject": f"{SUBJECTS[event.step]} ({event.program})", "paragraphs": paragraphs,
        "agreements": agreements, "reference": f"{event.practice_agb}-{event.program}-{event.step[:2].rstrip('_')}-"
        f"{event.step_date:%Y%m%d}", "program": event.program, "step_nl": f.STEP_NL[event.step],
        "step_date": f.datum(event.step_date), "fingerprint": fingerprint,
    }


def letter_filename(event) -> str:
    return f"{event.practice_agb}_{event.program}_{event.step}_{event.step_date:%Y-%m-%d}.pdf"
