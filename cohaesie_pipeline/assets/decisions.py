"""Policy layer: classification, policy trajectories and settlements, computed in Python from the marts
(each rule in its own module under cohaesie_pipeline/policy) and written back to the `marts` schema."""
import warnings
from datetime import datetime

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from cohaesie_pipeline.assets import money_checks
from cohaesie_pipeline.inputs import CODE_VERSION, warehouse_inputs
from cohaesie_pipeline.policy.classification import COLUMNS as CLASSIFICATION_COLUMNS
from cohaesie_pipeline.policy.classification import STATUSES, classify_quarter, exact_rates, traffic_light
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.policy.holders import HolderIndex
from cohaesie_pipeline.policy.settlement import (
    DETAIL_COLUMNS,
    INSURER_COLUMNS,
    RESERVE_COLUMNS,
    ROUNDING_COLUMNS,
    SETTLEMENT_COLUMNS,
    insurer_split,
    meets_norm_by_key,
    settle_year,
)
from cohaesie_pipeline.policy.trajectory import COLUMNS as TRAJECTORY_COLUMNS
from cohaesie_pipeline.policy.trajectory import trajectories
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.resources import Warehouse
from cohaesie_pipeline.warehouse_io import replace_tables

OWNER = "team:kwaliteit"
UPSTREAM = [AssetKey(["marts", "practice_indicators"]), AssetKey(["marts", "practice_coverage"]),
            AssetKey(["marts", "practice_coverage_by_insurer"]),
            AssetKey(["staging", "stg_practice_visits"]), AssetKey(["staging", "stg_improvement_steps"]),
            AssetKey(["staging", "stg_practice_holders"]), AssetKey(["staging", "stg_deliveries"])]


def _spec(name: str, description: str) -> AssetSpec:
    return AssetSpec(AssetKey(["marts", name]), description=description, group_name="policy", owners=[OWNER],
                     kinds={"python", "duckdb"}, deps=UPSTREAM)


SPECS = [
    _spec("practice_classification", "Per quarter x practice x program, every loaded quarter: on_track, watch, "
          "lagging_no_visits, improving, underperformer or no_data, with the lagging key indicators, improvement "
          "and visits."),
    _spec("policy_trajectories", "Per quarter x practice x program, every loaded quarter: current step of the "
          "underperformer policy as of that quarter, the next action with due date, overdue flag and a Dutch "
          "explanation."),
    _spec("settlements", "Per year x practice x GP x program, as known after the latest loaded quarter: months "
          "held, fees paid, settlement (art. 4.17), fees entitled, applied or potential, policy version and input "
          "fingerprint."),
    _spec("settlements_as_of", "The settlements as known after each loaded quarter (as_of_quarter): what that "
          "quarter's reports and workbook show, whenever they are rendered."),
    _spec("settlement_quarter_detail", "Per quarter x practice x program (latest as-of): assessed, without care, "
          "coverage and the quarter's settlement amount; months without a practice holder are reported here."),
    _spec("settlement_quarter_detail_as_of", "The quarter detail as known after each loaded quarter."),
    _spec("settlement_reserve", "Applied settlement money reserved per year x practice x program (latest as-of), "
          "for improving care in that practice."),
    _spec("settlement_reserve_as_of", "The reserve as known after each loaded quarter."),
    _spec("settlement_rounding", "Per year x practice x program (latest as-of): where the GP rows, each rounded "
          "to cents from its exact value, differ from the practice's rounded total; finance books the difference "
          "on its own line."),
    _spec("settlement_rounding_as_of", "The rounding differences as known after each loaded quarter."),
    _spec("settlement_by_insurer", "Per year x practice x program x insurer (latest as-of): the declared fees and "
          "the part of the settlement that goes back to that insurer (the fees of its patients without care in "
          "the quarters below the norm)."),
    _spec("settlement_by_insurer_as_of", "The split by insurer as known after each loaded quarter."),
]
KEY = {s.key.path[-1]: s.key for s in SPECS}


