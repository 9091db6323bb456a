"""The dbt unit tests (models/*/_unit_tests.yml: hand-computed cases of every indicator, coverage and reference
rule). The pipeline's own builds leave them out (they test logic on fixtures, not the data); here they run
against a copy of the demo warehouse, which provides the relations dbt introspects for column types."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from cohaesie_pipeline.paths import DBT_PROJECT_DIR
from cohaesie_pipeline.policy.config import load_policy


def test_every_dbt_unit_test_passes(demo_root, tmp_path):
    db = tmp_path / "cohaesie.duckdb"
    shutil.copy(demo_root / "data" / "warehouse" / "cohaesie.duckdb", db)
    env = {"COHAESIE_WAREHOUSE_PATH": str(db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    res = subprocess.run([str(Path(sys.executable).parent / "dbt"), "test", "--select", "test_type:unit",
                          "--vars", json.dumps(load_policy().dbt_vars()), "--project-dir", str(DBT_PROJECT_DIR),
                          "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
                          "--log-path", str(tmp_path / "logs"), "--log-format", "json"],
                         capture_output=True, text=True, env=env, cwd=DBT_PROJECT_DIR)
    results = [json.loads(line)["data"] for line in res.stdout.splitlines()
               if '"LogTestResult"' in line]
    names = {r["name"].split("::")[-1] for r in results}  # "model::unit test"
    assert res.returncode == 0, "\n".join(f"{r['name']}: {r['status']}" for r in results if r["status"] != "pass")
    # the rules of issue 15 are among them, and nothing was skipped
    assert {"reference_targets_boundary", "reference_care_group_previous_year_boundary",
            "reference_values_latest_import_wins", "lagging_and_too_small",
            "board_coverage_hides_a_second_part_beside_a_small_one", "board_rates_only_beside_counts_that_may_be_shown",
            "practice_changes_beyond_the_threshold_and_chance", "practices_sharing_a_name_are_told_apart_by_town"} <= names
    assert len(results) >= 13 and all(r["status"] == "pass" for r in results)
