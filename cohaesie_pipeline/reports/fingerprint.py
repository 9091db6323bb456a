"""The fingerprint a quarter's reports carry: of the quarter's as-of data (data.content_fingerprint), the
policy version with its hash, and the report code that draws them. Printed on every report and kept in the
quarter folder's manifest; a run renders a quarter again exactly when it changed."""
from __future__ import annotations

import hashlib
from pathlib import Path

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.reports.data import QuarterData

_HERE = Path(__file__).parent


def _code_version() -> str:
    h = hashlib.sha256()
    files = [*_HERE.glob("*.py"), *(_HERE / "templates").glob("*"), *(_HERE / "static").glob("*")]
    for p in sorted(files):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:12]


REPORT_CODE_VERSION = _code_version()


def render_fingerprint(data: QuarterData, policy: Policy) -> str:
    text = "\n".join([data.fingerprint, policy.label, REPORT_CODE_VERSION])
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]
