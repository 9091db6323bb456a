"""`cohaesie-dbt`: dbt's own command line, in a process that dies with the run that started it.

dagster-dbt runs dbt as a child process. Were the run killed, a plain dbt child would go on writing to the
warehouse and hold DuckDB's file lock while the next run starts (processes.die_with_parent)."""
from __future__ import annotations

from cohaesie_pipeline.processes import die_with_parent


def main() -> None:
    die_with_parent()
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
