"""Child processes that never outlive their parent.

A run killed with SIGKILL gets no chance to stop what it started: dbt would go on writing to the warehouse
and render workers would linger. Linux sends the signal chosen with PR_SET_PDEATHSIG to a process when its
parent dies; children ask for SIGKILL as the first thing they do.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set, and as it was afterwards (a child started inside inherits them)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
