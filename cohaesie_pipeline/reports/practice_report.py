"""The per-practice mirror report ("spiegelinformatie"): view model and rendering. A practice sees its own
counts; other practices appear only as anonymous dots and pooled averages."""
from __future__ import annotations

from datetime import date

import pandas as pd

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.reports import charts
from cohaesie_pipeline.reports import format as f
from cohaesie_pipeline.reports.data import PROGRAM_NAMES, PROGRAM_ORDER, QuarterData


def national_note(data: QuarterData) -> str:
    src = data.national_sources
    years = sorted({int(y) for y in src.national_year.dropna()})
    text = f"Landelijke gemiddelden: InEen-benchmark, jaar {', '.join(map(str, years))}."
    if years and years[-1] < data.quarter.year:
        text += f" Voor {data.quarter.year} bestaat geen landelijk cijfer (InEen stopte na 2024); het laatste jaar is gebruikt."
    if src.national_source.fillna("").str.contains("illustratief").any():
        text += " LET OP: dit zijn illustratieve waarden (placeholder), geen echte InEen-cijfers."
    return text


def _program_view(data: QuarterData, agb: str, program: str, policy: Policy) -> dict:
    q = data.q
    ind = data.indicators
    mine = ind[(ind.practice_agb == agb) & (ind.program == program)]
    now = mine[mine.quarter == q].sort_values("sort_order")
    cov = data.coverage
    c = cov[(cov.practice_agb == agb) & (cov.program == program) & (cov.quarter == q)]
    c = c.iloc[0] if len(c) else None
    cls = data.classification
    st = cls[(cls.practice_agb == agb) & (cls.program == program) & (cls.quarter == q)]
    status = st.status.iloc[0] if len(st) else "no_data"
    tr = data.trajectories
    t = tr[(tr.practice_agb == agb) & (tr.program == program)]
    t = t.iloc[0] if len(t) else None

    rows = []
    for r in now.itertuples():
        rows.append({
            "name": r.indicator_name, "kind": r.kind, "window": int(r.window_months), "is_key": bool(r.is_key),
            "fraction": f"{f.num(r.numerator)} / {f.num(r.denominator)}", "rate": f.pct(r.rate),
            "ci": f"{f.pct(r.ci_low, 0)}–{f.pct(r.ci_high, 0)}" if pd.notna(r.rate) else "–",
            "care_group": f.pct(r.care_group_rate), "national": f.pct(r.national_rate),
            "national_year": "" if pd.isna(r.national_year) else int(r.national_year), "gap": f.pp(r.gap_abs),
            "lagging": bool(r.lagging), "too_small": bool(r.too_small),
        })

    quarters = data.quarters()
    panels, positions = [], []
    everyone = ind[(ind.quarter == q) & (ind.program == program) & (ind.denominator >= policy.min_denominator)]
    for r in now[now.is_key].itertuples():
        hist_all = ind[(ind.indicator_code == r.indicator_code)]
        own = mine[mine.indicator_code == r.indicator_code]
        panels.append({
            "title": r.indicator_name,
            "practice": {x.quarter: x.rate for x in own.itertuples() if pd.notna(x.rate)},
            "care_group": dict(hist_all.groupby("quarter").care_group_rate.first()),
            "national": dict(hist_all.groupby("quarter").national_rate.first()),
        })
        others = everyone[(everyone.indicator_code == r.indicator_code) & (everyone.practice_agb != agb)].rate
        positions.append({"title": r.indicator_name, "others": list(others),
                          "own": float(r.rate) if pd.notna(r.rate) and not r.too_small else None,
                          "national": None if pd.isna(r.national_rate) else float(r.national_rate)})

    light = f.LIGHT[status]
    if c is None or pd.isna(c.coverage):
        norm_short, norm_text = "niet beoordeeld", "Niet beoordeeld (geen beoordeelde patiënten)"
    elif c.meets_norm:
        norm_short, norm_text = "voldoet", f"Voldoet aan de norm van {f.pct(policy.coverage_norm, 0)}"
    else:
        norm_short, norm_text = "onder norm", f"Onder de norm van {f.pct(policy.coverage_norm, 0)}"
    lagging_names = ", ".join(now[now.lagging].indicator_name)
    return {
        "code": program, "name": PROGRAM_NAMES[program], "light": light, "light_label": f.LIGHT_LABEL[light],
        "status": status, "status_nl": f.STATUS_NL[status], "lagging_text": lagging_names,
        "coverage_pct": f.pct(None if c is None else c.coverage), "norm_text": norm_text, "norm_short": norm_short,
        "with_care": f.num(None if c is None else c.patients_with_care),
        "assessed": f.num(None if c is None else c.assessed_patients),
        "empty": f.num(None if c is None else c.empty_records), "grace": f.num(None if c is None else c.grace_patients),
        "declared": f.num(None if c is None else c.declared_patients),
        "step_nl": "–" if t is None or pd.isna(t.current_step) else
        f"{f.STEP_NL[t.current_step]} ({f.datum(t.step_date)})",
        "action_nl": "–" if t is None else (t.explanation_nl if t.next_action != "geen" else "geen actie"),
        "due": None if t is None or pd.isna(t.due_date) else f.datum(t.due_date),
        "overdue": False if t is None else bool(t.overdue),
        "indicators": rows,
        "trend_svg": charts.trend_chart(panels, quarters, cols=3) if panels else "",
        "position_svg": charts.position_chart(positions) if positions else "",
    }


