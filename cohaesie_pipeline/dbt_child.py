"""`cohaesie-dbt`: dbt's own command line, in a process that dies with the run that started it.

dagster-dbt runs dbt as a child process. Were the run killed, a plain dbt child would go on writing to the
warehouse and hold DuckDB's file lock while the next run starts (processes.die_with_parent). It also runs
dbt in the folder a build names (dbt_env.py: why)."""
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
