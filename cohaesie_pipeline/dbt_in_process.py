"""dbt's builds run inside the process of the Dagster step, not in a child process.

The step has imported dbt already (dagster-dbt imports it), so a child paid Python's start and dbt's imports a
second time: ~2 s of a build that does 3-4 s of work at demo size (docs/performance.md). dbt's programmatic
runner (`dbtRunner`) hands every event to a callback; this module writes them as the JSON lines dbt's own
command line prints with `--log-format json`, and gives dagster-dbt's `DbtCliInvocation` an object that behaves
like the finished child process (stdout, return code). Everything dagster-dbt does with the events (asset
materializations, asset checks from dbt tests, the errors it raises) is therefore unchanged.

What a child gave for free is restored around the invocation: the environment dagster-dbt built for it, the
folder it ran in (dbt_env.py: why), and dbt-duckdb's connection, which it keeps open in a class attribute
after the build. It is closed, so the step can open the warehouse again (DuckDB: one writer per file, and no
second connection with another configuration in one process). A killed run kills its step, and dbt with it.
"""
from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt.core import resource as dagster_dbt_resource
from dagster_dbt.core.dbt_cli_invocation import (
    PARTIAL_PARSE_FILE_NAME,
    DbtCliInvocation,
    _get_dbt_target_path,
)

from cohaesie_pipeline.dbt_env import CWD_VARIABLE
from cohaesie_pipeline.processes import environment

# dbt's stdout as the child printed it by default: info and above (the debug events carry every SQL statement)
_LEVELS = {"info", "warn", "error"}


class FinishedDbt:
    """What DbtCliInvocation reads of its `process`, for a dbt that already ran in this process."""

    def __init__(self, args: Sequence[str], lines: list[bytes], returncode: int):
        self.args = list(args)
        self.stdout = io.BytesIO(b"".join(lines))
        self.returncode = returncode

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode

    def send_signal(self, _signal) -> None:  # nothing left running to interrupt
        pass


@contextmanager
def _as_a_child_would_run(env: Mapping[str, str], args: Sequence[str]) -> Iterator[None]:
    """The variables dagster-dbt set for the child (its env is os.environ plus those), the child's folder and
    command line; all as they were afterwards."""
    values = {k: v for k, v in env.items() if os.environ.get(k) != v and k != CWD_VARIABLE}
    # the child's own log output went to the pipe dagster-dbt reads; the callback takes its place (dbt's log file
    # keeps its own level)
    values.update(DBT_LOG_LEVEL="none", DBT_LOG_LEVEL_FILE=env.get("DBT_LOG_LEVEL_FILE", "debug"))
    saved_cwd, saved_argv = os.getcwd(), sys.argv
    with environment(values):
        try:
            if folder := env.get(CWD_VARIABLE):
                os.chdir(folder)
            # dbt reads sys.argv besides the arguments it is given: it parses it again with the command's options
            # to tell which flags the user set (dbt/cli/flags.py), and logs it as the invocation. The step's own
            # command line (`cohaesie run -q ...`, pytest's) must not become dbt flags: dbt sees what a child would.
            sys.argv = ["dbt", *args]
            yield
        finally:
            sys.argv = saved_argv
            os.chdir(saved_cwd)


def close_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB instance open after a build (DuckDBConnectionManager._ENV)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
        if env is not None:
            env.close()


def run_dbt(args: Sequence[str], env: Mapping[str, str]) -> FinishedDbt:
    """`args` as dagster-dbt builds them for the child: the executable first, then dbt's arguments."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_json

    lines: list[bytes] = []

    def keep(msg) -> None:
        if msg.info.level in _LEVELS:
            lines.append(msg_to_json(msg).encode() + b"\n")

    with _as_a_child_would_run(env, args[1:]):
        try:
            result = dbtRunner(callbacks=[keep]).invoke(list(args[1:]))
        finally:
            close_duckdb()
    if result.exception is not None and not any(b'"level": "error"' in line for line in lines):
        # an error dbt raised without logging it (a bad argument, a broken profile): dagster-dbt reports the
        # error lines it read, so the exception becomes one
        lines.append(_error_line(f"{type(result.exception).__name__}: {result.exception}"))
    return FinishedDbt(args, lines, 0 if result.success else (2 if result.exception is not None else 1))


def _error_line(message: str) -> bytes:
    import json

    return (json.dumps({"info": {"level": "error", "msg": message, "name": "CohaesieDbtError"}, "data": {}})
            + "\n").encode()


class InProcessInvocation(DbtCliInvocation):
    """DbtCliInvocation whose `run` runs dbt here instead of starting `args[0]` as a child."""

    @classmethod
    def run(cls, args: Sequence[str], env: dict[str, str], manifest, dagster_dbt_translator, project_dir: Path,
            target_path: Path, raise_on_error: bool, context, adapter, cli_version, dbt_project=None):
        _start_from_the_saved_parse(project_dir, target_path)
        process = run_dbt(args, env)
        return cls(process=process, manifest=manifest, project=dbt_project,  # type: ignore[arg-type]
                   dagster_dbt_translator=dagster_dbt_translator, project_dir=project_dir,
                   target_path=target_path, raise_on_error=raise_on_error, context=context, adapter=adapter,
                   cli_version=cli_version)


def _start_from_the_saved_parse(project_dir: Path, target_path: Path) -> None:
    """As DbtCliInvocation.run does: a target folder without a saved parse gets the project's (`make setup`)."""
    saved = _get_dbt_target_path()
    saved = (saved if saved.is_absolute() else project_dir / saved) / PARTIAL_PARSE_FILE_NAME
    destination = target_path / PARTIAL_PARSE_FILE_NAME
    if saved.exists() and not destination.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(saved, destination)


@contextmanager
def invocations_in_process() -> Iterator[None]:
    """While open, DbtCliResource.cli runs dbt in this process (it names DbtCliInvocation in its module).
    tests/test_resources.py fails when dagster-dbt stops doing so."""
    original = dagster_dbt_resource.DbtCliInvocation
    dagster_dbt_resource.DbtCliInvocation = InProcessInvocation
    try:
        yield
    finally:
        dagster_dbt_resource.DbtCliInvocation = original
