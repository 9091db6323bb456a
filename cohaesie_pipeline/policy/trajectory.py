"""Rule: where each practice-program stands in the underperformer policy as of a quarter, and what is next
(RULES.md, Policy trajectory). The register is read as it was on the peildatum, so a past quarter gives the
same answer whenever it is recomputed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.policy.holders import HolderIndex
from cohaesie_pipeline.policy.wording import Wording
from cohaesie_pipeline.quarters import Quarter, add_months

STEP_ORDER = {"1_bindend_verbetergesprek": 1, "2_intensief_traject": 2, "3a_compliment": 3,
              "3b_functioneringsgesprek": 3, "4_financiele_verrekening": 4}
TALK_NAMES = {"1_bindend_verbetergesprek": "bindend verbetergesprek",
              "3b_functioneringsgesprek": "functioneringsgesprek"}
COLUMNS = ["quarter", "peildatum", "practice_agb", "program", "status", "underperformer_since", "current_step",
           "step_date", "step1_date", "holder_changed_since_step1", "confirmed_on", "next_action", "due_date", "overdue", "days_overdue", "improvement_reached",
           "explanation_nl", "policy_version"]


def register_as_of(steps: pd.DataFrame, peildatum: date) -> pd.DataFrame:
    """Only rows dated on or before the peildatum; a confirmation sent later did not exist yet."""
    if steps.empty:
        return steps.copy()
    s = steps[steps.step_date <= peildatum].copy()
    s.loc[s.confirmed_on.notna() & (s.confirmed_on > peildatum), "confirmed_on"] = None
    return s


@dataclass(frozen=True)
class NextAction:
    action: str
    due: date | None


def step1_reference_quarter(step1_date: date) -> Quarter:
    """The quarter whose peildatum is the latest on or before the talk."""
    return Quarter.of(step1_date)


def improvement_reached(lagging_now: bool, key_rates_now: dict[str, float], step1_lagging: dict[str, float] | None,
                        policy: Policy) -> bool:
    """Not lagging any more, or the key indicators lagging at the binding talk improved on average by at least
    `substantial_improvement_pp` percentage points since then."""
    if not lagging_now:
        return True
    if not step1_lagging:
        return False
    diffs = [100 * (key_rates_now[c] - r) for c, r in step1_lagging.items()
             if c in key_rates_now and pd.notna(key_rates_now[c]) and pd.notna(r)]
    return bool(diffs) and sum(diffs) / len(diffs) >= policy.substantial_improvement_pp


def next_action(steps: pd.DataFrame, status: str | None, peildatum: date, improved: bool,
                policy: Policy, underperformer_since: Quarter | None = None) -> NextAction:
    """`steps`: this practice-program's register rows as of the peildatum, in register order.
    `underperformer_since`: the first quarter of the current unbroken run of underperformer quarters."""
    if status in (None, "no_data"):
        # no data this quarter: nothing to judge, so never a compliment or an escalation
        return NextAction("gegevens_controleren", None) if len(steps) or status == "no_data" else NextAction("geen", None)
    if steps.empty:
        if status != "underperformer":
            return NextAction("geen", None)
        since = (underperformer_since or Quarter.of(peildatum)).peildatum
        return NextAction("1_bindend_verbetergesprek", add_months(since, policy.first_talk_months))
    last = steps.iloc[-1]
    step = last.step
    if step in ("1_bindend_verbetergesprek", "3b_functioneringsgesprek") and pd.isna(last.confirmed_on):
        return NextAction("bevestiging_versturen", last.step_date + timedelta(days=policy.confirmation_days))
    if step in ("1_bindend_verbetergesprek", "2_intensief_traject"):
        ones = steps[steps.step == "1_bindend_verbetergesprek"]
        base = ones.step_date.iloc[-1] if len(ones) else last.step_date
        e = add_months(base, policy.intensive_months)
        if peildatum < e:
            return NextAction("evaluatie", e)
        return NextAction("3a_compliment" if improved else "3b_functioneringsgesprek", e)
    if step == "3b_functioneringsgesprek":
        e = add_months(last.step_date, policy.final_months)
        if peildatum < e:
            return NextAction("evaluatie", e)
        return NextAction("3a_compliment" if improved else "4_financiele_verrekening", e)
    return NextAction("geen", None)


def explain(action: NextAction, last_step: str | None, peildatum: date, overdue_days: int | None,
            holder_changed_since: date | None = None, final_term: str = "") -> str:
    """A Dutch one-liner for the board. `final_term`: the policy's final period in words (policy/wording)."""
    text = _explain(action, last_step, overdue_days, final_term)
    if holder_changed_since is not None:
        text += (f"; let op: andere praktijkhouder dan bij het bindend verbetergesprek van "
                 f"{holder_changed_since.strftime('%d-%m-%Y')}")
    return text


