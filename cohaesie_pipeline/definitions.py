"""The one Dagster entry point: assets by layer, resources, jobs, schedule and sensor."""
from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    define_asset_job,
    in_process_executor,
    load_assets_from_modules,
)

from cohaesie_pipeline.assets import decisions, ingestion, reporting, transformation
from cohaesie_pipeline.automation import inbox_sensor, quarterly_schedule
from cohaesie_pipeline.partitions import quarter_partitions
from cohaesie_pipeline.progress import progress_logger
from cohaesie_pipeline.resources import Warehouse

ASSET_MODULES = [ingestion, transformation, decisions, reporting]

all_assets = load_assets_from_modules(ASSET_MODULES)

# Every step writes to the one DuckDB file, so the job runs its steps one after another in one process.
quarterly_job = define_asset_job(
    "quarterly_pipeline",
    selection=AssetSelection.all(),
    partitions_def=quarter_partitions,
    executor_def=in_process_executor,
    description="Ingest a quarter's delivery and the registers, build indicators, coverage, policy marts "
                "and reports for that quarter.",
)

defs = Definitions(
    assets=all_assets,
    jobs=[quarterly_job],
    schedules=[quarterly_schedule],
    sensors=[inbox_sensor],
    resources={"warehouse": Warehouse(), "dbt": transformation.dbt_resource()},
    loggers={"progress": progress_logger},
)
