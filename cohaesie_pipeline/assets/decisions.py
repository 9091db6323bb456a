"""Policy layer: classification, policy trajectories and settlements, computed in Python from the marts
(each rule in its own module under cohaesie_pipeline/policy) and written back to the `marts` schema."""
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from cohaesie_pipeline.partitions import quarter_partitions
from cohaesie_pipeline.policy.classification import STATUSES, classify_quarter, exact_rates
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.policy.settlement import register_date_for, settle_year
from cohaesie_pipeline.policy.trajectory import trajectories
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.resources import Warehouse
from cohaesie_pipeline.warehouse_io import replace_slice

OWNER = "team:kwaliteit"
UPSTREAM = [AssetKey(["marts", "practice_indicators"]), AssetKey(["marts", "practice_coverage"]),
            AssetKey(["staging", "stg_practice_visits"]), AssetKey(["staging", "stg_improvement_steps"]),
            AssetKey(["staging", "stg_practice_holders"]), AssetKey(["staging", "stg_deliveries"])]


def _spec(name: str, description: str) -> AssetSpec:
    return AssetSpec(AssetKey(["marts", name]), description=description, group_name="policy", owners=[OWNER],
                     kinds={"python", "duckdb"}, deps=UPSTREAM)


SPECS = [
    _spec("practice_classification", "Per quarter x practice x program: on_track, watch, lagging_no_visits, "
          "improving, underperformer or no_data, with the lagging key indicators, improvement and visits."),
    _spec("policy_trajectories", "Per quarter x practice x program: current step of the underperformer policy, "
          "the next action with due date, overdue flag and a Dutch explanation."),
    _spec("settlements", "Per year x practice x GP x program: months held, fees paid, settlement (art. 4.17), "
          "fees entitled, applied or potential, policy version and input fingerprint."),
    _spec("settlement_quarter_detail", "Per quarter x practice x program: assessed, without care, coverage and "
          "the quarter's settlement amount; months without a practice holder are reported here."),
    _spec("settlement_reserve", "Applied settlement money reserved per year x practice x program, for "
          "improving care in that practice."),
]


V, D, M, N, B, F = "varchar", "date", "decimal(12, 2)", "integer", "boolean", "double"
# The policy marts' columns and types: part of the data contract (docs/data-contract-additions.md).
TYPES = {
    "classification": dict(quarter=V, peildatum=D, practice_agb=V, program=V, status=V, is_lagging=B,
                           lagging_key_indicators=V, n_lagging_key_indicators=N, lagging_details=V,
                           lagging_year_earlier=B, improvement_pp=F, visits_12m=N, policy_version=V),
    "trajectories": dict(quarter=V, peildatum=D, practice_agb=V, program=V, status=V, current_step=V, step_date=D,
                         confirmed_on=D, next_action=V, due_date=D, overdue=B, days_overdue=N,
                         improvement_reached=B, explanation_nl=V, policy_version=V),
    "settlements": dict(year=N, practice_agb=V, huisarts_agb=V, huisarts_naam=V, program=V, months_held=N,
                        quarters_included=V, as_of_quarter=V, fees_paid=M, settlement_amount=M, fees_entitled=M,
                        applied=B, settlement_status=V, policy_version=V, input_fingerprint=V),
    "detail": dict(quarter=V, year=N, practice_agb=V, program=V, declared_patients=N, grace_patients=N,
                   assessed_patients=N, patients_with_care=N, patients_without_care=N, coverage=F, meets_norm=B,
                   fees_declared=M, fees_without_care=M, settlement_amount=M, months_without_holder=N,
                   unassigned_amount=M, as_of_quarter=V, policy_version=V, input_fingerprint=V),
    "reserve": dict(year=N, practice_agb=V, program=V, reserved_amount=M, as_of_quarter=V, policy_version=V),
}


def _md(df: pd.DataFrame, n: int = 15) -> MetadataValue:
    return MetadataValue.md(df.head(n).to_markdown(index=False) if len(df) else "_no rows_")


def read_inputs(con, quarter: Quarter) -> dict[str, pd.DataFrame]:
    q, prev = str(quarter), str(quarter - 4)
    return {
        "indicators": con.execute("select * from marts.practice_indicators where quarter = ?", [q]).df(),
        "year_earlier": con.execute("select * from marts.practice_indicators where quarter = ?", [prev]).df(),
        "lagging": con.execute("""select quarter, practice_agb, program, indicator_code, numerator, denominator
                                  from marts.practice_indicators where lagging and is_key""").df(),
        "visits": con.execute("select * from staging.stg_practice_visits").df(),
        "steps": con.execute("select * from staging.stg_improvement_steps").df(),
        "holders": con.execute("select * from staging.stg_practice_holders").df(),
        "deliveries": con.execute("select * from staging.stg_deliveries").df(),
        "coverage": con.execute("select * from marts.practice_coverage").df(),
    }


def _dates(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    for c in cols:
        if c in df:
            df[c] = pd.to_datetime(df[c]).dt.date
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True)


