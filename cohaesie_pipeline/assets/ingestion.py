"""Ingestion layer: each quarter's delivery and the care group's registers, validated against the data
contract (ingestion/contract.py: SQL checks in DuckDB) and loaded into the warehouse's `raw` schema in one transaction.

Only loading a delivery belongs to one quarter, so only `quarterly_delivery` is partitioned. A run for
several quarters (a backfill, `cohaesie run --all`) loads them in one run, each quarter in its own
transaction (single-run backfill policy). The registers hold their own history in dates, so they are one
unpartitioned asset, reloaded whole on every run.
"""

from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from cohaesie_pipeline.ingestion.errors import ValidationFailed
from cohaesie_pipeline.ingestion.loader import (
    DELIVERY_FILES,
    REGISTER_FILES,
    load_delivery,
    load_registers,
    register_agbs,
)
from cohaesie_pipeline.ingestion.reference import read_log
from cohaesie_pipeline.partitions import quarter_partitions
from cohaesie_pipeline.paths import inbox_dir, registers_dir
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.resources import Warehouse

OWNER = "team:data-engineering"

_DESCRIPTIONS = {
    "patienten": "Enrolment in the chronic-care programs on the peildatum (patienten.csv/.xlsx), per quarter.",
    "meetwaarden": "Measurements of the enrolled patients, 36 months of history (meetwaarden.csv/.xlsx).",
    "declaraties": "Chain-care fees declared for the quarter (declaraties.csv/.xlsx).",
    "praktijken": "Register of member practices (praktijken.csv).",
    "praktijkhouders": "Register of the GPs holding each practice over time (praktijkhouders.csv).",
    "praktijkbezoeken": "Register of practice visits by the consultants (praktijkbezoeken.csv).",
    "verbetertrajecten": "Register of improvement trajectory steps (verbetertrajecten.csv).",
}
CONTRACT_CHECK = "passes_data_contract"


def _specs(kinds) -> list[AssetSpec]:
    return [AssetSpec(AssetKey(["raw", k]), description=_DESCRIPTIONS[k], group_name="ingestion", owners=[OWNER],
                      kinds={"duckdb"}) for k in kinds]


def _checks(kinds) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(CONTRACT_CHECK, asset=AssetKey(["raw", k]),
                           description="Every row passed the data contract's checks (types, codes, "
                                       "dates, amounts, no BSN-like ids). Fails with the file, line, column and "
                                       "count of each problem; the quarter is in the metadata.") for k in kinds]


def _failed_checks(exc: ValidationFailed, kinds, extra: dict):
    """A failed contract check per file kind with the problems as metadata, yielded before the step fails, so
    the asset's check history says what was wrong and where (patient identifiers withheld, errors.py)."""
    by_kind: dict[str, list] = {}
    for p in exc.problems:
        kind = Path(p.file).name.split(".")[0]
        for k in ([kind] if kind in kinds else kinds):  # a folder-level problem concerns every file
            by_kind.setdefault(k, []).append(p)
    for kind, problems in by_kind.items():
        table = ["| file | line | column | value | problem | rows |", "|---|---|---|---|---|---|"] + [
            f"| {Path(p.file).name} | {p.line or ''} | {p.column or ''} | {'' if p.value is None else p.value} "
            f"| {p.problem} | {p.total} |" for p in problems[:20]]
        yield AssetCheckResult(asset_key=AssetKey(["raw", kind]), check_name=CONTRACT_CHECK, passed=False,
                               metadata={**extra, "problems": MetadataValue.md("\n".join(table)),
                                         "rows_with_problems": sum(p.total for p in problems),
                                         "message": MetadataValue.text(exc.message)})


def _results(result, extra: dict | None = None):
    for fr in result.files:
        key = AssetKey(["raw", fr.kind])
        meta = {"file": MetadataValue.path(str(fr.path)), "sha256": fr.sha256, "encoding": fr.encoding,
                "rows_read": fr.rows_read, "rows_loaded": fr.rows_loaded, "dagster/row_count": fr.rows_loaded,
                **(extra or {})}
        yield MaterializeResult(asset_key=key, metadata=meta)
        yield AssetCheckResult(asset_key=key, check_name=CONTRACT_CHECK, passed=fr.rows_loaded == fr.rows_read,
                               metadata={"rows_checked": fr.rows_read})


DELIVERY_LOG = AssetSpec(AssetKey(["raw", "deliveries"]), group_name="ingestion", owners=[OWNER], kinds={"duckdb"},
                         description="One row per loaded delivery file: quarter, file, content hash (sha256), "
                                     "rows read and loaded. Settlements fingerprint their inputs from it.")


