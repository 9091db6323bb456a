"""The one Dagster entry point: assets by layer, resources, jobs, schedule and sensor.

Run model (docs/design.md): only loading a quarter's delivery is partitioned by quarter; the registers, the
dbt models, the policy marts and the reports are unpartitioned and always computed over every loaded
quarter, so they are the one current truth whatever order quarters arrived in.
"""
from __future__ import annotations

from dagster import Definitions, colored_console_logger, in_process_executor, load_assets_from_modules

from cohaesie_pipeline.alerts import delivery_deadline, delivery_deadline_sensor, run_failure_alert
from cohaesie_pipeline.assets import decisions, ingestion, reporting, transformation
from cohaesie_pipeline.automation import dead_run_recovery, inbox_sensor, quarterly_schedule
from cohaesie_pipeline.jobs import delivery_job, quarterly_job, update_job
from cohaesie_pipeline.progress import progress_logger
from cohaesie_pipeline.resources import Warehouse

ASSET_MODULES = [ingestion, transformation, decisions, reporting]

all_assets = load_assets_from_modules(ASSET_MODULES)

defs = Definitions(
    assets=all_assets,
    asset_checks=[delivery_deadline],
    jobs=[quarterly_job, delivery_job, update_job],
    schedules=[quarterly_schedule],
    sensors=[inbox_sensor, dead_run_recovery, delivery_deadline_sensor, run_failure_alert],
    resources={"warehouse": Warehouse(), "dbt": transformation.dbt_resource()},
    loggers={"progress": progress_logger, "console": colored_console_logger},
    # Every route (jobs, the UI's Materialize, backfills) runs its steps one after another in one process:
    # the warehouse has one writer, and the multiprocess executor costs ~80 s a run in process start-ups.
    executor=in_process_executor,
)