def compute(quarter: Quarter, inputs: dict[str, pd.DataFrame], policy) -> dict[str, pd.DataFrame]:
    visits = _dates(inputs["visits"], ["visited_on"])
    steps = _dates(inputs["steps"], ["step_date", "confirmed_on"])
    holders = _dates(inputs["holders"], ["held_from", "held_until"])
    classification = classify_quarter(quarter, inputs["indicators"], inputs["year_earlier"], visits, policy)
    ind = inputs["indicators"]
    key_rates = {k: exact_rates(g) for k, g in ind[ind.is_key].groupby(["practice_agb", "program"])}
    lag = inputs["lagging"]
    lagging_at = {k: exact_rates(g) for k, g in lag.groupby(["quarter", "practice_agb", "program"])}
    traj = trajectories(quarter, steps, classification, key_rates, lagging_at, policy)
    # Every year is settled from all of its quarters in the warehouse, whichever quarter this run is for:
    # the result depends on what was loaded, never on the order quarters were run in.
    loaded = sorted({Quarter.parse(x) for x in inputs["coverage"].quarter} | {quarter})
    latest = loaded[-1].peildatum
    years = sorted({x.year for x in loaded})
    settled, detail, reserve = [], [], []
    for y in years:
        as_of = max(x for x in loaded if x.year == y)
        s, d, r = settle_year(y, as_of, inputs["coverage"], holders, steps, inputs["deliveries"], policy,
                              register_as_of=register_date_for(y, latest))
        settled.append(s), detail.append(d), reserve.append(r)
    return {"classification": classification, "trajectories": traj, "years": years,
            "settlements": _concat(settled), "detail": _concat(detail), "reserve": _concat(reserve)}


@multi_asset(specs=SPECS, partitions_def=quarter_partitions, name="policy_marts", can_subset=False, pool="warehouse")
def policy_marts(context: AssetExecutionContext, warehouse: Warehouse):
    """Applies the care group's policy for the quarter (classification, trajectories). Settlements are
    recomputed for every year from all of its loaded quarters, so they never depend on run order."""
    quarter = Quarter.parse(context.partition_key)
    policy = load_policy()
    with warehouse.connect() as con:
        out = compute(quarter, read_inputs(con, quarter), policy)
        q = str(quarter)
        years = out["years"]
        ylist = ", ".join(str(y) for y in years)
        replace_slice(con, "marts.practice_classification", out["classification"], "quarter = ?", [q],
                      TYPES["classification"])
        replace_slice(con, "marts.policy_trajectories", out["trajectories"], "quarter = ?", [q], TYPES["trajectories"])
        replace_slice(con, "marts.settlements", out["settlements"], f"year in ({ylist})", [], TYPES["settlements"])
        replace_slice(con, "marts.settlement_quarter_detail", out["detail"], f"year in ({ylist})", [],
                      TYPES["detail"])
        replace_slice(con, "marts.settlement_reserve", out["reserve"], f"year in ({ylist})", [], TYPES["reserve"])

    c, t, s, d = out["classification"], out["trajectories"], out["settlements"], out["detail"]
    counts = {st: int((c.status == st).sum()) for st in STATUSES}
    yield MaterializeResult(asset_key=SPECS[0].key, metadata={
        "quarter": q, "rows": len(c), **{f"status_{k}": v for k, v in counts.items()},
        "underperformers": _md(c[c.status == "underperformer"][["practice_agb", "program", "lagging_key_indicators",
                                                                "improvement_pp", "visits_12m"]])})
    yield MaterializeResult(asset_key=SPECS[1].key, metadata={
        "quarter": q, "rows": len(t), "overdue": int(t.overdue.sum()),
        "with_steps": int(t.current_step.notna().sum()),
        "open_actions": _md(t[t.next_action != "geen"][["practice_agb", "program", "current_step", "next_action",
                                                        "due_date", "overdue", "explanation_nl"]])})
    potential = float(s.settlement_amount.sum()) if len(s) else 0.0
    applied = float(s[s.applied].settlement_amount.sum()) if len(s) else 0.0
    yield MaterializeResult(asset_key=SPECS[2].key, metadata={
        "years": ylist, "rows": len(s), "total_settlement_eur": round(potential, 2),
        "applied_settlement_eur": round(applied, 2), "potential_only_eur": round(potential - applied, 2),
        "policy_version": policy.label,
        "largest": _md(s[s.settlement_amount > 0].sort_values("settlement_amount", ascending=False)[
            ["year", "practice_agb", "huisarts_naam", "program", "months_held", "settlement_amount", "applied"]])})
    yield MaterializeResult(asset_key=SPECS[3].key, metadata={
        "years": ylist, "rows": len(d), "below_norm": int((d.meets_norm == False).sum()),  # noqa: E712
        "months_without_holder": int(d.months_without_holder.sum()),
        "unassigned_eur": float(sum(d.unassigned_amount)) if len(d) else 0.0})
    yield MaterializeResult(asset_key=SPECS[4].key, metadata={
        "years": ylist, "reserved_eur": float(sum(out["reserve"].reserved_amount)) if len(out["reserve"]) else 0.0})
