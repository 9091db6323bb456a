"""Rule: financial settlement under contract art. 4.17 (RULES.md, Settlement).

Below the coverage norm a practice is entitled only to the fees of assessed patients who received care (and
of grace patients): the quarter's settlement is the fees of assessed patients without care. Each quarter's
amount and fees are spread evenly over its three months; a month belongs to the GP(s) holding the practice
on its first day (policy footnote 1: a GP who took over or left is assessed only on the months held).
Computation is exact (fractions); money is rounded half up to cents only on the final rows, with cents
apportioned by largest remainder where several GPs share a practice-program-year so the rows add up exactly.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.quarters import Quarter

SETTLEMENT_COLUMNS = ["year", "practice_agb", "huisarts_agb", "huisarts_naam", "program", "months_held",
                      "quarters_included", "as_of_quarter", "fees_paid", "settlement_amount", "fees_entitled",
                      "applied", "settlement_status", "policy_version", "input_fingerprint"]
DETAIL_COLUMNS = ["quarter", "year", "practice_agb", "program", "declared_patients", "grace_patients",
                  "assessed_patients", "patients_with_care", "patients_without_care", "coverage", "meets_norm",
                  "fees_declared", "fees_without_care", "settlement_amount", "months_without_holder",
                  "unassigned_amount", "as_of_quarter", "policy_version", "input_fingerprint"]
RESERVE_COLUMNS = ["year", "practice_agb", "program", "reserved_amount", "as_of_quarter", "policy_version"]

CENT = Fraction(1, 100)


def round_half_up(x: Fraction) -> Decimal:
    """Cents, half up (0.005 -> 0.01). Settlement amounts are never negative."""
    cents = (x * 100 * 2 + 1) // 2
    return Decimal(int(cents)) / 100


def apportion(values: list[Fraction]) -> list[Decimal]:
    """Round each value to cents so they add up to the half-up rounded total (largest remainder)."""
    total_cents = int((sum(values, Fraction(0)) * 100 * 2 + 1) // 2)
    floors = [int((v * 100) // 1) for v in values]
    rest = total_cents - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] * 100 - floors[i]), i))
    for i in order[:max(rest, 0)]:
        floors[i] += 1
    return [Decimal(c) / 100 for c in floors]


def quarter_settlement_amount(meets_norm: bool | None, fees_without_care: Decimal) -> Decimal:
    """Below the norm: the fees of assessed patients without care. At or above it, or not judged: nothing."""
    if meets_norm is None or pd.isna(meets_norm) or bool(meets_norm):
        return Decimal("0.00")
    return Decimal(fees_without_care)


class _HolderIndex:
    """Who held a practice on a day, from rows grouped by practice once (a pandas filter per month cost
    seconds once every year is settled as of every quarter)."""

    def __init__(self, holders: pd.DataFrame):
        self.rows: dict[str, list[tuple]] = defaultdict(list)
        for r in holders.itertuples():
            until = None if r.held_until is None or pd.isna(r.held_until) else r.held_until
            self.rows[r.practice_agb].append((r.held_from, until, r.gp_agb, r.gp_name))

    def on(self, practice_agb: str, day: date) -> list[tuple[str, str]]:
        return sorted((gp, name) for start, until, gp, name in self.rows.get(practice_agb, ())
                      if start <= day and (until is None or until >= day))

    def text(self, practice_agb: str, first: date, last: date) -> str:
        """The practice's rows as seen through the months [first, last]: only what can change an assignment
        of those months goes into a fingerprint (a later takeover date leaves an earlier quarter alone)."""
        seen = []
        for start, until, gp, name in self.rows.get(practice_agb, ()):
            if start > last or (until is not None and until < first):
                continue
            seen.append(f"{gp}|{name}|{max(start, first)}|{'' if until is None or until >= last else until}")
        return "\n".join(sorted(seen))


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


def step4_reached(steps: pd.DataFrame, practice_agb: str, program: str, by: date) -> bool:
    if steps.empty:
        return False
    s = steps[(steps.practice_agb == practice_agb) & (steps.program == program)
              & (steps.step == "4_financiele_verrekening") & (steps.step_date <= by)]
    return len(s) > 0


def register_date_for(year: int, as_of: Quarter) -> date:
    """The register is read as known on the as-of quarter's peildatum (RULES.md: a past quarter's figures are
    reproducible). The final settlement of a year is the one as of the next year's first quarter, which
    sees every step registered by 31 December (known on 1 January)."""
    return min(as_of.peildatum, date(year + 1, 1, 1))


def settle_year(year: int, as_of: Quarter, coverage: pd.DataFrame, holders: pd.DataFrame, steps: pd.DataFrame,
                deliveries: pd.DataFrame, policy: Policy, register_as_of: date | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Settlements of `year` as known after quarter `as_of`: the year's quarters up to `as_of` (all four when
    `as_of` lies in a later year: the final settlement), the register as of `register_as_of` (default:
    `register_date_for(year, as_of)`).

    coverage: practice_coverage rows; holders: stg_practice_holders; steps: stg_improvement_steps.
    Returns (settlements per GP, quarter detail, reserve ledger).
    """
    quarters = [q for q in (Quarter(year, i) for i in range(1, 5)) if q <= as_of]
    qnames = [str(q) for q in quarters]
    cov = coverage[coverage.quarter.isin(qnames)].sort_values(["quarter", "practice_agb", "program"])
    as_of_day = register_as_of or register_date_for(year, as_of)
    known_steps = steps[steps.step_date <= as_of_day] if len(steps) else steps
    year_end = date(year, 12, 31)
    index = _HolderIndex(holders)
    files = _DeliveryIndex(deliveries)
    steps_by_key = {k: g for k, g in known_steps.groupby(["practice_agb", "program"])} if len(known_steps) else {}
    no_steps = known_steps.iloc[0:0]

    detail, per_gp = [], defaultdict(lambda: {"months": 0, "fees": Fraction(0), "amount": Fraction(0), "name": ""})
    for r in cov.itertuples():
        q = Quarter.parse(r.quarter)
        amount = quarter_settlement_amount(r.meets_norm, r.fees_without_care)
        monthly_amount = Fraction(amount) / 3
        monthly_fees = Fraction(Decimal(r.fees_declared)) / 3
        without_holder, unassigned = 0, Fraction(0)
        for month in q.months:
            gps = index.on(r.practice_agb, month)
            if not gps:
                without_holder += 1
                unassigned += monthly_amount
                continue
            for gp_agb, gp_name in gps:  # co-holders share the month evenly
                acc = per_gp[(r.practice_agb, gp_agb, r.program)]
                acc["months"] += 1
                acc["fees"] += monthly_fees / len(gps)
                acc["amount"] += monthly_amount / len(gps)
                acc["name"] = gp_name
        detail.append({
            "quarter": r.quarter, "year": year, "practice_agb": r.practice_agb, "program": r.program,
            "declared_patients": r.declared_patients, "grace_patients": r.grace_patients,
            "assessed_patients": r.assessed_patients, "patients_with_care": r.patients_with_care,
            "patients_without_care": r.assessed_patients - r.patients_with_care, "coverage": r.coverage,
            "meets_norm": None if pd.isna(r.meets_norm) else bool(r.meets_norm),
            "fees_declared": Decimal(r.fees_declared), "fees_without_care": Decimal(r.fees_without_care),
            "settlement_amount": amount, "months_without_holder": without_holder,
            "unassigned_amount": round_half_up(unassigned), "as_of_quarter": str(as_of),
            "policy_version": policy.label,
            "input_fingerprint": files.fingerprint([r.quarter], index.text(r.practice_agb, q.peildatum, q.last_day),
                                                   policy.label),
        })

    rows = []
    groups = defaultdict(list)
    for (agb, gp, program), acc in per_gp.items():
        groups[(agb, program)].append((gp, acc))
    for (agb, program), items in sorted(groups.items()):
        items.sort(key=lambda x: x[0])
        # apportion the settlement and the entitlement (both >= 0 exactly); fees paid is their sum, so a row
        # never settles more than was paid, whatever the rounding
        amounts = apportion([acc["amount"] for _, acc in items])
        entitled = apportion([acc["fees"] - acc["amount"] for _, acc in items])
        key_steps = steps_by_key.get((agb, program), no_steps)
        applied = step4_reached(key_steps, agb, program, year_end)
        months = index.text(agb, date(year, 1, 1), quarters[-1].last_day)
        fp = files.fingerprint(qnames, months + "\n" + _steps_text(key_steps), policy.label)
        for (gp, acc), amount, keep in zip(items, amounts, entitled):
            fee = amount + keep
            rows.append({
                "year": year, "practice_agb": agb, "huisarts_agb": gp, "huisarts_naam": acc["name"], "program": program,
                "months_held": acc["months"], "quarters_included": f"{qnames[0]}-{qnames[-1]}" if qnames else "",
                "as_of_quarter": str(as_of), "fees_paid": fee, "settlement_amount": amount,
                "fees_entitled": fee - amount, "applied": applied,
                "settlement_status": "toegepast" if applied and amount > 0 else ("potentieel" if amount > 0 else "geen"),
                "policy_version": policy.label, "input_fingerprint": fp,
            })
    settlements = pd.DataFrame(rows, columns=SETTLEMENT_COLUMNS)
    reserve = (settlements[settlements.applied & (settlements.settlement_amount > 0)]
               .groupby(["year", "practice_agb", "program"], as_index=False)["settlement_amount"].sum()
               .rename(columns={"settlement_amount": "reserved_amount"}))
    reserve["as_of_quarter"] = str(as_of)
    reserve["policy_version"] = policy.label
    return settlements, pd.DataFrame(detail, columns=DETAIL_COLUMNS), reserve[RESERVE_COLUMNS]