V, D, M, N, B, F = "varchar", "date", "decimal(12, 2)", "integer", "boolean", "double"
# The policy marts' columns and types: part of the data contract (docs/data-contract-additions.md).
TYPES = {
    "classification": dict(quarter=V, peildatum=D, practice_agb=V, program=V, status=V, is_lagging=B,
                           lagging_key_indicators=V, n_lagging_key_indicators=N, lagging_details=V,
                           lagging_year_earlier=B, improvement_pp=F, visits_12m=N, policy_version=V,
                           traffic_light=V, light_from_coverage=B),
    "trajectories": dict(quarter=V, peildatum=D, practice_agb=V, program=V, status=V, underperformer_since=V,
                         current_step=V, step_date=D, step1_date=D, holder_changed_since_step1=B,
                         confirmed_on=D, next_action=V, due_date=D, overdue=B, days_overdue=N,
                         improvement_reached=B, explanation_nl=V, policy_version=V),
    "settlements": dict(year=N, practice_agb=V, huisarts_agb=V, huisarts_naam=V, program=V, months_held=N,
                        quarters_included=V, as_of_quarter=V, fees_paid=M, settlement_amount=M, fees_entitled=M,
                        fees_not_assessable=M, fees_double_declared=M, applied=B, settlement_status=V,
                        status_reason=V, policy_version=V, input_fingerprint=V),
    "detail": dict(quarter=V, year=N, practice_agb=V, program=V, declared_patients=N, double_declared_patients=N,
                   declared_not_assessable=N, grace_patients=N, assessed_patients=N, patients_with_care=N,
                   patients_without_care=N, coverage=F, meets_norm=B, fees_declared=M, fees_double_declared=M,
                   fees_not_assessable=M, fees_without_care=M, settlement_amount=M, months_without_holder=N,
                   unassigned_amount=M, as_of_quarter=V, policy_version=V, input_fingerprint=V),
    "reserve": dict(year=N, practice_agb=V, program=V, reserved_amount=M, as_of_quarter=V, policy_version=V),
    "rounding": dict(year=N, practice_agb=V, program=V, as_of_quarter=V, amount=V, practice_total=M,
                     gp_rows_total=M, rounding_difference=M),
    "insurer": dict(year=N, as_of_quarter=V, practice_agb=V, program=V, insurer_uzovi=V, insurer_name=V,
                    quarters_included=V, fees_declared=M, settlement_amount=M, policy_version=V, input_fingerprint=V),
    "state": dict(inputs_digest=V, policy_version=V, code_version=V, quarters=V, updated_at="timestamp"),
}


def _md(df: pd.DataFrame, n: int = 15) -> MetadataValue:
    return MetadataValue.md(df.head(n).to_markdown(index=False) if len(df) else "_no rows_")


def read_inputs(con) -> dict[str, pd.DataFrame]:
    """Everything the policy rules read, for every loaded quarter, in a fixed order: DuckDB returns rows in
    any order, and an output (a JSON list, a tie) must not depend on it."""
    return {
        "indicators": con.execute("""select * from marts.practice_indicators
                                     order by quarter, practice_agb, program, sort_order, indicator_code""").df(),
        "visits": con.execute("select * from staging.stg_practice_visits order by all").df(),
        "steps": con.execute("select * from staging.stg_improvement_steps order by source_line").df(),
        "holders": con.execute("select * from staging.stg_practice_holders order by all").df(),
        "deliveries": con.execute("select * from staging.stg_deliveries order by quarter, file_kind").df(),
        "coverage": con.execute("select * from marts.practice_coverage order by quarter, practice_agb, program").df(),
        "coverage_by_insurer": con.execute("""select * from marts.practice_coverage_by_insurer
                                              order by quarter, practice_agb, program, insurer_uzovi""").df(),
    }


