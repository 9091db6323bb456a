"""The per-practice mirror report ("spiegelinformatie"): view model and rendering. A practice sees its own
counts; other practices appear only as anonymous dots and pooled averages."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.policy.wording import LATEST_AVAILABLE, Wording, most_common_label, reference_label_of
from cohaesie_pipeline.reports import charts
from cohaesie_pipeline.reports import format as f
from cohaesie_pipeline.reports.data import (
    PROGRAM_NAMES,
    PROGRAM_ORDER,
    QuarterData,
    money_by_practice_program,
)
from cohaesie_pipeline.reports.fingerprint import render_fingerprint


def reference_note(data: QuarterData) -> str:
    """What the comparisons are against, said once in full (the tables carry the short label)."""
    ref = data.references
    kinds = set(ref.reference_kind.dropna())
    years = sorted({int(y) for y in ref.national_year.dropna()})
    text = f"Landelijke gemiddelden: InEen-benchmark, jaar {', '.join(map(str, years))}." if years else ""
    window_year = (data.quarter.peildatum - timedelta(days=1)).year
    if years and years[-1] < window_year:
        text += (f" Voor {window_year} bestaat geen landelijk cijfer (InEen publiceerde de benchmark tot en met "
                 f"{years[-1]}); het laatst beschikbare jaar is gebruikt: landelijk {years[-1]}, {LATEST_AVAILABLE}.")
    if "targets" in kinds:
        text += (" Het beleid vergelijkt met de streefwaarden van de zorggroep (" +
                 "; ".join(sorted(set(ref.reference_source.dropna()))) + ").")
    elif "care_group_previous_year" in kinds:
        text += " Het beleid vergelijkt met het zorggroepgemiddelde van hetzelfde kwartaal een jaar eerder."
    if placeholder_values(data):
        text += " LET OP: dit zijn illustratieve waarden (placeholder), geen echte InEen-cijfers."
    return text.strip()


def placeholder_values(data: QuarterData) -> bool:
    ref = data.references
    return bool(ref.national_is_placeholder.fillna(False).any() or ref.reference_is_placeholder.fillna(False).any())


def reference_banner(data: QuarterData) -> str:
    """On the cover of every report while a comparison rests on shipped illustrative values."""
    if not placeholder_values(data):
        return ""
    return ("Voorlopig: de vergelijkingswaarden (landelijk gemiddelde of streefwaarde) in dit rapport zijn "
            "illustratieve waarden, nog geen echte InEen-cijfers. Lees de vergelijkingen als voorbeeld.")


class _Lookups:
    """The quarter's marts as plain records grouped once, so that each of the ~45 practice reports looks its
    rows up instead of filtering and iterating whole frames (that cost ~0.15 s per report)."""

    def __init__(self, data: QuarterData, min_denominator: int):
        ind = data.indicators.sort_values(["quarter", "sort_order"])
        self.rows: dict[tuple[str, str], list[dict]] = {}
        self.care_group: dict[str, dict[str, float]] = {}
        self.national: dict[str, dict[str, float]] = {}
        self.assessed_rates: dict[str, list[tuple[str, float]]] = {}
        for r in ind.to_dict("records"):
            self.rows.setdefault((r["practice_agb"], r["program"]), []).append(r)
            for series, column in ((self.care_group, "care_group_rate"), (self.national, "national_rate")):
                per_quarter = series.setdefault(r["indicator_code"], {})
                if f.missing(per_quarter.get(r["quarter"])):
                    per_quarter[r["quarter"]] = r[column]
            if r["quarter"] == data.q and not f.missing(r["denominator"]) and r["denominator"] >= min_denominator:
                self.assessed_rates.setdefault(r["indicator_code"], []).append((r["practice_agb"], r["rate"]))
        self.coverage = {(r["practice_agb"], r["program"], r["quarter"]): r for r in data.coverage.to_dict("records")}
        self.trajectory = {(r["practice_agb"], r["program"]): r for r in data.trajectories.to_dict("records")}
        self.classification = {(r["practice_agb"], r["program"], r["quarter"]): r
                               for r in data.classification.to_dict("records")}
        self.money = money_by_practice_program(data.settlements)
        self.practice = {r["practice_agb"]: r for r in data.practices.to_dict("records")}
        self.quarters = data.quarters()

    def status(self, key: tuple[str, str, str]) -> str | None:
        row = self.classification.get(key)
        return None if row is None else row["status"]

    @classmethod
    def of(cls, data: QuarterData, policy: Policy) -> _Lookups:
        key = ("practice_lookups", policy.min_denominator)
        if key not in data.extra:
            data.extra[key] = cls(data, policy.min_denominator)
        return data.extra[key]

    def programs(self, agb: str, quarter: str) -> list[str]:
        return [pr for pr in PROGRAM_ORDER if any(r["quarter"] == quarter for r in self.rows.get((agb, pr), ()))]


def programs_in_report(data: QuarterData, policy: Policy) -> dict[str, list[str]]:
    """Per practice with data this quarter, the programs its report covers. Groups the quarter's data for
    the reports as a side effect, so render workers forked afterwards inherit it."""
    look = _Lookups.of(data, policy)
    return {agb: look.programs(agb, data.q) for agb in look.practice if look.programs(agb, data.q)}


def _program_view(data: QuarterData, look: _Lookups, agb: str, program: str, policy: Policy) -> dict:
    q = data.q
    mine = look.rows.get((agb, program), [])
    now = [r for r in mine if r["quarter"] == q]
    c = look.coverage.get((agb, program, q))
    status = look.status((agb, program, q)) or "no_data"
    t = look.trajectory.get((agb, program))

    labels = [reference_label_of(r) for r in now]
    header = most_common_label(now)
    groups: dict[str, list[dict]] = {}
    for r, label in zip(now, labels):
        groups.setdefault(r["kind"], []).append({
            "name": r["indicator_name"], "is_key": bool(r["is_key"]),
            "fraction": f"{f.num(r['numerator'])} / {f.num(r['denominator'])}", "rate": f.pct(r["rate"]),
            "ci": "–" if f.missing(r["rate"]) else f"{f.pct(r['ci_low'], 0)}–{f.pct(r['ci_high'], 0)}",
            "care_group": f.pct(r["care_group_rate"]), "reference": f.pct(r["reference_rate"]),
            # the reference is in the column header; only a row whose reference differs says its own
            "reference_label": label if label != header else "",
            "gap": f.pp(r["reference_gap_abs"]), "lagging": bool(r["lagging"]), "too_small": bool(r["too_small"]),
            "compared": compared_with_national(r["ci_low"], r["ci_high"], r["reference_rate"]),
            "invalid": _patients(r["patients_only_invalid_values"], "alleen met ongeldige waarden, niet meegeteld"),
        })

    panels, positions = [], []
    for r in (r for r in now if r["is_key"]):
        code = r["indicator_code"]
        history = [x for x in mine if x["indicator_code"] == code]
        panels.append({
            "title": r["indicator_name"],
            "practice": {x["quarter"]: x["rate"] for x in history if not f.missing(x["rate"])},
            "band": {x["quarter"]: (x["ci_low"], x["ci_high"]) for x in history
                     if not f.missing(x["ci_low"]) and not f.missing(x["ci_high"])},
            "limit": {x["quarter"]: x["lag_limit"] for x in history if not f.missing(x["lag_limit"])},
            "care_group": look.care_group.get(code, {}), "national": look.national.get(code, {}),
        })
        shown = not f.missing(r["rate"]) and not r["too_small"]
        positions.append({"title": r["indicator_name"],
                          "others": [rate for other, rate in look.assessed_rates.get(code, ()) if other != agb],
                          "own": float(r["rate"]) if shown else None,
                          "ci": (float(r["ci_low"]), float(r["ci_high"])) if shown and not f.missing(r["ci_low"])
                          else None,
                          "national": None if f.missing(r["reference_rate"]) else float(r["reference_rate"]),
                          "limit": None if f.missing(r["lag_limit"]) else float(r["lag_limit"])})

    # the basis of the decision: the key indicators a year earlier, the improvement the rule measures, and the
    # money of the year at stake for this program
    year_before = str(data.quarter - 4)
    before = {r["indicator_code"]: r for r in mine if r["quarter"] == year_before}
    year_earlier = [{"name": r["indicator_name"], "then": f.pct(b["rate"]), "now": f.pct(r["rate"]),
                     "change": f.pp(r["rate"] - b["rate"]), "was_lagging": bool(b["lagging"])}
                    for r in now if r["is_key"] and (b := before.get(r["indicator_code"])) is not None
                    and not f.missing(b["rate"]) and not f.missing(r["rate"])]
    cls = look.classification.get((agb, program, q))
    improvement = None if cls is None or f.missing(cls["improvement_pp"]) else float(cls["improvement_pp"])
    money = look.money.get((agb, program), (Decimal(0), Decimal(0)))

    # who is left out of the denominator, and why (the same for every indicator of the program)
    first = now[0] if now else None
    excluded = [] if first is None else [text for text in (
        _patients(first["excluded_specialist"], "met de specialist als hoofdbehandelaar"),
        _patients(first["excluded_under_18"], "jonger dan 18 jaar"),
        _patients(first["excluded_not_enrolled"], "niet ingeschreven op de peildatum")) if text]

    # the colour is the policy's (practice_classification.traffic_light); the report only says why
    light = cls["traffic_light"] if cls is not None else "grijs"
    light_from_coverage = cls is not None and bool(cls["light_from_coverage"])
    coverage = None if c is None else c["coverage"]
    if f.missing(coverage):
        norm_short, norm_text = "niet beoordeeld", "Niet beoordeeld (geen beoordeelde patiënten)"
    elif c["meets_norm"]:
        norm_short, norm_text = "voldoet", f"Voldoet aan de norm van {Wording.of(policy).norm}"
    else:
        norm_short, norm_text = "onder norm", f"Onder de norm van {Wording.of(policy).norm}"
    count = (lambda k: f.num(None if c is None else c[k]))  # noqa: E731
    return {
        "code": program, "name": PROGRAM_NAMES[program], "light": light,
        "light_label": "onder dekkingsnorm" if light_from_coverage else f.LIGHT_LABEL[light],
        "status": status, "status_nl": f.STATUS_NL[status],
        "lagging_text": ", ".join(r["indicator_name"] for r in now if r["lagging"]),
        "coverage_pct": f.pct(coverage), "norm_text": norm_text, "norm_short": norm_short,
        "with_care": count("patients_with_care"), "assessed": count("assessed_patients"),
        "empty": count("empty_records"), "grace": count("grace_patients"), "declared": count("declared_patients"),
        # shown only when there are any: a practice's own counts (its own report)
        "not_assessable": "" if c is None or not c["declared_not_assessable"] else count("declared_not_assessable"),
        "double_declared": "" if c is None or not c["double_declared_patients"] else count("double_declared_patients"),
        "step_nl": "–" if t is None or f.missing(t["current_step"]) else
        f"{f.STEP_NL[t['current_step']]} ({f.datum(t['step_date'])})",
        "action_nl": "–" if t is None else (t["explanation_nl"] if t["next_action"] != "geen" else "geen actie"),
        "due": None if t is None or f.missing(t["due_date"]) else f.datum(t["due_date"]),
        "overdue": False if t is None else bool(t["overdue"]),
        "reference_header": header[:1].upper() + header[1:] if header else "Referentie",
        "indicator_groups": [(KIND_NL.get(k, k), rows) for k, rows in groups.items()],
        "excluded": excluded,
        "year_before": year_before, "year_earlier": year_earlier,
        "improvement": None if improvement is None else f.pp(improvement / 100),
        "improvement_enough": improvement is not None and improvement >= policy.min_improvement_pp,
        "money_potential": f.euro(money[0]), "money_applied": f.euro(money[1]), "money_any": money[0] != 0,
        "trend": charts.trend_panels(panels, look.quarters, cols=3),
        "positions": charts.position_chart(positions) if positions else None,
    }


def _patients(n, what: str) -> str:
    """'3 patiënten <what>', '1 patiënt <what>', or '' for none (a practice's own counts, its own report)."""
    if f.missing(n) or not int(n):
        return ""
    return f"{f.num(n)} {'patiënt' if int(n) == 1 else 'patiënten'} {what}"


def compared_with_national(ci_low, ci_high, national) -> str:
    """As Public Health England's Fingertips labels a value: by whether the 95% interval holds the benchmark.
    A practice can be "achter" by the policy's rule and still statistically similar at a small denominator;
    both are shown, side by side."""
    if f.missing(ci_low) or f.missing(ci_high) or f.missing(national):
        return ""
    if ci_high < national:
        return "significant lager"
    if ci_low > national:
        return "significant hoger"
    return "vergelijkbaar"


KIND_NL = {"proces": "Procesindicatoren", "uitkomst": "Uitkomstindicatoren"}


def _changes(data: QuarterData, look: _Lookups, agb: str, programs: list[str], policy: Policy) -> list[str]:
    """"Wat is veranderd": the changes the report layer marks notable (marts.report_practice_changes: beyond the
    policy's threshold and, for an indicator, beyond chance), and a classification that changed."""
    prev_q = str(data.quarter - 1)
    changes = data.changes[(data.changes.practice_agb == agb) & data.changes.notable]
    out = []
    for program in programs:
        mine = changes[changes.program == program]
        for r in mine[mine.measure == "indicator"].sort_values(["sort_order", "indicator_code"]).itertuples():
            out.append(f"{program}: {r.indicator_name} {f.pct(r.value_before)} → {f.pct(r.value_now)} "
                       f"({f.pp(r.value_now - r.value_before)})")
        s0, s1 = look.status((agb, program, prev_q)), look.status((agb, program, data.q))
        if s0 and s1 and s0 != s1:
            out.append(f"{program}: classificatie {f.STATUS_NL[s0]} → {f.STATUS_NL[s1]}")
        for r in mine[mine.measure == "coverage"].itertuples():
            out.append(f"{program}: dekking {f.pct(r.value_before)} → {f.pct(r.value_now)}")
    if not out and prev_q in look.quarters:
        out.append(f"Geen veranderingen van minstens {Wording.of(policy).notable_change} die groter zijn dan toeval "
                   f"(buiten het 95%-interval van vorig kwartaal).")
    return out


def practice_context(data: QuarterData, agb: str, policy: Policy, produced: date) -> dict:
    look = _Lookups.of(data, policy)
    p = look.practice[agb]
    programs = look.programs(agb, data.q)
    # file names and rows, no hashes: a GP checks the delivery by its name and size (the inputs' fingerprint on
    # the cover is for whoever has to prove which data the report came from)
    files = ", ".join(f"{r.file_name} ({f.num(r.rows_loaded)} regels)" for r in data.deliveries.itertuples())
    q = data.quality
    findings = [{"text": r.description_nl, "file": r.file_kind, "rows": f.num(r.rows_affected),
                 "first_line": str(int(r.first_line))}
                for r in q[q.practice_agb == agb].sort_values(["file_kind", "first_line"]).itertuples()]
    return {
        "title": f"Spiegelinformatie {p['practice_name']} {data.q}", "quarter": data.q,
        "header_left": f"Spiegelinformatie · {p['practice_name']}", "header_right": f"{data.q} · AGB {agb}",
        "p": {"name": p["practice_name"], "agb": agb, "gp_group": p["gp_group"] or "–", "place": p["place"] or "–"},
        "peildatum": f.datum_lang(data.quarter.peildatum), "produced": f.datum(produced), "fingerprint": render_fingerprint(data, policy),
        "prev_quarter": str(data.quarter - 1), "year": data.quarter.year,
        "programs": [_program_view(data, look, agb, pr, policy) for pr in programs],
        "changes": _changes(data, look, agb, programs, policy), "findings": findings,
        "trend_period": f.period(look.quarters),
        "rule": Wording.of(policy), "policy_version": policy.label, "reference_note": reference_note(data),
        "reference_banner": reference_banner(data), "files": files or "–",
    }
