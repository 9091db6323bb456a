"""Rule: financial settlement under contract art. 4.17 (RULES.md, Settlement).

Below the coverage norm a practice is entitled only to the fees of assessed patients who received care (and
of grace patients): the quarter's settlement is the fees of assessed patients without care. Each quarter's
amount and fees are spread evenly over its three months; a month belongs to the GP(s) holding the practice
on its first day (policy footnote 1: a GP who took over or left is assessed only on the months held).
Computation is exact (fractions); money is rounded half up to cents on each GP's own row, from its exact
value (RULES.md). Where the GP rows of a practice-program then differ from the practice's rounded total by a
cent, that difference is its own row in the rounding table, shown to finance on its own line.

Fees of declared patients who could not be assessed, and of CVRM declarations next to a DM2 declaration, are
never settled: they are spread over the GPs' months like the fees paid and shown as their own columns, for
finance to judge.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.policy.holders import HolderIndex
from cohaesie_pipeline.quarters import Quarter

SETTLEMENT_COLUMNS = ["year", "practice_agb", "huisarts_agb", "huisarts_naam", "program", "months_held",
                      "quarters_included", "as_of_quarter", "fees_paid", "settlement_amount", "fees_entitled",
                      "fees_not_assessable", "fees_double_declared", "applied", "settlement_status", "status_reason",
                      "policy_version", "input_fingerprint"]
DETAIL_COLUMNS = ["quarter", "year", "practice_agb", "program", "declared_patients", "double_declared_patients",
                  "declared_not_assessable", "grace_patients", "assessed_patients", "patients_with_care",
                  "patients_without_care", "coverage", "meets_norm", "fees_declared", "fees_double_declared",
                  "fees_not_assessable", "fees_without_care", "settlement_amount", "months_without_holder",
                  "unassigned_amount", "as_of_quarter", "policy_version", "input_fingerprint"]
RESERVE_COLUMNS = ["year", "practice_agb", "program", "reserved_amount", "as_of_quarter", "policy_version"]
# per year x practice x program: the practice's rounded totals against the sum of its rounded GP rows
ROUNDING_COLUMNS = ["year", "practice_agb", "program", "as_of_quarter", "amount", "practice_total", "gp_rows_total",
                    "rounding_difference"]
MONEY = ("fees", "amount", "not_assessable", "double_declared")
INSURER_COLUMNS = ["year", "as_of_quarter", "practice_agb", "program", "insurer_uzovi", "insurer_name",
                   "quarters_included", "fees_declared", "settlement_amount", "policy_version", "input_fingerprint"]

CENT = Fraction(1, 100)


def round_half_up(x: Fraction) -> Decimal:
    """Cents, half up (0.005 -> 0.01). Settlement amounts are never negative."""
    cents = (x * 100 * 2 + 1) // 2
    return Decimal(int(cents)) / 100


def meets_norm_by_key(coverage: pd.DataFrame) -> dict[tuple[str, str, str], object]:
    """practice_coverage.meets_norm per (quarter, practice_agb, program): True, False, or missing (not judged)."""
    return dict(zip(zip(coverage.quarter, coverage.practice_agb, coverage.program), coverage.meets_norm))


def quarter_settlement_amount(meets_norm: bool | None, fees_without_care: Decimal) -> Decimal:
    """Below the norm: the fees of assessed patients without care. At or above it, or not judged: nothing."""
    if meets_norm is None or pd.isna(meets_norm) or bool(meets_norm):
        return Decimal("0.00")
    return Decimal(fees_without_care)


def _digest(parts: list[str]) -> str:
    return "sha256:" + hashlib.sha256("\n\x1e".join(parts).encode()).hexdigest()[:16]


class _DeliveryIndex:
    """Fingerprints of money rows: everything a row was computed from (RULES.md, Settlement), i.e. the content
    hashes of the delivery files of its quarters, the register rows it read (holders of the practice,
    trajectory steps known on the as-of date) and the policy version with its hash. Any change of one of
    them changes the fingerprint. The files' hashes per quarter are written out once: a fingerprint is
    asked thousands of times when every year is settled as of every quarter."""

    def __init__(self, deliveries: pd.DataFrame):
        d = deliveries.sort_values(["quarter", "file_kind"])
        self.lines: dict[str, list[str]] = defaultdict(list)
        for q, kind, sha in zip(d.quarter, d.file_kind, d.content_sha256):
            self.lines[q].append(f"{q}:{kind}:{sha}")

    def fingerprint(self, quarters: list[str], registers: str, policy_label: str) -> str:
        files = "\n".join(line for q in sorted(quarters) for line in self.lines.get(q, ()))
        return _digest([files, registers, policy_label])


def _steps_text(steps: pd.DataFrame) -> str:
    """The steps a settlement reads: which step on which date (not the confirmation date, which it never reads,
    so filling in a `bevestigd_op` later leaves earlier quarters' money and reports alone)."""
    return "\n".join(sorted(f"{step}|{day}" for step, day in zip(steps.step, steps.step_date)))


@dataclass(frozen=True)
class Application:
    """Whether a step 4 settles a year (RULES.md, Settlement: `applied`)."""
    step4_date: date | None = None
    step1_date: date | None = None
    closed_by: tuple[str, date] | None = None  # a later compliment or new binding talk before the year's end


STEP_NL = {"3a_compliment": "compliment", "1_bindend_verbetergesprek": "nieuw bindend verbetergesprek"}


def step4_application(key_steps: pd.DataFrame, year_end: date) -> Application:
    """The latest step 4 on or before the year's end, the latest step 1 of its trajectory (on or before it), and
    whether a compliment or a new step 1 after it (by the year's end) closed that trajectory. A step 4 applies to
    its own year and later ones while its trajectory stays open."""
    if key_steps.empty:
        return Application()
    s = key_steps[key_steps.step_date <= year_end]
    fours = s[s.step == "4_financiele_verrekening"]
    if fours.empty:
        return Application()
    step4 = max(fours.step_date)
    ones = s[(s.step == "1_bindend_verbetergesprek") & (s.step_date <= step4)]
    later = s[s.step.isin(STEP_NL) & (s.step_date > step4)].sort_values("step_date")
    return Application(step4, max(ones.step_date) if len(ones) else None,
                       (later.step.iloc[0], later.step_date.iloc[0]) if len(later) else None)


def _nl(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def applies_to(app: Application, gp_agb: str, holders_on_step1: list[tuple[str, str]]) -> tuple[bool, str]:
    """(applied, reason): only an open step 4, and only for a GP who held the practice on the date of that
    trajectory's latest step 1 (a successor was not party to the agreements)."""
    if app.step4_date is None:
        return False, "geen financiële verrekening (stap 4) vastgelegd"
    if app.closed_by is not None:
        step, day = app.closed_by
        return False, f"traject afgesloten: {STEP_NL[step]} op {_nl(day)}"
    if app.step1_date is None:
        return False, f"geen bindend verbetergesprek (stap 1) vóór stap 4 van {_nl(app.step4_date)}"
    if gp_agb not in {gp for gp, _ in holders_on_step1}:
        return False, f"huisarts was geen praktijkhouder bij stap 1 op {_nl(app.step1_date)}: geen partij bij de afspraken"
    return True, f"stap 4 op {_nl(app.step4_date)}; praktijkhouder sinds stap 1 op {_nl(app.step1_date)}"


def register_date_for(year: int, as_of: Quarter) -> date:
    """The register is read as known on the as-of quarter's peildatum (RULES.md: a past quarter's figures are
    reproducible). The final settlement of a year is the one as of the next year's first quarter, which
    sees every step registered by 31 December (known on 1 January)."""
    return min(as_of.peildatum, date(year + 1, 1, 1))


def settle_year(year: int, as_of: Quarter, coverage: pd.DataFrame, holders: pd.DataFrame, steps: pd.DataFrame,
                deliveries: pd.DataFrame, policy: Policy, register_as_of: date | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Settlements of `year` as known after quarter `as_of`: the year's quarters up to `as_of` (all four when
    `as_of` lies in a later year: the final settlement), the register as of `register_as_of` (default:
    `register_date_for(year, as_of)`).

    coverage: practice_coverage rows; holders: stg_practice_holders; steps: stg_improvement_steps.
    Returns (settlements per GP, quarter detail, reserve ledger, rounding differences).
    """
    quarters = [q for q in (Quarter(year, i) for i in range(1, 5)) if q <= as_of]
    qnames = [str(q) for q in quarters]
    cov = coverage[coverage.quarter.isin(qnames)].sort_values(["quarter", "practice_agb", "program"])
    as_of_day = register_as_of or register_date_for(year, as_of)
    known_steps = steps[steps.step_date <= as_of_day] if len(steps) else steps
    year_end = date(year, 12, 31)
    index = HolderIndex(holders)
    files = _DeliveryIndex(deliveries)
    steps_by_key = {k: g for k, g in known_steps.groupby(["practice_agb", "program"])} if len(known_steps) else {}
    no_steps = known_steps.iloc[0:0]

    detail = []
    per_gp = defaultdict(lambda: {"months": 0, "name": "", **{m: Fraction(0) for m in MONEY}})
    for r in cov.itertuples():
        q = Quarter.parse(r.quarter)
        amount = quarter_settlement_amount(r.meets_norm, r.fees_without_care)
        monthly = {"fees": Fraction(Decimal(r.fees_declared)) / 3, "amount": Fraction(amount) / 3,
                   "not_assessable": Fraction(Decimal(r.fees_not_assessable)) / 3,
                   "double_declared": Fraction(Decimal(r.fees_double_declared)) / 3}
        without_holder, unassigned = 0, Fraction(0)
        for month in q.months:
            gps = index.on(r.practice_agb, month)
            if not gps:
                without_holder += 1
                unassigned += monthly["amount"]
                continue
            for gp_agb, gp_name in gps:  # co-holders share the month evenly
                acc = per_gp[(r.practice_agb, gp_agb, r.program)]
                acc["months"] += 1
                acc["name"] = gp_name
                for m in MONEY:
                    acc[m] += monthly[m] / len(gps)
        detail.append({
            "quarter": r.quarter, "year": year, "practice_agb": r.practice_agb, "program": r.program,
            "declared_patients": r.declared_patients, "double_declared_patients": r.double_declared_patients,
            "declared_not_assessable": r.declared_not_assessable, "grace_patients": r.grace_patients,
            "assessed_patients": r.assessed_patients, "patients_with_care": r.patients_with_care,
            "patients_without_care": r.assessed_patients - r.patients_with_care, "coverage": r.coverage,
            "meets_norm": None if pd.isna(r.meets_norm) else bool(r.meets_norm),
            "fees_declared": Decimal(r.fees_declared), "fees_double_declared": Decimal(r.fees_double_declared),
            "fees_not_assessable": Decimal(r.fees_not_assessable), "fees_without_care": Decimal(r.fees_without_care),
            "settlement_amount": amount, "months_without_holder": without_holder,
            "unassigned_amount": round_half_up(unassigned), "as_of_quarter": str(as_of),
            "policy_version": policy.label,
            "input_fingerprint": files.fingerprint([r.quarter], index.text(r.practice_agb, q.peildatum, q.last_day),
                                                   policy.label),
        })

    rows, rounding = [], []
    groups = defaultdict(list)
    for (agb, gp, program), acc in per_gp.items():
        groups[(agb, program)].append((gp, acc))
    for (agb, program), items in sorted(groups.items()):
        items.sort(key=lambda x: x[0])
        key_steps = steps_by_key.get((agb, program), no_steps)
        app = step4_application(key_steps, year_end)
        step1_holders = index.on(agb, app.step1_date) if app.step1_date else []
        months = index.text(agb, date(year, 1, 1), quarters[-1].last_day)
        if app.step1_date:  # who held the practice at the binding talk decides `applied`
            months += "\nstep1:" + index.text(agb, app.step1_date, app.step1_date)
        fp = files.fingerprint(qnames, months + "\n" + _steps_text(key_steps), policy.label)
        for gp, acc in items:
            # each GP row rounded from its own exact value (RULES.md); entitled is the difference, so it never
            # exceeds what was paid
            fee, amount = round_half_up(acc["fees"]), round_half_up(acc["amount"])
            applied, reason = applies_to(app, gp, step1_holders)
            status = "geen" if amount == 0 else ("toegepast" if applied else "potentieel")
            rows.append({
                "year": year, "practice_agb": agb, "huisarts_agb": gp, "huisarts_naam": acc["name"], "program": program,
                "months_held": acc["months"], "quarters_included": f"{qnames[0]}-{qnames[-1]}" if qnames else "",
                "as_of_quarter": str(as_of), "fees_paid": fee, "settlement_amount": amount,
                "fees_entitled": fee - amount, "fees_not_assessable": round_half_up(acc["not_assessable"]),
                "fees_double_declared": round_half_up(acc["double_declared"]), "applied": applied,
                "settlement_status": status, "status_reason": "" if amount == 0 else reason,
                "policy_version": policy.label, "input_fingerprint": fp,
            })
        for m, label in (("fees", "fees_paid"), ("amount", "settlement_amount")):
            total = round_half_up(sum((acc[m] for _, acc in items), Fraction(0)))
            by_rows = sum((round_half_up(acc[m]) for _, acc in items), Decimal("0.00"))
            if total != by_rows:
                rounding.append({"year": year, "practice_agb": agb, "program": program, "as_of_quarter": str(as_of),
                                 "amount": label, "practice_total": total, "gp_rows_total": by_rows,
                                 "rounding_difference": total - by_rows})
    settlements = pd.DataFrame(rows, columns=SETTLEMENT_COLUMNS)
    reserve = (settlements[settlements.applied & (settlements.settlement_amount > 0)]
               .groupby(["year", "practice_agb", "program"], as_index=False)["settlement_amount"].sum()
               .rename(columns={"settlement_amount": "reserved_amount"}))
    reserve["as_of_quarter"] = str(as_of)
    reserve["policy_version"] = policy.label
    return (settlements, pd.DataFrame(detail, columns=DETAIL_COLUMNS), reserve[RESERVE_COLUMNS],
            pd.DataFrame(rounding, columns=ROUNDING_COLUMNS))


def insurer_split(year: int, as_of: Quarter, coverage: pd.DataFrame, by_insurer: pd.DataFrame,
                  deliveries: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The year's settlement per practice x program as known after `as_of`, split by the insurer that paid the
    fees it takes back. A quarter below the norm settles the fees of its assessed patients without care
    (quarter_settlement_amount), and each of those fees was declared to one insurer, so each insurer's part is
    exact to the cent, with no allocation key, whoever held the practice in which month; per practice-program
    the insurers add up to the quarters' amounts (money check insurer_split_adds_up).

    coverage: practice_coverage; by_insurer: practice_coverage_by_insurer."""
    qnames = [str(q) for q in (Quarter(year, i) for i in range(1, 5)) if q <= as_of]
    rows = by_insurer[by_insurer.quarter.isin(qnames)] if len(by_insurer) else by_insurer
    if not qnames or rows.empty:
        return pd.DataFrame(columns=INSURER_COLUMNS)
    norm = meets_norm_by_key(coverage)
    files = _DeliveryIndex(deliveries)
    acc: dict[tuple[str, str, str], dict] = {}
    for r in rows.itertuples():
        row = acc.setdefault((r.practice_agb, r.program, r.insurer_uzovi),
                             {"name": r.insurer_name, "fees": Decimal("0.00"), "amount": Decimal("0.00")})
        row["fees"] += Decimal(r.fees_declared)
        row["amount"] += quarter_settlement_amount(norm.get((r.quarter, r.practice_agb, r.program)),
                                                   Decimal(r.fees_without_care))
    fingerprint = files.fingerprint(qnames, "", policy.label)  # the deliveries of the year's quarters, the policy
    return pd.DataFrame([{"year": year, "as_of_quarter": str(as_of), "practice_agb": agb, "program": program,
                          "insurer_uzovi": uzovi, "insurer_name": v["name"],
                          "quarters_included": f"{qnames[0]}-{qnames[-1]}", "fees_declared": v["fees"],
                          "settlement_amount": v["amount"], "policy_version": policy.label,
                          "input_fingerprint": fingerprint}
                         for (agb, program, uzovi), v in sorted(acc.items())], columns=INSURER_COLUMNS)
