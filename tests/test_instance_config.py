"""The instance config `make ui` and `make run` use must load: Dagster validates it strictly."""
from __future__ import annotations

import shutil

from dagster import DagsterInstance

from cohaesie_pipeline.paths import REPO_ROOT


def test_shipped_instance_config_loads_and_limits_concurrency(tmp_path, monkeypatch):
    shutil.copy(REPO_ROOT / "ops" / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
