"""What the pipeline's inputs are now, and what the warehouse was last brought up to date with.

Three kinds of input decide every output: the quarterly deliveries (per quarter, the content hashes of its
three files), the registers (content hashes of the four files and of the reference import log) and the
policy (version + hash of its values). `current_inputs` reads them from disk; `warehouse_inputs` reads what the warehouse holds:
`raw.deliveries` and `raw.register_files` as loaded, and `marts.pipeline_state`, written by the policy step
in the same transaction as the policy marts, with the digest of the raw inputs and policy the marts were
last computed from. `cohaesie run` and the inbox sensor compare the two to decide what to do.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cohaesie_pipeline.ingestion.loader import DELIVERY_FILES, REFERENCE_REGISTER, REGISTER_FILES, find_file
from cohaesie_pipeline.ingestion.reader import file_sha256
from cohaesie_pipeline.ingestion.reference import log_path
from cohaesie_pipeline.partitions import QUARTER_DIR
from cohaesie_pipeline.paths import DBT_PROJECT_DIR, PACKAGE_DIR


def _code_version() -> str:
    """The code that turns raw inputs into marts is an input too: after an upgrade of the dbt models or the
    policy rules, `cohaesie run` rebuilds the marts although no file in the inbox changed."""
    files = [*DBT_PROJECT_DIR.glob("models/**/*"), *DBT_PROJECT_DIR.glob("macros/**/*"),
             *DBT_PROJECT_DIR.glob("seeds/**/*"), DBT_PROJECT_DIR / "dbt_project.yml",
             *(PACKAGE_DIR / "policy").glob("*.py"), PACKAGE_DIR / "assets" / "decisions.py"]
    h = hashlib.sha256()
    for p in sorted(f for f in files if f.is_file()):
        h.update(str(p.relative_to(PACKAGE_DIR.parent)).encode() + p.read_bytes())
    return h.hexdigest()[:12]


CODE_VERSION = _code_version()


def digest(items: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{k}:{v}" for k, v in sorted(items.items())).encode()).hexdigest()[:16]


@dataclass
class Inputs:
    deliveries: dict[str, str] = field(default_factory=dict)  # quarter -> digest of its files' hashes
    registers: str | None = None
    policy: str | None = None
    code: str | None = CODE_VERSION
    incomplete: list[str] = field(default_factory=list)  # why a quarter folder is not a delivery (yet)
    misnamed: list[str] = field(default_factory=list)  # inbox folders not named as a quarter: never loaded

    def changed_quarters(self, other: Inputs) -> list[str]:
        return sorted(q for q, d in self.deliveries.items() if other.deliveries.get(q) != d)

    def whole(self) -> str:
        """One digest of everything: what the policy marts were computed from."""
        return digest({**{f"delivery {q}": d for q, d in self.deliveries.items()},
                       "registers": self.registers or "", "policy": self.policy or "", "code": self.code or ""})


class _HashCache:
    """sha256 of a file, recomputed only when its size or mtime changed (the sensor runs every minute)."""

    def __init__(self, entries: dict | None = None):
        self.old = entries or {}
        self.new: dict[str, list] = {}

    def sha256(self, path: Path) -> str:
        st = path.stat()
        entry = self.old.get(str(path))
        if entry and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
            sha = entry[2]
        else:
            sha = file_sha256(path)
        self.new[str(path)] = [st.st_size, st.st_mtime_ns, sha]
        return sha


_ALMOST_A_QUARTER = re.compile(r"(\d{4})\s*[-_ .]?\s*[Qq]\s*-?\s*(\d)")


NOT_LOADED = "NOT LOADED"  # marks a misnamed inbox folder in the plan's reasons (cohaesie run exits 1 on it)


def misnamed_folder(name: str) -> str:
    """What to do with an inbox folder that is not named YYYYQn: it is never loaded, and silence would hide a
    delivery ('2024q4', '2024-Q4', '2024Q5')."""
    m = _ALMOST_A_QUARTER.fullmatch(name)
    if m and m[2] in "1234":
        return f"inbox folder '{name}' {NOT_LOADED}: rename it to {m[1]}Q{m[2]} (quarter folders are named YYYYQn)"
    if m:
        return f"inbox folder '{name}' {NOT_LOADED}: there is no quarter {m[2]} (YYYYQ1 to YYYYQ4); rename it"
    return (f"inbox folder '{name}' {NOT_LOADED}: not a quarter folder (expected YYYYQn, e.g. 2024Q3); move it out "
            f"of the inbox if it is not a delivery")


def delivery_status(folder: Path) -> tuple[list[Path], list[str]]:
    """The delivery's files found (in DELIVERY_FILES order) and the kinds missing."""
    found = [find_file(folder, k) for k in DELIVERY_FILES]
    return [f for f in found if f], [k for k, f in zip(DELIVERY_FILES, found) if f is None]


def current_inputs(inbox: Path, registers: Path, policy_label: str,
                   cache: dict | None = None) -> tuple[Inputs, dict]:
    """The inputs on disk, and the refreshed hash cache."""
    hashes = _HashCache(cache)
    out = Inputs(policy=policy_label)
    folders = sorted(p for p in inbox.iterdir() if p.is_dir()) if inbox.is_dir() else []
    for folder in folders:
        if not QUARTER_DIR.match(folder.name):
            out.misnamed.append(misnamed_folder(folder.name))
            continue
        files, missing = delivery_status(folder)
        if missing:
            out.incomplete.append(f"{folder.name}: waiting for {', '.join(missing)}")
            continue
        out.deliveries[folder.name] = digest({k: hashes.sha256(f) for k, f in zip(DELIVERY_FILES, files)})
    reg = {k: find_file(registers, k) for k in REGISTER_FILES}
    if all(reg.values()):
        hashed = {k: hashes.sha256(f) for k, f in reg.items()}
        log = log_path(registers)
        if log is not None:  # an import of reference values changes the registers
            hashed[REFERENCE_REGISTER] = hashes.sha256(log)
        out.registers = digest(hashed)
    return out, hashes.new


def warehouse_inputs(con: duckdb.DuckDBPyConnection) -> tuple[Inputs, str | None]:
    """What the warehouse loaded, and the digest its policy marts were last computed from (None: never)."""
    out = Inputs()
    tables = {r[0] for r in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()}
    if "raw.deliveries" in tables:
        per_quarter: dict[str, dict[str, str]] = {}
        for q, kind, sha in con.execute("select quarter, file_kind, sha256 from raw.deliveries").fetchall():
            per_quarter.setdefault(q, {})[kind] = sha
        out.deliveries = {q: digest(h) for q, h in per_quarter.items()}
    if "raw.register_files" in tables:
        reg = dict(con.execute("select register, sha256 from raw.register_files").fetchall())
        out.registers = digest(reg) if reg else None
    state = None
    if "marts.pipeline_state" in tables:
        cur = con.execute("select * from marts.pipeline_state")
        row = cur.fetchone()
        if row:  # by name: a warehouse written by an older version may lack a column (then: rebuild)
            values = dict(zip([d[0] for d in cur.description], row))
            state, out.policy, out.code = values["inputs_digest"], values["policy_version"], values.get("code_version")
    return out, state
