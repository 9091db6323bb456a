"""One writer at a time on the DuckDB warehouse, without claims that outlive their process.

DuckDB allows one writing process per file. Every step that writes (and the CLI for the whole of its work)
holds an OS file lock (`flock`) on `<warehouse>.lock`. The kernel releases it when the holding process
ends, however it ends (SIGKILL, a crash, a full disk), so a killed run can never block the runs after it;
a Dagster concurrency pool, by contrast, keeps its claim in the instance database until someone frees it.

A waiting process says what it waits on (pid, command, since when) every few seconds and stops on
Ctrl-C/SIGTERM: the lock is polled, never waited for in an uninterruptible call.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

_POLL_SECONDS = 0.5
_REPORT_EVERY_SECONDS = 10.0


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _info_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock.json")


def _lock(warehouse: Path) -> FileLock:
    # one object per file in this process (is_singleton), shared by all threads, so that a step inside a CLI
    # run that already holds the lock re-enters it instead of waiting for itself
    return FileLock(str(lock_path(warehouse)), thread_local=False, is_singleton=True)


def holder(warehouse: Path) -> dict | None:
    """Who holds (or last held) the lock, as written by the holder; None when unknown."""
    try:
        return json.loads(_info_path(warehouse).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def describe_holder(info: dict | None) -> str:
    if not info:
        return "another process"
    return f"pid {info.get('pid')} ({info.get('what', '?')}, since {info.get('since', '?')})"


@contextmanager
def warehouse_lock(warehouse: Path, what: str = "", log: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the warehouse's writer lock; re-entrant within a process."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock(warehouse)
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    started = time.monotonic()
    last_report = -_REPORT_EVERY_SECONDS
    while True:
        try:
            lock.acquire(timeout=_POLL_SECONDS)
            break
        except Timeout:
            waited = time.monotonic() - started
            if waited - last_report >= _REPORT_EVERY_SECONDS:
                last_report = waited
                log(f"waiting for the warehouse {warehouse.name}: held by {describe_holder(holder(warehouse))}; "
                    f"waited {waited:.0f}s (Ctrl-C stops waiting)")
    try:
        if lock.lock_counter == 1:
            info = {"pid": os.getpid(), "host": socket.gethostname(), "what": what or " ".join(sys.argv[:3]),
                    "since": datetime.now().isoformat(timespec="seconds")}
            _info_path(warehouse).write_text(json.dumps(info), encoding="utf-8")
        yield
    finally:
        lock.release()
