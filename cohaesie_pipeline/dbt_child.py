"""`cohaesie-dbt`: dbt's own command line, in a process that dies with the run that started it.

Used where dbt runs as a child process: `make setup`'s parse (dbt_env.parse_project) and `cohaesie
policy-diff`'s rebuild on a copy (the pipeline's own builds run dbt in the step's process, dbt_in_process.py).
Were the parent killed, a plain dbt child would go on writing and hold DuckDB's file lock while the next run
starts (processes.die_with_parent). It also runs dbt in the folder a build names (dbt_env.py: why)."""
from __future__ import annotations

import os

from cohaesie_pipeline.dbt_env import CWD_VARIABLE
from cohaesie_pipeline.processes import die_with_parent


def main() -> None:
    die_with_parent()
    if folder := os.environ.pop(CWD_VARIABLE, None):
        os.chdir(folder)
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
