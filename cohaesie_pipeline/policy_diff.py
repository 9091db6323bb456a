"""`cohaesie policy-diff`: what another policy file would decide, on the same warehouse, before the board decides.

Read-only: the warehouse is copied (under the writer lock, so the copy is consistent) into a temporary folder,
and everything happens on the copy. The current decisions are computed with the current policy, the other ones
with the other policy; where the other policy changes a number dbt applies (norm, lag threshold, windows, grace,
care rule), the indicator and coverage marts of the copy are rebuilt with it first. Nothing is written to the
warehouse's `marts`; the answer is printed and written as a Dutch workbook for the board and finance.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from cohaesie_pipeline.assets.decisions import compute, read_inputs
from cohaesie_pipeline.paths import DBT_PROJECT_DIR
from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.reports import format as f
from cohaesie_pipeline.reports.format import STATUS_NL
from cohaesie_pipeline.warehouse_lock import warehouse_lock

# parameters applied inside dbt: changing one means the copy's marts are rebuilt with the other value
DBT_PARAMETERS = ("window_months", "lag_threshold", "min_denominator", "grace_months", "coverage_norm", "care_rule")


class PolicyDiffError(RuntimeError):
    pass


@dataclass
class PolicyDiff:
    quarter: str
    current: Policy
    other: Policy
    parameters: pd.DataFrame      # parameter, current, other
    status: pd.DataFrame          # practice-programs whose classification changes in `quarter`
    actions: pd.DataFrame         # practice-programs whose next action changes in `quarter`
    norm: pd.DataFrame            # practice-programs whose coverage judgement changes in `quarter`
    money: pd.DataFrame           # per year x practice x program: settlement as of `quarter`, current vs other
    money_per_practice: pd.DataFrame

    @property
    def total_current(self) -> Decimal:
        return sum(self.money.settlement_current, Decimal("0.00"))

    @property
    def total_other(self) -> Decimal:
        return sum(self.money.settlement_other, Decimal("0.00"))


def changed_parameters(a: Policy, b: Policy) -> pd.DataFrame:
    rows = [{"parameter": fl.name, "current": getattr(a, fl.name), "other": getattr(b, fl.name)}
            for fl in fields(Policy) if fl.name not in ("version", "source")
            and getattr(a, fl.name) != getattr(b, fl.name)]
    return pd.DataFrame(rows, columns=["parameter", "current", "other"])


def _copy_warehouse(warehouse: Path, into: Path) -> Path:
    if not warehouse.exists():
        raise PolicyDiffError(f"no warehouse at {warehouse}: run `cohaesie run` first")
    copy = into / warehouse.name
    # under the writer lock: a run writing meanwhile would leave a torn copy
    with warehouse_lock(warehouse, what="cohaesie policy-diff (copying the warehouse)", log=lambda _m: None):
        shutil.copy2(warehouse, copy)
        wal = warehouse.with_name(warehouse.name + ".wal")
        if wal.exists():
            shutil.copy2(wal, copy.with_name(copy.name + ".wal"))
    return copy


def _rebuild_marts(copy: Path, policy: Policy, workdir: Path) -> None:
    """The indicator and coverage marts (and what they read) rebuilt on the copy with the other policy's values."""
    from cohaesie_pipeline.dbt_env import DBT_EXECUTABLE

    env = {**os.environ, "COHAESIE_WAREHOUSE_PATH": str(copy), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [DBT_EXECUTABLE, "run", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs"), "--quiet",
           "--select", "+practice_indicators", "+practice_coverage", "+practice_coverage_by_insurer", "--vars", json.dumps(policy.dbt_vars())]
    done = subprocess.run(cmd, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True)
    if done.returncode != 0:
        raise PolicyDiffError("dbt could not rebuild the marts with the other policy:\n"
                              + (done.stdout + done.stderr).strip()[-3000:])


def _decisions(db: Path, policy: Policy) -> tuple[dict, pd.DataFrame]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        inputs = read_inputs(con)
        names = con.execute("select practice_agb, practice_name from staging.stg_practices").df()
    finally:
        con.close()
    out = compute(inputs, policy)
    out["coverage"] = inputs["coverage"]
    return out, names


def _money(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    keys = ["year", "practice_agb", "program"]

    def per(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
        rows = [{**dict(zip(keys, k)), f"settlement_{suffix}": sum(g.settlement_amount, Decimal("0.00")),
                 f"applied_{suffix}": sum(g[g.applied].settlement_amount, Decimal("0.00"))}
                for k, g in frame.groupby(keys)]
        return pd.DataFrame(rows, columns=keys + [f"settlement_{suffix}", f"applied_{suffix}"])

    m = per(a, "current").merge(per(b, "other"), on=keys, how="outer")
    for c in ("settlement_current", "applied_current", "settlement_other", "applied_other"):
        m[c] = [Decimal("0.00") if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in m[c]]
    m["difference"] = [o - c for c, o in zip(m.settlement_current, m.settlement_other)]
    return m.sort_values(keys).reset_index(drop=True)


def policy_diff(current: Policy, other: Policy, warehouse: Path, quarter: Quarter | None = None) -> PolicyDiff:
    with tempfile.TemporaryDirectory(prefix="cohaesie-policy-diff-") as tmp:
        work = Path(tmp)
        copy = _copy_warehouse(warehouse, work)
        base, names = _decisions(copy, current)
        if not base["quarters"]:
            raise PolicyDiffError("the warehouse holds no loaded quarter yet: run `cohaesie run` first")
        q = str(quarter) if quarter else base["quarters"][-1]
        if q not in base["quarters"]:
            raise PolicyDiffError(f"quarter {q} is not loaded (loaded: {', '.join(base['quarters'])})")
        if any(getattr(current, p) != getattr(other, p) for p in DBT_PARAMETERS):
            _rebuild_marts(copy, other, work)
        alt, _ = _decisions(copy, other)
    name = names.set_index("practice_agb").practice_name.to_dict()
    keys = ["practice_agb", "program"]

    def at(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        return frame[frame.quarter == q][keys + cols]

    status = at(base["classification"], ["status"]).merge(at(alt["classification"], ["status"]), on=keys,
                                                          how="outer", suffixes=("_current", "_other"))
    status = status[status.status_current.fillna("") != status.status_other.fillna("")]
    actions = at(base["trajectories"], ["next_action", "due_date"]).merge(
        at(alt["trajectories"], ["next_action", "due_date"]), on=keys, how="outer", suffixes=("_current", "_other"))
    actions = actions[actions.next_action_current.fillna("") != actions.next_action_other.fillna("")]
    norm = at(base["coverage"], ["assessed_patients", "coverage", "meets_norm"]).merge(
        at(alt["coverage"], ["assessed_patients", "coverage", "meets_norm"]), on=keys, how="outer",
        suffixes=("_current", "_other"))
    norm = norm[norm.meets_norm_current.astype(str) != norm.meets_norm_other.astype(str)]
    money = _money(base["settlements_as_of"][base["settlements_as_of"].as_of_quarter == q],
                   alt["settlements_as_of"][alt["settlements_as_of"].as_of_quarter == q])
    per_practice = (money.groupby(["year", "practice_agb"], as_index=False)
                    .agg(settlement_current=("settlement_current", lambda s: sum(s, Decimal("0.00"))),
                         settlement_other=("settlement_other", lambda s: sum(s, Decimal("0.00"))),
                         difference=("difference", lambda s: sum(s, Decimal("0.00")))))
    per_practice = per_practice[per_practice.difference != 0]
    for frame in (status, actions, norm, money, per_practice):
        frame.insert(frame.columns.get_loc("practice_agb") + 1, "practice_name", frame.practice_agb.map(name))
    return PolicyDiff(q, current, other, changed_parameters(current, other),
                      status.sort_values(keys).reset_index(drop=True), actions.sort_values(keys).reset_index(drop=True),
                      norm.sort_values(keys).reset_index(drop=True), money,
                      per_practice.sort_values(["year", "practice_agb"]).reset_index(drop=True))


def summary_lines(d: PolicyDiff) -> list[str]:
    out = [f"policy diff as of {d.quarter}: current {d.current.label} ({d.current.source}) -> "
           f"other {d.other.label} ({d.other.source})"]
    if d.parameters.empty:
        out.append("the two policies have the same values: nothing would change")
    for r in d.parameters.itertuples():
        out.append(f"  {r.parameter}: {r.current} -> {r.other}")
    out.append(f"classification changes in {d.quarter}: {len(d.status)}")
    for r in d.status.itertuples():
        out.append(f"  {r.practice_agb} {r.practice_name} {r.program}: {r.status_current} -> {r.status_other}")
    out.append(f"coverage judgement changes in {d.quarter}: {len(d.norm)}")
    for r in d.norm.itertuples():
        out.append(f"  {r.practice_agb} {r.practice_name} {r.program}: coverage {f.pct(r.coverage_current)}, "
                   f"meets norm {_yes(r.meets_norm_current)} -> {_yes(r.meets_norm_other)}")
    out.append(f"next-action changes in {d.quarter}: {len(d.actions)}")
    for r in d.actions.itertuples():
        out.append(f"  {r.practice_agb} {r.practice_name} {r.program}: {r.next_action_current} -> {r.next_action_other}")
    for year in sorted(set(d.money.year)):
        m = d.money[d.money.year == year]
        cur, oth = sum(m.settlement_current, Decimal("0.00")), sum(m.settlement_other, Decimal("0.00"))
        out.append(f"settlements {year} as of {d.quarter}: {f.euro(cur)} -> {f.euro(oth)} ({f.euro(oth - cur)})")
        for r in d.money_per_practice[d.money_per_practice.year == year].itertuples():
            out.append(f"  {r.practice_agb} {r.practice_name}: {f.euro(r.settlement_current)} -> "
                       f"{f.euro(r.settlement_other)} ({f.euro(r.difference)})")
    return out


def _yes(v) -> str:
    return "-" if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else ("yes" if bool(v) else "no")


def write_xlsx(d: PolicyDiff, path: Path) -> Path:
    """The same answer for the board and finance, in Dutch."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True})
    money, pct = wb.add_format({"num_format": "€ #,##0.00"}), wb.add_format({"num_format": "0.0%"})

    def sheet(name: str, frame: pd.DataFrame, headers: dict[str, str], money_cols=(), pct_cols=(), labels=None):
        ws = wb.add_worksheet(name)
        cols = list(headers)
        for j, c in enumerate(cols):
            ws.write(0, j, headers[c], head)
            ws.set_column(j, j, 34 if c == "practice_name" else 16)
        for i, row in enumerate(frame[cols].itertuples(index=False), start=1):
            for j, (c, v) in enumerate(zip(cols, row)):
                if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
                    ws.write_blank(i, j, None)
                elif c in money_cols:
                    ws.write_number(i, j, float(v), money)
                elif c in pct_cols:
                    ws.write_number(i, j, float(v), pct)
                elif isinstance(v, bool) or type(v).__name__ == "bool_":
                    ws.write_string(i, j, "ja" if v else "nee")
                elif labels and c in labels:
                    ws.write_string(i, j, labels[c].get(v, str(v)))
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))  # never a formula from data
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)

    ws = wb.add_worksheet("Samenvatting")
    ws.set_column(0, 0, 110)
    lines = [f"Beleidsvergelijking per {d.quarter}: huidig beleid {d.current.label} tegenover {d.other.label} "
             f"({Path(d.other.source).name}). Alleen doorgerekend, niets vastgelegd.",
             f"Praktijk-programma's met een andere classificatie: {len(d.status)}; met een ander oordeel over de "
             f"dekkingsnorm: {len(d.norm)}; met een andere volgende stap: {len(d.actions)}.",
             f"Verrekeningen zoals bekend na {d.quarter}: {f.euro(d.total_current)} nu, {f.euro(d.total_other)} met "
             f"het andere beleid ({f.euro(d.total_other - d.total_current)})."]
    lines += [f"Gewijzigde parameter {r.parameter}: {r.current} -> {r.other}" for r in d.parameters.itertuples()]
    for i, line in enumerate(lines):
        ws.write_string(i, 0, line)
    status_nl = {k: v for k, v in STATUS_NL.items()}
    sheet("Classificatie", d.status, {"practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "program": "Programma",
                                      "status_current": "Nu", "status_other": "Ander beleid"},
          labels={"status_current": status_nl, "status_other": status_nl})
    sheet("Dekkingsnorm", d.norm, {"practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "program": "Programma",
                                   "coverage_current": "Dekking nu", "meets_norm_current": "Voldoet nu",
                                   "coverage_other": "Dekking ander beleid", "meets_norm_other": "Voldoet ander beleid"},
          pct_cols={"coverage_current", "coverage_other"})
    sheet("Volgende stap", d.actions, {"practice_agb": "Praktijk AGB", "practice_name": "Praktijk",
                                       "program": "Programma", "next_action_current": "Nu",
                                       "next_action_other": "Ander beleid"})
    sheet("Verrekening per praktijk", d.money_per_practice, {
        "year": "Jaar", "practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "settlement_current": "Nu",
        "settlement_other": "Ander beleid", "difference": "Verschil"},
        money_cols={"settlement_current", "settlement_other", "difference"})
    sheet("Verrekening detail", d.money, {
        "year": "Jaar", "practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "program": "Programma",
        "settlement_current": "Verrekening nu", "applied_current": "Waarvan toegepast nu",
        "settlement_other": "Verrekening ander beleid", "applied_other": "Waarvan toegepast ander beleid",
        "difference": "Verschil"},
        money_cols={"settlement_current", "applied_current", "settlement_other", "applied_other", "difference"})
    wb.close()
    return path


def run_policy_diff(current: Policy, other: Policy, warehouse: Path, quarter: Quarter | None, out: Path | None,
                    reports: Path, echo: Callable[[str], None] = print) -> tuple[PolicyDiff, Path]:
    d = policy_diff(current, other, warehouse, quarter)
    for line in summary_lines(d):
        echo(line)
    path = out or reports / "beleidsvergelijking" / f"beleidsvergelijking-{d.quarter}-{other.version}.xlsx"
    write_xlsx(d, path)
    echo(f"written: {path}")
    return d, path