def _explain(action: NextAction, last_step: str | None, overdue_days: int | None, final_term: str) -> str:
    late = f" ({overdue_days} dagen te laat)" if overdue_days else ""
    due = action.due.strftime("%d-%m-%Y") if action.due else ""
    a = action.action
    if a == "bevestiging_versturen":
        talk = TALK_NAMES.get(last_step, "gesprek")
        if overdue_days:
            return f"bevestiging {talk} {overdue_days} dagen te laat"
        return f"schriftelijke bevestiging {talk} versturen vóór {due}"
    if a == "evaluatie":
        return f"evaluatie verbetertraject op {due}"
    if a == "3a_compliment":
        return f"verbetering bereikt: complimentenbrief sturen{late}"
    if a == "3b_functioneringsgesprek":
        return f"onvoldoende verbetering na intensief traject: functioneringsgesprek plannen{late}"
    if a == "4_financiele_verrekening":
        return f"geen verbetering na de laatste {final_term}: financiële verrekening{late}"
    if a == "1_bindend_verbetergesprek":
        return f"minder presterend: bindend verbetergesprek plannen vóór {due}{late}"
    if a == "gegevens_controleren":
        return "geen gegevens dit kwartaal: aanlevering controleren"
    if last_step == "3a_compliment":
        return "traject afgerond met compliment"
    if last_step == "4_financiele_verrekening":
        return "financiële verrekening toegepast; geld gereserveerd voor verbetering"
    return "geen actie"


def trajectories(quarter: Quarter, steps: pd.DataFrame, classification: pd.DataFrame,
                 key_rates: dict[tuple[str, str], dict[str, float]],
                 lagging_at: dict[tuple[str, str, str], dict[str, float]], policy: Policy,
                 underperformer_since: dict[tuple[str, str], Quarter] | None = None,
                 holders: HolderIndex | None = None) -> pd.DataFrame:
    """One row per practice-program with data (classification of `quarter`) or register steps.

    key_rates[(agb, program)]: key indicator rates in `quarter`.
    lagging_at[(quarter, agb, program)]: rates of the key indicators lagging in that quarter.
    underperformer_since[(agb, program)]: first quarter of the current unbroken underperformer run (default:
    this quarter).
    holders: who held each practice when; with it a row says whether the holder on the peildatum differs from the
    holder on the date of the latest step 1 (a new GP was not party to the agreements).
    """
    underperformer_since = underperformer_since or {}
    peil = quarter.peildatum
    reg = register_as_of(steps, peil)
    status = {(r.practice_agb, r.program): r.status for r in classification.itertuples()}
    by_key = {k: g for k, g in reg.groupby(["practice_agb", "program"])} if len(reg) else {}
    keys = set(status) | set(by_key)
    final_term = Wording.of(policy).final
    out = []
    for agb, program in sorted(keys):
        s = by_key.get((agb, program), reg.iloc[0:0])
        if len(s):
            s = s.assign(_order=s.step.map(STEP_ORDER)).sort_values(["step_date", "_order", "source_line"])
        st = status.get((agb, program))
        lagging_now = st in ("watch", "lagging_no_visits", "improving", "underperformer")
        ones = s[s.step == "1_bindend_verbetergesprek"] if len(s) else s
        ref = None
        if len(ones):
            ref = lagging_at.get((str(step1_reference_quarter(ones.step_date.iloc[-1])), agb, program))
        improved = improvement_reached(lagging_now, key_rates.get((agb, program), {}), ref, policy) if st else False
        since = (underperformer_since.get((agb, program)) or quarter) if st == "underperformer" else None
        act = next_action(s, st, peil, improved, policy, since)
        overdue = act.due is not None and peil > act.due
        days = (peil - act.due).days if overdue else None
        last = s.iloc[-1] if len(s) else None
        step1 = ones.step_date.iloc[-1] if len(ones) else None
        changed = (holders is not None and step1 is not None
                   and {g for g, _ in holders.on(agb, step1)} != {g for g, _ in holders.on(agb, peil)})
        out.append({
            "quarter": str(quarter), "peildatum": peil, "practice_agb": agb, "program": program, "status": st,
            "underperformer_since": None if since is None else str(since),
            "current_step": None if last is None else last.step,
            "step_date": None if last is None else last.step_date,
            "step1_date": step1, "holder_changed_since_step1": changed,
            "confirmed_on": None if last is None or pd.isna(last.confirmed_on) else last.confirmed_on,
            "next_action": act.action, "due_date": act.due, "overdue": overdue, "days_overdue": days,
            "improvement_reached": improved if len(s) else None,
            "explanation_nl": explain(act, None if last is None else last.step, peil, days, step1 if changed else None,
                                      final_term),
            "policy_version": policy.label,
        })
    return pd.DataFrame(out, columns=COLUMNS)
