"""A terse terminal logger for `cohaesie run`: one line per step and asset, none of the debug chatter."""
from __future__ import annotations

import logging
import sys

from dagster import DagsterEventType, logger

_SHOWN = {
    DagsterEventType.STEP_START.value: "started",
    DagsterEventType.STEP_SUCCESS.value: "done",
    DagsterEventType.STEP_FAILURE.value: "FAILED",
}


class _ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return
        label = _SHOWN.get(event.event_type_value)
        if label is None:
            return
        step = event.step_key or ""
        # the real terminal: the runner sends sys.stdout (dbt's chatter) to a log file
        print(f"    {step:<24} {label}", file=sys.__stdout__, flush=True)


@logger(description="One line per step, for terminals.")
def progress_logger(_init_context):
    log = logging.getLogger("cohaesie.progress")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    if not log.handlers:
        log.addHandler(_ProgressHandler())
    return log
