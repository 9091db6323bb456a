"""The pipeline's jobs. Run model (docs/design.md): only loading a quarter's delivery is partitioned by
quarter; the registers, the dbt models, the policy marts and the reports are unpartitioned and always
computed over every loaded quarter, so they are the one current truth whatever order quarters arrived in."""
from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from cohaesie_pipeline.assets.ingestion import quarterly_delivery

DELIVERY = AssetSelection.assets(quarterly_delivery)
UPDATE = AssetSelection.all() - DELIVERY

# Load a quarter's delivery and bring everything that depends on it up to date: the UI's and the sensor's run.
quarterly_job = define_asset_job(
    "quarterly_pipeline", selection=AssetSelection.all(),
    description="Load the quarter's delivery (or a range of quarters), then the registers, and rebuild every "
                "loaded quarter's marts, policy decisions and money; render the reports whose inputs changed.")
# Only load deliveries: `cohaesie run` and the sensor load several quarters this way before one update run.
delivery_job = define_asset_job(
    "load_delivery", selection=DELIVERY,
    description="Validate and load one quarter's delivery into raw; nothing downstream.")
# Everything downstream of the deliveries: after a register or policy change, or after loading deliveries.
update_job = define_asset_job(
    "update_pipeline", selection=UPDATE,
    description="Reload the registers and rebuild every loaded quarter's marts, policy decisions and money; "
                "render the reports whose inputs changed (run config `quarters` renders chosen ones again).")