def _dates(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    for c in cols:
        if c in df:
            df[c] = pd.to_datetime(df[c]).dt.date
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    with warnings.catch_warnings():  # a column all-null in one quarter (no underperformer yet) is expected
        warnings.simplefilter("ignore", FutureWarning)
        return pd.concat(frames, ignore_index=True)


def as_of_quarters(loaded: list[Quarter]) -> list[tuple[Quarter, int]]:
    """(as-of quarter, year) pairs to settle: each loaded quarter settles its own year through itself, and a
    first quarter also settles the year before it in full (the final settlement, RULES.md)."""
    years = {q.year for q in loaded}
    pairs = [(q, q.year) for q in loaded]
    pairs += [(q, q.year - 1) for q in loaded if q.q == 1 and q.year - 1 in years]
    return sorted(pairs)


def latest_as_of(frame: pd.DataFrame, latest: dict[int, str]) -> pd.DataFrame:
    """Per year the rows of the year's latest as-of quarter (`latest`): the contract tables' current truth. Taken
    from the settled pairs, not from the frame: a table that has no rows in the latest as-of (no rounding
    difference any more) must not fall back to an older one."""
    if frame.empty:
        return frame
    return frame[frame.as_of_quarter == frame.year.map(latest)].reset_index(drop=True)


def with_traffic_light(classification: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """The traffic light of each classification row (policy.classification.traffic_light), from its status and
    the same quarter's coverage norm."""
    norm = meets_norm_by_key(coverage)
    lights = [traffic_light(st, norm.get((q, a, p))) for q, a, p, st in zip(
        classification.quarter, classification.practice_agb, classification.program, classification.status)]
    out = classification.copy()
    out["traffic_light"] = [c for c, _ in lights]
    out["light_from_coverage"] = [b for _, b in lights]
    return out


def compute(inputs: dict[str, pd.DataFrame], policy, quarters: list[Quarter] | None = None
            ) -> dict[str, pd.DataFrame]:
    """Classification and trajectories of every loaded quarter, and every year's settlements as known after
    each quarter. Each quarter reads only itself and earlier quarters, so a result never depends on the order
    in which quarters were loaded or on quarters loaded after it."""
    visits = _dates(inputs["visits"], ["visited_on"])
    steps = _dates(inputs["steps"], ["step_date", "confirmed_on"])
    holders = _dates(inputs["holders"], ["held_from", "held_until"])
    ind = inputs["indicators"]
    by_quarter = {q: g for q, g in ind.groupby("quarter")}
    empty = ind.iloc[0:0]
    loaded = quarters or sorted(Quarter.parse(q) for q in set(ind.quarter) | set(inputs["coverage"].quarter))
    lag = ind[ind.is_key & ind.lagging]
    lagging_at = {k: exact_rates(g) for k, g in lag.groupby(["quarter", "practice_agb", "program"])}

    holder_index = HolderIndex(holders)
    classified, traj = [], []
    since: dict[tuple[str, str], Quarter] = {}  # start of each practice-program's unbroken underperformer run
    previous: set[tuple[str, str]] = set()
    for quarter in loaded:
        rows = by_quarter.get(str(quarter), empty)
        c = classify_quarter(quarter, rows, by_quarter.get(str(quarter - 4), empty), visits, policy)
        key_rates = {k: exact_rates(g) for k, g in rows[rows.is_key].groupby(["practice_agb", "program"])}
        now = {(a, p) for a, p, st in zip(c.practice_agb, c.program, c.status) if st == "underperformer"}
        # a run is unbroken only over consecutive loaded quarters
        carried = previous if str(quarter - 1) in by_quarter else set()
        since = {k: (since[k] if k in carried else quarter) for k in now}
        previous = now
        classified.append(c)
        traj.append(trajectories(quarter, steps, c, key_rates, lagging_at, policy, since, holder_index))

    settled, detail, reserve, rounding, insurers = [], [], [], [], []
    pairs = as_of_quarters(loaded)
    latest = {year: str(as_of) for as_of, year in pairs}  # sorted: the last one per year wins
    for as_of, year in pairs:
        s, d, r, rd = settle_year(year, as_of, inputs["coverage"], holders, steps, inputs["deliveries"], policy)
        settled.append(s), detail.append(d), reserve.append(r), rounding.append(rd)
        insurers.append(insurer_split(year, as_of, inputs["coverage"], inputs["coverage_by_insurer"],
                                      inputs["deliveries"], policy))
    out = {"classification": with_traffic_light(_concat(classified, CLASSIFICATION_COLUMNS), inputs["coverage"]),
           "trajectories": _concat(traj, TRAJECTORY_COLUMNS),
           "settlements_as_of": _concat(settled, SETTLEMENT_COLUMNS), "detail_as_of": _concat(detail, DETAIL_COLUMNS),
           "reserve_as_of": _concat(reserve, RESERVE_COLUMNS), "rounding_as_of": _concat(rounding, ROUNDING_COLUMNS),
           "insurer_as_of": _concat(insurers, INSURER_COLUMNS),
           "quarters": [str(q) for q in loaded]}
    out["settlements"] = latest_as_of(out["settlements_as_of"], latest)
    out["detail"] = latest_as_of(out["detail_as_of"], latest)
    out["reserve"] = latest_as_of(out["reserve_as_of"], latest)
    out["rounding"] = latest_as_of(out["rounding_as_of"], latest)
    out["insurer"] = latest_as_of(out["insurer_as_of"], latest)
    return out


# table -> (frame in compute()'s output, column types)
TABLES = {
    "marts.practice_classification": ("classification", TYPES["classification"]),
    "marts.policy_trajectories": ("trajectories", TYPES["trajectories"]),
    "marts.settlements": ("settlements", TYPES["settlements"]),
    "marts.settlements_as_of": ("settlements_as_of", TYPES["settlements"]),
    "marts.settlement_quarter_detail": ("detail", TYPES["detail"]),
    "marts.settlement_quarter_detail_as_of": ("detail_as_of", TYPES["detail"]),
    "marts.settlement_reserve": ("reserve", TYPES["reserve"]),
    "marts.settlement_reserve_as_of": ("reserve_as_of", TYPES["reserve"]),
    "marts.settlement_rounding": ("rounding", TYPES["rounding"]),
    "marts.settlement_rounding_as_of": ("rounding_as_of", TYPES["rounding"]),
    "marts.settlement_by_insurer": ("insurer", TYPES["insurer"]),
    "marts.settlement_by_insurer_as_of": ("insurer_as_of", TYPES["insurer"]),
}


def _eur(frame: pd.DataFrame, column: str) -> float:
    return round(float(sum(frame[column])), 2) if len(frame) else 0.0


@multi_asset(specs=SPECS, name="policy_marts", can_subset=False, check_specs=money_checks.check_specs())
def policy_marts(context: AssetExecutionContext, warehouse: Warehouse):
    """Applies the care group's policy to every loaded quarter (classification, trajectories) and settles
    every year as known after each quarter. Recomputed whole on every run: it takes about a second, and
    nothing can then depend on which quarters ran before."""
    policy = load_policy()
    with warehouse.writer(context) as con:
        out = compute(read_inputs(con), policy)
        raw, _ = warehouse_inputs(con)
        raw.policy, raw.code = policy.label, CODE_VERSION
        # what these marts were computed from: `cohaesie run` and the sensor compare it with the inputs on disk
        state = pd.DataFrame([{"inputs_digest": raw.whole(), "policy_version": policy.label, "code_version": raw.code,
                               "quarters": ",".join(out["quarters"]), "updated_at": datetime.now()}])
        replace_tables(con, [(table, out[frame], types) for table, (frame, types) in TABLES.items()]
                       + [("marts.pipeline_state", state, TYPES["state"])])
        checks = money_checks.evaluate(con)

    c, t, s, d = out["classification"], out["trajectories"], out["settlements"], out["detail"]
    quarters = out["quarters"]
    last = quarters[-1] if quarters else None
    lc, lt = c[c.quarter == last], t[t.quarter == last]
    counts = {st: int((lc.status == st).sum()) for st in STATUSES}
    yield MaterializeResult(asset_key=KEY["practice_classification"], metadata={
        "quarters": ", ".join(quarters), "dagster/row_count": len(c), "latest_quarter": last or "",
        **{f"latest_status_{k}": v for k, v in counts.items()},
        "underperformers_latest": _md(lc[lc.status == "underperformer"][
            ["practice_agb", "program", "lagging_key_indicators", "improvement_pp", "visits_12m"]])})
    yield MaterializeResult(asset_key=KEY["policy_trajectories"], metadata={
        "dagster/row_count": len(t), "latest_quarter": last or "", "latest_overdue": int(lt.overdue.sum()),
        "latest_open_actions": _md(lt[lt.next_action != "geen"][["practice_agb", "program", "current_step",
                                                                 "next_action", "due_date", "overdue"]])})
    applied = s[s.applied] if len(s) else s
    yield MaterializeResult(asset_key=KEY["settlements"], metadata={
        "years": ", ".join(str(y) for y in sorted(set(s.year))) if len(s) else "", "dagster/row_count": len(s),
        "as_of": ", ".join(sorted(set(s.as_of_quarter))) if len(s) else "",
        # per year, as known after that year's latest as-of quarter: a plot over runs then follows the money of
        # a year, not whichever years happened to be loaded
        **{f"settlement_{y}_eur": _eur(s[s.year == y], "settlement_amount") for y in sorted(set(s.year))},
        **{f"applied_{y}_eur": _eur(applied[applied.year == y], "settlement_amount") for y in sorted(set(s.year))},
        "money_per_year": _md(pd.DataFrame([
            {"year": y, "as_of": g.as_of_quarter.iloc[0], "settlement_eur": _eur(g, "settlement_amount"),
             "applied_eur": _eur(g[g.applied], "settlement_amount"), "gp_rows": len(g)}
            for y, g in s.groupby("year")]) if len(s) else s),
        "policy_version": policy.label,
        "largest": _md(s[s.settlement_amount > 0].sort_values("settlement_amount", ascending=False)[
            ["year", "practice_agb", "huisarts_naam", "program", "months_held", "settlement_amount", "applied"]])})
    yield MaterializeResult(asset_key=KEY["settlements_as_of"], metadata={
        "dagster/row_count": len(out["settlements_as_of"]),
        "as_of_quarters": ", ".join(sorted(set(out["settlements_as_of"].as_of_quarter)))})
    yield MaterializeResult(asset_key=KEY["settlement_quarter_detail"], metadata={
        "dagster/row_count": len(d), "below_norm": int((d.meets_norm == False).sum()),  # noqa: E712
        "months_without_holder": int(d.months_without_holder.sum()) if len(d) else 0,
        "unassigned_eur": _eur(d, "unassigned_amount")})
    yield MaterializeResult(asset_key=KEY["settlement_quarter_detail_as_of"],
                            metadata={"dagster/row_count": len(out["detail_as_of"])})
    yield MaterializeResult(asset_key=KEY["settlement_reserve"], metadata={
        "dagster/row_count": len(out["reserve"]), "reserved_eur": _eur(out["reserve"], "reserved_amount")})
    yield MaterializeResult(asset_key=KEY["settlement_reserve_as_of"], metadata={"dagster/row_count": len(out["reserve_as_of"])})
    yield MaterializeResult(asset_key=KEY["settlement_rounding"], metadata={
        "dagster/row_count": len(out["rounding"]), "rounding_difference_eur": _eur(out["rounding"], "rounding_difference")})
    yield MaterializeResult(asset_key=KEY["settlement_rounding_as_of"], metadata={"dagster/row_count": len(out["rounding_as_of"])})
    yield MaterializeResult(asset_key=KEY["settlement_by_insurer"], metadata={
        "dagster/row_count": len(out["insurer"]), "insurers": int(out["insurer"].insurer_uzovi.nunique()),
        **{f"settlement_{y}_eur": _eur(g, "settlement_amount") for y, g in out["insurer"].groupby("year")}})
    yield MaterializeResult(asset_key=KEY["settlement_by_insurer_as_of"],
                            metadata={"dagster/row_count": len(out["insurer_as_of"])})
    yield from checks
