"""Invariants of the policy and money marts, as asset checks on `policy_marts` (issue 14).

Each invariant is one DuckDB query returning the rows that break it; the check passes when there are none and
otherwise shows how many and the first of them (practice AGBs and amounts, never a patient). They run over the
`*_as_of` tables, so every quarter's view of the money is checked, not only the latest. The money checks are
blocking: reports and the finance workbook are not rendered from money that does not add up.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue


@dataclass(frozen=True)
class Invariant:
    name: str
    table: str  # the mart (asset key marts/<table>) the check is shown on
    description: str
    sql: str  # returns the offending rows
    blocking: bool = True


INVARIANTS = [
    Invariant(
        "settlement_within_fees_paid", "settlements",
        "Every GP row: 0 <= settlement_amount <= fees_paid and fees_entitled = fees_paid - settlement_amount.",
        """select as_of_quarter, year, practice_agb, huisarts_agb, program, fees_paid, settlement_amount, fees_entitled
           from marts.settlements_as_of
           where settlement_amount < 0 or settlement_amount > fees_paid
              or fees_entitled <> fees_paid - settlement_amount"""),
    Invariant(
        "status_matches_amount_and_applied", "settlements",
        "toegepast = applied and an amount; potentieel = an amount not applied; geen = nothing to settle; "
        "every row with an amount says why (status_reason).",
        """select as_of_quarter, year, practice_agb, huisarts_agb, program, settlement_amount, applied,
                  settlement_status
           from marts.settlements_as_of
           where settlement_status <> case when settlement_amount = 0 then 'geen'
                                           when applied then 'toegepast' else 'potentieel' end
              or (settlement_amount > 0 and coalesce(status_reason, '') = '')"""),
    Invariant(
        "fingerprint_and_policy_recorded", "settlements",
        "Every money row records the inputs it came from (input_fingerprint) and the policy version.",
        """select as_of_quarter, year, practice_agb, huisarts_agb, program from marts.settlements_as_of
           where input_fingerprint is null or input_fingerprint not like 'sha256:%'
              or coalesce(policy_version, '') = ''
           union all
           select as_of_quarter, year, practice_agb, null, program from marts.settlement_quarter_detail_as_of
           where input_fingerprint is null or input_fingerprint not like 'sha256:%'
              or coalesce(policy_version, '') = ''"""),
    Invariant(
        "quarters_add_up_to_gp_rows", "settlement_quarter_detail",
        "Per year x practice x program x as-of quarter: the quarters' settlement amounts = the GP rows + the "
        "rounding difference + what months without a holder left unassigned (each of those rounded per quarter: "
        "within a cent per quarter).",
        """with d as (select as_of_quarter, year, practice_agb, program, sum(settlement_amount) as quarters,
                             sum(unassigned_amount) as unassigned, count(*) as n
                      from marts.settlement_quarter_detail_as_of group by all),
                s as (select as_of_quarter, year, practice_agb, program, sum(settlement_amount) as gp_rows
                      from marts.settlements_as_of group by all),
                r as (select as_of_quarter, year, practice_agb, program, sum(rounding_difference) as rounding
                      from marts.settlement_rounding_as_of where amount = 'settlement_amount' group by all)
           select d.*, coalesce(s.gp_rows, 0) as gp_rows, coalesce(r.rounding, 0) as rounding
           from d
           left join s using (as_of_quarter, year, practice_agb, program)
           left join r using (as_of_quarter, year, practice_agb, program)
           where abs(d.quarters - coalesce(s.gp_rows, 0) - coalesce(r.rounding, 0) - d.unassigned) > 0.01 * d.n"""),
    Invariant(
        "every_declared_euro_accounted_for", "settlement_quarter_detail",
        "Per quarter x practice x program the detail finance reconciles against equals the coverage mart, and "
        "declared = CVRM next to DM2 + not assessable + grace + assessed, in patients and in euros.",
        """select d.as_of_quarter, d.quarter, d.practice_agb, d.program, d.declared_patients, d.fees_declared
           from marts.settlement_quarter_detail_as_of as d
           left join marts.practice_coverage as c using (quarter, practice_agb, program)
           where c.quarter is null
              or d.declared_patients <> c.double_declared_patients + c.declared_not_assessable + c.grace_patients
                                        + c.assessed_patients
              or d.fees_declared <> c.fees_double_declared + c.fees_not_assessable + c.fees_grace + c.fees_with_care
                                    + c.fees_without_care
              or d.fees_declared <> c.fees_declared or d.fees_without_care <> c.fees_without_care
              or d.fees_not_assessable <> c.fees_not_assessable or d.fees_double_declared <> c.fees_double_declared"""),
    Invariant(
        "reserve_equals_applied_settlements", "settlement_reserve",
        "The reserve per year x practice x program is exactly the applied settlement money, nothing else.",
        """with a as (select as_of_quarter, year, practice_agb, program, sum(settlement_amount) as applied
                      from marts.settlements_as_of where applied and settlement_amount > 0 group by all)
           select coalesce(a.as_of_quarter, r.as_of_quarter) as as_of_quarter, coalesce(a.year, r.year) as year,
                  coalesce(a.practice_agb, r.practice_agb) as practice_agb, coalesce(a.program, r.program) as program,
                  a.applied, r.reserved_amount
           from a full outer join marts.settlement_reserve_as_of as r using (as_of_quarter, year, practice_agb, program)
           where a.applied is distinct from r.reserved_amount"""),
    Invariant(
        "insurer_split_adds_up", "settlement_by_insurer",
        "Per year x practice x program x as-of quarter: the insurers' parts add up to the quarters' settlement "
        "amounts and their declared fees to the quarters' declared fees, to the cent.",
        """with i as (select as_of_quarter, year, practice_agb, program, sum(settlement_amount) as insurers,
                             sum(fees_declared) as insurer_fees
                      from marts.settlement_by_insurer_as_of group by all),
                d as (select as_of_quarter, year, practice_agb, program, sum(settlement_amount) as quarters,
                             sum(fees_declared) as fees
                      from marts.settlement_quarter_detail_as_of group by all)
           select as_of_quarter, year, practice_agb, program, d.quarters, i.insurers, d.fees, i.insurer_fees
           from d full outer join i using (as_of_quarter, year, practice_agb, program)
           where d.quarters is distinct from i.insurers or d.fees is distinct from i.insurer_fees"""),
    Invariant(
        "one_status_per_practice_program_quarter", "practice_classification",
        "Exactly one known status per quarter x practice x program.",
        """select quarter, practice_agb, program, count(*) as rows, min(status) as status
           from marts.practice_classification group by all
           having count(*) <> 1
               or bool_or(status not in ('no_data', 'on_track', 'watch', 'lagging_no_visits', 'improving',
                                         'underperformer'))""",
        blocking=False),
    Invariant(
        "one_trajectory_row_per_practice_program_quarter", "policy_trajectories",
        "At most one trajectory row per quarter x practice x program, each with a next action.",
        """select quarter, practice_agb, program, count(*) as rows from marts.policy_trajectories group by all
           having count(*) <> 1 or bool_or(next_action is null)""",
        blocking=False),
]


def check_specs() -> list[AssetCheckSpec]:
    return [AssetCheckSpec(i.name, asset=AssetKey(["marts", i.table]), description=i.description,
                           blocking=i.blocking) for i in INVARIANTS]


def violations(con, invariant: Invariant) -> pd.DataFrame:
    return con.execute(invariant.sql + " order by all").df()


def evaluate(con) -> list[AssetCheckResult]:
    """Every invariant against the marts as written (same connection, after the transaction)."""
    results = []
    for inv in INVARIANTS:
        bad = violations(con, inv)
        results.append(AssetCheckResult(
            asset_key=AssetKey(["marts", inv.table]), check_name=inv.name, passed=bad.empty,
            severity=AssetCheckSeverity.ERROR if inv.blocking else AssetCheckSeverity.WARN,
            description=inv.description,
            metadata={"violations": len(bad),
                      "first_violations": MetadataValue.md(bad.head(10).to_markdown(index=False) if len(bad)
                                                           else "_none_")}))
    return results