def _changes(data: QuarterData, agb: str, programs: list[str]) -> list[str]:
    prev_q = str(data.quarter - 1)
    ind, out = data.indicators, []
    for program in programs:
        mine = ind[(ind.practice_agb == agb) & (ind.program == program) & ind.is_key]
        a = mine[mine.quarter == prev_q].set_index("indicator_code")
        b = mine[mine.quarter == data.q].set_index("indicator_code")
        for code in b.index.intersection(a.index):
            if pd.notna(a.rate[code]) and pd.notna(b.rate[code]) and abs(b.rate[code] - a.rate[code]) >= 0.05:
                out.append(f"{program}: {b.indicator_name[code]} {f.pct(a.rate[code])} → {f.pct(b.rate[code])} "
                           f"({f.pp(b.rate[code] - a.rate[code])})")
        cls = data.classification
        s = cls[(cls.practice_agb == agb) & (cls.program == program)].set_index("quarter").status
        if prev_q in s.index and data.q in s.index and s[prev_q] != s[data.q]:
            out.append(f"{program}: classificatie {f.STATUS_NL[s[prev_q]]} → {f.STATUS_NL[s[data.q]]}")
        cov = data.coverage
        cv = cov[(cov.practice_agb == agb) & (cov.program == program)].set_index("quarter").coverage
        if prev_q in cv.index and data.q in cv.index and pd.notna(cv[prev_q]) and pd.notna(cv[data.q]) \
                and abs(cv[data.q] - cv[prev_q]) >= 0.02:
            out.append(f"{program}: dekking {f.pct(cv[prev_q])} → {f.pct(cv[data.q])}")
    if not out and prev_q in set(ind.quarter):
        out.append("Geen grote veranderingen (minder dan 5 procentpunt) sinds vorig kwartaal.")
    return out


def practice_context(data: QuarterData, agb: str, policy: Policy, produced: date) -> dict:
    p = data.practices.set_index("practice_agb").loc[agb]
    present = set(data.indicators[(data.indicators.practice_agb == agb) & (data.indicators.quarter == data.q)].program)
    programs = [pr for pr in PROGRAM_ORDER if pr in present]
    files = ", ".join(f"{r.file_name} ({r.content_sha256[:12]})" for r in data.deliveries.itertuples())
    return {
        "title": f"Spiegelinformatie {p.practice_name} {data.q}", "quarter": data.q,
        "header_left": f"Spiegelinformatie · {p.practice_name}", "header_right": f"{data.q} · AGB {agb}",
        "p": {"name": p.practice_name, "agb": agb, "gp_group": p.gp_group or "–", "place": p.place or "–"},
        "peildatum": f.datum_lang(data.quarter.peildatum), "produced": f.datum(produced),
        "prev_quarter": str(data.quarter - 1),
        "programs": [_program_view(data, agb, pr, policy) for pr in programs],
        "changes": _changes(data, agb, programs),
        "lag_pct": f.pct(policy.lag_threshold, 0), "norm_pct": f.pct(policy.coverage_norm, 0),
        "min_den": policy.min_denominator, "grace_months": policy.grace_months, "window": policy.window_months,
        "care_rule": "minstens één kernmeting" if policy.care_rule == "any" else "alle kernmetingen",
        "policy_version": policy.label, "national_note": national_note(data), "files": files or "–",
    }
