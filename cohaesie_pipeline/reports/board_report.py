"""The board report (werkgroep kwaliteit en bestuur). Shown across practices: its tables come from the report
layer with the disclosure rule already applied (marts.report_board_*, dbt_project/macros/disclosure.sql); this
module only renders them."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pandas as pd

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.policy.wording import Wording, most_common_label, reference_label_of
from cohaesie_pipeline.quarters import add_months
from cohaesie_pipeline.reports import charts
from cohaesie_pipeline.reports import format as f
from cohaesie_pipeline.reports.data import PROGRAM_ORDER, QuarterData, exact_sum, money_by_practice_program
from cohaesie_pipeline.reports.fingerprint import render_fingerprint
from cohaesie_pipeline.reports.practice_report import reference_banner, reference_note

GROUPS = [("underperformer", "Minder presterend"), ("lagging_no_visits", "Achter, nog geen praktijkbezoeken"),
          ("improving", "Achter, maar verbeterend"), ("watch", "Aandacht (dit jaar achter geraakt)")]


def decision_rows(data: QuarterData, names: dict, label: dict, policy: Policy, q: str, common: str = "") -> list[dict]:
    """The board's first page: one row per underperforming practice-program with what the decision rests on
    (the lagging key indicators against their limit), how long, where the trajectory stands, what is next and
    by when, the visits, and the money at stake this year."""
    place = data.practices.set_index("practice_agb").place.to_dict()
    cls = data.classification[(data.classification.quarter == q) & (data.classification.status == "underperformer")]
    tr = {(r.practice_agb, r.program): r for r in data.trajectories.itertuples()}
    money = money_by_practice_program(data.settlements)
    rows = []
    for r in cls.sort_values(["practice_agb", "program"]).itertuples():
        details = json.loads(r.lagging_details) if r.lagging_details else []
        lagging = [f"{label.get(d['indicator_code'], d['indicator_code'])} {f.pct(d['rate'])} "
                   # the reference is said once above the table; only one that differs is named here
                   f"(grens {f.pct(d['lag_limit'])}{'' if d['reference'] == common else ', ' + d['reference']})"
                   for d in details]
        t = tr.get((r.practice_agb, r.program))
        potential, applied = money.get((r.practice_agb, r.program), (Decimal(0), Decimal(0)))
        rows.append({
            "name": names.get(r.practice_agb, r.practice_agb), "agb": r.practice_agb,
            "place": place.get(r.practice_agb) or "", "program": r.program, "lagging": lagging,
            "since": "–" if t is None or pd.isna(t.underperformer_since) else t.underperformer_since,
            "step": "geen" if t is None or pd.isna(t.current_step) else
            f"{f.STEP_NL[t.current_step]} ({f.datum(t.step_date)})",
            "next": "–" if t is None else f.ACTION_NL.get(t.next_action, t.next_action),
            "due": "–" if t is None or pd.isna(t.due_date) else f.datum(t.due_date),
            "overdue": False if t is None else bool(t.overdue),
            "holder_changed": False if t is None else bool(t.holder_changed_since_step1),
            "visits": int(r.visits_12m),
            "potential": f.euro(potential), "applied": f.euro(applied),
        })
    return rows


def _most_common_label(rows: pd.DataFrame) -> str:
    return most_common_label(rows.itertuples()) or "geen referentie"


def funnel_view(key_now: pd.DataFrame, labels: dict, sup: int) -> tuple[list[dict], list[dict]]:
    """Per program the funnel plots of the quarter's key indicators, and per practice-program the indicators
    below the 99.8% limit. `key_now` is the report layer's board table: a rate is there only where the
    disclosure rule lets it stand beside its denominator (a dot's x and y give the numerator back)."""
    programs, far = [], {}
    for program in PROGRAM_ORDER:
        rows = key_now[key_now.program == program].sort_values(["sort_order", "practice_agb"])
        panels = []
        for _code, g in rows.groupby("indicator_code", sort=False):
            first = g.iloc[0]
            shown = [r for r in g.itertuples() if pd.notna(r.rate)]
            center = None if pd.isna(first.care_group_rate) else float(first.care_group_rate)
            panels.append({"title": first.indicator_name, "center": center, "n_min": sup,
                           "points": [(int(r.denominator), float(r.rate)) for r in shown]})
            for r in shown:
                if center is not None and charts.funnel_side(float(r.rate), center, int(r.denominator)) == "laag998":
                    far.setdefault((labels.get(r.practice_agb, r.practice_agb), program), []).append(
                        f"{first.indicator_name} {f.pct(r.rate)} (n = {f.num(r.denominator)})")
        if panels:
            programs.append({"program": program, "rows": charts.funnel_panels(panels)})
    far_rows = [{"name": name, "program": program, "indicators": "; ".join(items)}
                for (name, program), items in sorted(far.items(), key=lambda kv: (kv[0][0], PROGRAM_ORDER.index(kv[0][1])))]
    return programs, far_rows


def board_context(data: QuarterData, policy: Policy, produced: date) -> dict:
    q, sup = data.q, policy.suppress_below
    names = data.practices.set_index("practice_agb").practice_name.to_dict()
    ind = data.indicators
    key_now = ind[(ind.quarter == q) & ind.is_key]

    board_key = data.board_indicators
    key_indicators = list(data.board_overview.assign(_p=data.board_overview.program.map(PROGRAM_ORDER.index))
                          .sort_values(["_p", "sort_order"]).itertuples())
    overview = [{
        "program": r.program, "name": r.indicator_name,
        "den": f.shown(r.care_group_denominator, r.care_group_denominator_mark),
        "rate": f.shown(r.care_group_rate, r.care_group_rate_mark, f.pct),
        "prev": f.pct(r.care_group_rate_year_before),
        "reference": f.pct(r.reference_rate), "reference_label": reference_label_of(r),
        "gap": f.pp(r.reference_gap_abs),
    } for r in key_indicators]
    panels = []
    for r in key_indicators:
        hist = ind[ind.indicator_code == r.indicator_code]
        panels.append({"title": f"{r.program} {r.indicator_name}", "practice": {},
                       "care_group": dict(hist.groupby("quarter").care_group_rate.first()),
                       "national": dict(hist.groupby("quarter").national_rate.first())})

    labels_of_practices = data.practices.set_index("practice_agb").display_name.to_dict()
    heatmaps = []
    for program in PROGRAM_ORDER:
        rows = board_key[board_key.program == program]
        if rows.empty:
            continue
        codes = list(rows.sort_values("sort_order").indicator_code.drop_duplicates())
        labels = dict(zip(rows.indicator_code, rows.indicator_name))
        agbs = sorted(rows.practice_agb.unique(), key=lambda a: names.get(a, a))
        gap = rows.pivot(index="practice_agb", columns="indicator_code", values="reference_gap_abs").reindex(index=agbs, columns=codes)
        # hatched: no rate the disclosure rule lets stand (a small count) or none at all
        hidden = gap.isna().to_numpy()
        lagging = rows.pivot(index="practice_agb", columns="indicator_code", values="lagging").reindex(
            index=agbs, columns=codes).fillna(False).astype(bool)
        heatmaps.append({"program": program, **charts.heatmap(
            (gap * 100).to_numpy().tolist(), hidden.tolist(), [labels_of_practices.get(a, a) for a in agbs],
            [labels[c] for c in codes], lagging.to_numpy().tolist())})

    funnels, far_below = funnel_view(board_key, labels_of_practices, sup)

    cls = data.classification[data.classification.quarter == q]
    code_names = dict(zip(data.indicators.indicator_code, data.indicators.indicator_name))
    status_groups = []
    for status, title in GROUPS:
        g = cls[cls.status == status].sort_values(["practice_agb", "program"])
        status_groups.append({"title": title, "status": status, "rows": [{
            "name": labels_of_practices.get(r.practice_agb, r.practice_agb), "agb": r.practice_agb, "program": r.program,
            "lagging": ", ".join(code_names.get(c, c) for c in str(r.lagging_key_indicators or "").split(",") if c),
            "improvement": "–" if pd.isna(r.improvement_pp) else f"{r.improvement_pp:+.1f} pp".replace(".", ","),
            "visits": int(r.visits_12m)} for r in g.itertuples()]})

    tr = data.trajectories
    tr = tr[(tr.next_action != "geen") | tr.current_step.notna()].copy()
    tr["_o"] = ~tr.overdue
    tr = tr.sort_values(["_o", "due_date", "practice_agb"], na_position="last")
    trajectories = [{"name": names.get(r.practice_agb, r.practice_agb), "program": r.program,
                     "step": f.STEP_NL.get(r.current_step, "–") if pd.notna(r.current_step) else "–",
                     "step_date": f.datum(r.step_date) if pd.notna(r.step_date) else "",
                     "action": f.ACTION_NL.get(r.next_action, r.next_action),
                     "due": f.datum(r.due_date) if pd.notna(r.due_date) else "–", "overdue": bool(r.overdue),
                     "explanation": r.explanation_nl} for r in tr.itertuples()]

    # ordered by judgement and name, not by coverage: a hidden rate's place between two shown ones would bound
    # it, and with it the hidden count (RULES.md, Disclosure: nothing derivable from what stands beside it)
    cov = data.board_coverage.copy()
    cov["_name"] = cov.practice_agb.map(names)
    cov["_order"] = cov.meets_norm.map({False: 0, True: 1}).fillna(2)
    cov = cov.sort_values(["_order", "_name", "program"])
    coverage, below = [], []
    for r in cov.itertuples():
        row = {"name": names.get(r.practice_agb, r.practice_agb), "program": r.program,
               "assessed": f.shown(r.assessed_patients, r.assessed_mark),
               "with_care": f.shown(r.patients_with_care, r.with_care_mark),
               "empty": f.shown(r.empty_records, r.empty_mark), "coverage": f.pct(r.coverage),
               "norm": "–" if pd.isna(r.meets_norm) else ("voldoet" if r.meets_norm else "onder norm"),
               "below": r.meets_norm is False or r.meets_norm == False}  # noqa: E712
        coverage.append(row)
        if row["below"]:
            below.append(row)

    s = data.settlements
    settlements = [{"name": names.get(r.practice_agb, r.practice_agb), "gp": r.huisarts_naam, "program": r.program,
                    "months": int(r.months_held), "paid": f.euro(r.fees_paid), "amount": f.euro(r.settlement_amount),
                    "status": r.settlement_status}
                   for r in s[s.settlement_amount > 0].sort_values(["practice_agb", "program", "huisarts_agb"]).itertuples()]
    total, applied = exact_sum(s.settlement_amount), exact_sum(s[s.applied].settlement_amount)
    reserve = exact_sum(data.reserve.reserved_amount)
    unassigned = exact_sum(data.settlement_detail.unassigned_amount)

    peil = data.quarter.peildatum
    start = add_months(peil, -12)
    v = data.visits.copy()
    v["visited_on"] = pd.to_datetime(v.visited_on).dt.date
    v = v[(v.visited_on >= start) & (v.visited_on < peil)]
    per = v.groupby("practice_agb").visited_on.agg(["count", "max"])
    short = []
    for agb in sorted(names, key=lambda a: names[a]):
        n = int(per["count"].get(agb, 0))
        if n < policy.planned_visits_per_year:
            last = per["max"].get(agb)
            short.append({"name": names[agb], "visits": n, "last": f.datum(last) if last is not None else "–"})

    delivered = set(ind[ind.quarter == q].practice_agb)
    under = [r for r in status_groups[0]["rows"]]
    reference_header = _most_common_label(key_now)
    decisions = decision_rows(data, names, code_names, policy, q, reference_header)
    late = sum(1 for t in trajectories if t["overdue"])
    headlines = [
        f"{len(under)} praktijk-programma's minder presterend, {len(status_groups[2]['rows'])} verbeterend, "
        f"{len(status_groups[3]['rows'])} aandacht, {len(status_groups[1]['rows'])} achter zonder bezoeken.",
        f"{len(below)} praktijk-programma's onder de {Wording.of(policy).norm_label} in {q}. Verrekening "
        f"{data.quarter.year} tot en met {q} (jaar tot nu): {f.euro(total + unassigned)}"
        + (f", waarvan {f.euro(unassigned)} over maanden zonder praktijkhouder (nog aan niemand toegewezen)"
           if unassigned else "") + f"; toegepast {f.euro(applied)}, de rest potentieel.",
        f"{late} {'actie' if late == 1 else 'acties'} in verbetertrajecten {'is' if late == 1 else 'zijn'} te laat.",
    ]
    return {
        "title": f"Bestuursrapportage {q}", "quarter": q, "header_left": "Bestuursrapportage kwaliteit chronische zorg",
        "header_right": q, "peildatum": f.datum_lang(peil), "produced": f.datum(produced), "fingerprint": render_fingerprint(data, policy),
        "n_practices": len(names), "policy_version": policy.label, "suppress_below": sup, "headlines": headlines,
        "decisions": decisions,
        "overview": overview, "trend": charts.trend_panels(panels, data.quarters(), show_practice=False, cols=3),
        "trend_period": f.period(data.quarters()),
        "heatmaps": heatmaps, "heat_legend": charts.legend_bands(), "funnels": funnels, "far_below": far_below, "funnel_levels": charts.FUNNEL_LEVELS, "status_groups": status_groups, "trajectories": trajectories,
        "coverage": coverage, "below_norm": below, "year": data.quarter.year, "settlements": settlements,
        "settle_total": f.euro(total), "settle_applied": f.euro(applied), "reserve_total": f.euro(reserve),
        "unassigned": f.euro(unassigned) if unassigned else "", "visits_done": len(v),
        "visits_planned": policy.planned_visits_per_year * len(names), "planned_per_year": policy.planned_visits_per_year,
        "visits_short": short,
        "delivery_files": ", ".join(f"{r.file_name} ({f.num(r.rows_loaded)} regels)" for r in data.deliveries.itertuples())
        or "geen", "missing_practices": [names[a] for a in sorted(names) if a not in delivered],
        "quality": [{"description": r.description_nl, "practices": int(r.practices),
                     "rows": f.shown(r.rows_affected, r.rows_mark)}
                    for r in data.board_quality.sort_values(["finding", "description_nl"]).itertuples()],
        "reference_note": reference_note(data), "rule": Wording.of(policy),
        "reference_banner": reference_banner(data), "reference_header": reference_header,
    }