@multi_asset(specs=[*_specs(DELIVERY_FILES), DELIVERY_LOG], check_specs=_checks(DELIVERY_FILES), partitions_def=quarter_partitions,
             backfill_policy=BackfillPolicy.single_run(), name="quarterly_delivery", can_subset=False)
def quarterly_delivery(context: AssetExecutionContext, warehouse: Warehouse):
    """Replaces each quarter of the run in raw.patienten, raw.meetwaarden and raw.declaraties atomically: a
    delivery that fails validation changes nothing for that quarter."""
    try:
        quarters = sorted(Quarter.parse(k) for k in context.partition_keys)
    except ValueError as exc:
        raise Failure(description=f"{exc}; remove this partition with `cohaesie partitions remove "
                                  f"{' '.join(context.partition_keys)}`") from None
    missing = [str(q) for q in quarters if not (inbox_dir() / str(q)).is_dir()]
    if missing:
        # a partition added by hand (the UI's "Add partition") without a delivery: nothing to load, and not a
        # reason to mark the raw tables' checks red
        raise Failure(description=f"no delivery folder for {', '.join(missing)} in {inbox_dir()}: put the "
                                  f"quarter's export there, or remove the partition with `cohaesie partitions "
                                  f"remove {' '.join(missing)}`")
    results, failed = [], None
    practices = register_agbs(registers_dir())
    with warehouse.writer(context) as con:
        for quarter in quarters:
            folder = inbox_dir() / str(quarter)
            try:
                result = load_delivery(con, quarter, folder, practices=practices)
            except ValidationFailed as exc:
                failed = exc
                break
            context.log.info("loaded %s: %s", quarter, ", ".join(f"{f.kind} {f.rows_loaded} rows" for f in result.files))
            results.append((quarter, result))
    if failed is not None:
        # quarters loaded before the bad one stay loaded (each is its own transaction); the bad one changed nothing
        yield from _failed_checks(failed, DELIVERY_FILES, {"quarter": str(quarter), "folder": str(folder)})
        raise Failure(description=str(failed), metadata={"quarter": str(quarter),
                                                          "folder": MetadataValue.path(str(folder))})
    if len(results) == 1:
        yield from _results(results[0][1], {"quarter": str(results[0][0])})
    else:  # one event per asset for the run's range of quarters
        by_kind = {}
        for _q, r in results:
            for fr in r.files:
                by_kind.setdefault(fr.kind, []).append(fr)
        for kind, frs in by_kind.items():
            key = AssetKey(["raw", kind])
            yield MaterializeResult(asset_key=key, metadata={
                "quarters": ", ".join(str(q) for q, _r in results), "rows_loaded": sum(f.rows_loaded for f in frs)})
            yield AssetCheckResult(asset_key=key, check_name=CONTRACT_CHECK,
                                   passed=all(f.rows_loaded == f.rows_read for f in frs),
                                   metadata={"rows_checked": sum(f.rows_read for f in frs)})
    yield MaterializeResult(asset_key=DELIVERY_LOG.key, metadata={
        "quarters": ", ".join(str(q) for q, _r in results),
        "files": MetadataValue.md("\n".join(["| quarter | file | sha256 | rows |", "|---|---|---|---|"] + [
            f"| {q} | {f.path.name} | `{f.sha256[:16]}…` | {f.rows_loaded} |" for q, r in results for f in r.files]))})


REFERENCE_VALUES = AssetSpec(
    AssetKey(["raw", "reference_values"]), group_name="ingestion", owners=["team:kwaliteit"], kinds={"duckdb"},
    description="National (InEen) rates and targets imported by staff with `cohaesie reference import`, with who "
                "imported which file when (its sha256). The shipped seeds fill what no import covers.")


@multi_asset(specs=[*_specs(REGISTER_FILES), REFERENCE_VALUES], check_specs=_checks(REGISTER_FILES),
             name="registers", can_subset=False)
def registers(context: AssetExecutionContext, warehouse: Warehouse):
    """The care group's registers as they are now. They hold their own history (dates), so every run reloads
    them whole and the policy steps read them as of each quarter's peildatum."""
    folder = registers_dir()
    try:
        with warehouse.writer(context) as con:
            result = load_registers(con, folder)
    except ValidationFailed as exc:
        yield from _failed_checks(exc, REGISTER_FILES, {"folder": str(folder)})
        raise Failure(description=str(exc), metadata={"folder": MetadataValue.path(str(folder))}) from None
    yield from _results(result)
    log = read_log(folder)
    yield MaterializeResult(asset_key=REFERENCE_VALUES.key, metadata={
        "dagster/row_count": result.reference_rows, "imports": len(log),
        "latest_import": MetadataValue.text("none: shipped defaults only" if log.empty else
                                            f"{log.import_id.iloc[-1]} ({log.file_name.iloc[-1]}, "
                                            f"{log.imported_by.iloc[-1]})")})
