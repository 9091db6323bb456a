"""How dbt is started, so that it re-parses the project only when the project changed.

dbt saves its parse (`partial_parse.msgpack`) and reuses it only when, among other things, the rendered
profile and the `--vars` are the same as when it was saved. The profile names the warehouse file, so with
its absolute path every warehouse (each test root, a fresh `make run`, the benchmark) started with a full
parse: 3.3 s instead of 0.5 s, on top of dbt's 1.4 s start-up. Builds therefore run dbt inside the
warehouse's folder and name the file without its folder, and `make setup` parses with the same name and the
policy's vars: the first build of any warehouse reuses that parse, and each later one its own
(transformation.target_path_of). dbt still checks every file's hash, so an edited model is parsed again.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cohaesie_pipeline.paths import DBT_PROJECT_DIR, warehouse_path
from cohaesie_pipeline.processes import environment

# dbt next to this interpreter (the venv need not be activated for `cohaesie` or the UI), started through
# `cohaesie-dbt` so that it dies with the run that started it (dbt_child.py): the parse here and policy-diff's
# rebuild. The pipeline's builds run dbt in the step's own process (dbt_in_process.py) and only take the folder
# and the warehouse's name from here.
_BIN = Path(sys.executable).parent
DBT_EXECUTABLE = str(_BIN / "cohaesie-dbt") if (_BIN / "cohaesie-dbt").exists() else str(_BIN / "dbt")

CWD_VARIABLE = "COHAESIE_DBT_CWD"  # read by cohaesie-dbt (dbt_child.py): the folder dbt runs in


def build_environment(warehouse: Path) -> dict[str, str]:
    """What a build's dbt process needs beside the environment: the warehouse by file name (profiles.yml),
    run from its folder. A plain `dbt` (the package installed without its entry points) cannot change its
    folder, so it gets the whole path and parses in full."""
    if not DBT_EXECUTABLE.endswith("cohaesie-dbt"):
        return {"COHAESIE_WAREHOUSE_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return {"COHAESIE_WAREHOUSE_PATH": warehouse.name, CWD_VARIABLE: str(warehouse.parent),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def environment_for_build(warehouse: Path):
    """dagster-dbt starts dbt with a copy of os.environ: set the build's variables while it starts it."""
    return environment(build_environment(warehouse))


def parse_project() -> None:
    """`dbt parse` as the builds will see the project (manifest.json for the Dagster definitions, and the saved
    parse the builds start from)."""
    from cohaesie_pipeline.policy.config import load_policy

    env = {**os.environ, **build_environment(warehouse_path())}
    env.pop(CWD_VARIABLE, None)  # parsing opens no warehouse, which need not exist yet
    subprocess.run([DBT_EXECUTABLE, "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                    str(DBT_PROJECT_DIR), "--quiet", "--vars", json.dumps(load_policy().dbt_vars())],
                   check=True, env=env, cwd=DBT_PROJECT_DIR)


if __name__ == "__main__":
    parse_project()
