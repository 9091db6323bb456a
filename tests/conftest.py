"""Shared fixtures. The full demo pipeline (45 practices, 8 quarters, everything materialised) is built
once per test session, shared across xdist workers through a file lock, and only read by tests."""
from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from cohaesie_pipeline.demo.generator import generate
from cohaesie_pipeline.processes import environment

# `make test` runs with the Makefile's DAGSTER_HOME (the data engineer's instance): tests must never record
# their runs there, so the CLI under test falls back to a throwaway instance unless a test sets its own
os.environ.pop("DAGSTER_HOME", None)


def pipeline_root(base: Path, name: str, practices: int, first: str, last: str, seed: int = 42) -> Path:
    """Generate a data root and run every quarter through the real asset graph, once."""
    root = base / name
    done = root / ".built.json"
    with FileLock(str(base / f"{name}.lock")):
        if not done.exists():
            from dagster import DagsterInstance

            from cohaesie_pipeline.partitions import quarters_in_inbox
            from cohaesie_pipeline.runner import run_quarters

            data, reports = root / "data", root / "reports"
            generate(data, practices=practices, first=first, last=last, seed=seed)
            env = {"COHAESIE_DATA_DIR": str(data), "COHAESIE_REPORTS_DIR": str(reports)}
            with environment(env), DagsterInstance.ephemeral() as instance:
                run_quarters(quarters_in_inbox(data / "inbox"), echo=lambda _m: None, instance=instance)
            done.write_text(json.dumps({"practices": practices, "first": first, "last": last}))
    return root


@pytest.fixture(scope="session")
def shared_base(tmp_path_factory) -> Path:
    # the parent of the per-worker base temp is shared by all xdist workers of this session
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base


@pytest.fixture(scope="session")
def demo_root(shared_base) -> Path:
    # for local iteration only: reuse a demo root built by an earlier session (CI never sets this)
    reuse = os.environ.get("COHAESIE_TEST_DEMO_ROOT")
    if reuse and (Path(reuse) / ".built.json").exists():
        return Path(reuse)
    return pipeline_root(shared_base, "demo45", practices=45, first="2023Q1", last="2024Q4")


@pytest.fixture(scope="session")
def demo_db(demo_root):
    con = duckdb.connect(str(demo_root / "data" / "warehouse" / "cohaesie.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture
def env_root(tmp_path, monkeypatch):
    """A private data root for tests that write."""
    data, reports = tmp_path / "data", tmp_path / "reports"
    monkeypatch.setenv("COHAESIE_DATA_DIR", str(data))
    monkeypatch.setenv("COHAESIE_REPORTS_DIR", str(reports))
    return data


DEMO_FIXTURES = {"demo_root", "demo_db"}


def pytest_collection_modifyitems(config, items):
    """Order test files for the two xdist workers (`make test` runs with --no-loadscope-reorder, so files are
    handed out in this order): first one file that needs the shared demo root, so that one worker starts
    building it (about 3 minutes) at once; then every file that does not need it, which the other worker
    runs meanwhile; then the rest of the demo files. In xdist's default order (largest files first) the
    second worker soon reached a demo test too and waited a minute or more for the build."""
    files: dict[str, bool] = {}
    for item in items:
        path = str(item.path)
        files[path] = files.get(path, False) or bool(DEMO_FIXTURES & set(getattr(item, "fixturenames", ())))
    demo = [f for f, needs in files.items() if needs]
    order = demo[:1] + [f for f, needs in files.items() if not needs] + demo[1:]
    rank = {f: i for i, f in enumerate(order)}
    items.sort(key=lambda item: rank[str(item.path)])
