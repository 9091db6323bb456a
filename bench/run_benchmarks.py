"""Benchmarks (not tests): generation, ingestion, dbt staging -> marts, report rendering.

Each stage runs in its own process so its wall time and peak memory (max RSS) are its own.
    python bench/run_benchmarks.py                       # demo size (45 practices, 8 quarters)
    python bench/run_benchmarks.py --practices 5000 --quarters 1 --skip-reports
Results are printed as a Markdown table; copy them into docs/performance.md.
dbt builds every loaded quarter in one invocation (as the pipeline does); the practice-report number in
docs/performance.md comes from bench/render_reports.py on a fully built root (`make bench-reports`).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def stage(name: str, code: str, env: dict) -> dict:
    # each stage reports its own peak: RUSAGE_CHILDREN of this process would carry earlier stages' maximum
    code += ("\nimport resource as _r, json as _j\n"
             "print('PEAK ' + _j.dumps(max(_r.getrusage(_r.RUSAGE_SELF).ru_maxrss, "
             "_r.getrusage(_r.RUSAGE_CHILDREN).ru_maxrss)))\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([PY, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    out = {"stage": name, "wall_s": round(wall, 1), "cpu_s": round(after.ru_utime + after.ru_stime
                                                                    - before.ru_utime - before.ru_stime, 1),
           "peak_rss_mb": None}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            out.update(json.loads(line[7:]))
        if line.startswith("PEAK "):
            out["peak_rss_mb"] = round(json.loads(line[5:]) / 1024)
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--practices", type=int, default=45)
    ap.add_argument("--quarters", type=int, default=8, help="number of quarters, ending 2024Q4")
    ap.add_argument("--skip-reports", action="store_true")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--reuse-data", action="store_true",
                    help="skip generation: the workdir already holds a generated data root")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="cohaesie-bench-"))
    data = work / "data"
    from cohaesie_pipeline.quarters import Quarter

    last = Quarter.parse("2024Q4")
    first = last - (args.quarters - 1)
    env = {**os.environ, "COHAESIE_DATA_DIR": str(data), "COHAESIE_REPORTS_DIR": str(work / "reports"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    rows = []
    if args.reuse_data:
        import shutil
        shutil.rmtree(data / "warehouse", ignore_errors=True)
    else:
        rows.append(stage("generate", f"""
from cohaesie_pipeline.demo.generator import generate
import json
s = generate({str(data)!r}, practices={args.practices}, first={str(first)!r}, last={str(last)!r}, seed=42)
print("RESULT " + json.dumps({{"rows": sum(v for k, v in s.rows.items() if not k.startswith("registers"))}}))
""", env))
    # the floor: DuckDB's own CSV reader over the same files, once (latin-1 reads any of the encodings)
    rows.append(stage("duckdb_read_once", f"""
import duckdb, json, glob
con = duckdb.connect()
n = sum(con.execute("select count(*) from read_csv(?, delim=';', header=true, all_varchar=true, encoding='latin-1')",
                    [f]).fetchone()[0] for f in sorted(glob.glob({str(data / 'inbox' / '*' / '*.csv')!r})))
print("RESULT " + json.dumps({{"rows": n}}))
""", env))
    rows.append(stage("ingest", """
import duckdb, json
from cohaesie_pipeline.ingestion.loader import load_delivery, load_registers
from cohaesie_pipeline.partitions import quarters_in_inbox
from cohaesie_pipeline.paths import inbox_dir, registers_dir
from cohaesie_pipeline.resources import Warehouse
with Warehouse().connect() as con:  # the pipeline's connection settings (memory limit)
    load_registers(con, registers_dir())
    n = 0
    for q in quarters_in_inbox():
        n += sum(f.rows_loaded for f in load_delivery(con, q, inbox_dir() / str(q)).files)
print("RESULT " + json.dumps({"rows": n}))
""", env))
    rows.append(stage("dbt_staging_to_marts_all_quarters", """
import json, subprocess, sys, os
from pathlib import Path
from cohaesie_pipeline.assets.transformation import dbt_vars, DBT_EXECUTABLE
from cohaesie_pipeline.paths import DBT_PROJECT_DIR, warehouse_path
env = {**os.environ, "COHAESIE_WAREHOUSE_PATH": str(warehouse_path())}
subprocess.run([DBT_EXECUTABLE, "build", "--vars", json.dumps(dbt_vars()), "--quiet",
                "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)], check=True, env=env)
""", env))
    if not args.skip_reports:
        rows.append(stage("policy_and_reports_last_quarter", f"""
import json, time, duckdb
from datetime import date
from dagster import DagsterInstance, materialize
from cohaesie_pipeline.assets.decisions import policy_marts
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.resources import Warehouse
from cohaesie_pipeline.reports.data import load_quarter
from cohaesie_pipeline.reports import render
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.paths import warehouse_path, reports_dir
q = Quarter.parse({str(last)!r})
with DagsterInstance.ephemeral() as inst:
    materialize([policy_marts], instance=inst, resources={{"warehouse": Warehouse()}})
con = duckdb.connect(str(warehouse_path()), read_only=True)
data = load_quarter(con, q); con.close()
t = time.perf_counter()
r = render.render_practice_reports(data, load_policy(), reports_dir() / str(q), date.today())
per = (time.perf_counter() - t) / len(r)
t = time.perf_counter()
render.render_board_report(data, load_policy(), reports_dir() / str(q), date.today())
print("RESULT " + json.dumps({{"practice_reports": len(r), "avg_s_per_practice_report": round(per, 3),
                              "board_report_s": round(time.perf_counter() - t, 1)}}))
""", env))
    print("\n| stage | wall s | cpu s | peak RSS MB | details |\n|---|---|---|---|---|")
    for r in rows:
        extra = {k: v for k, v in r.items() if k not in ("stage", "wall_s", "cpu_s", "peak_rss_mb")}
        print(f"| {r['stage']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mb']} | {json.dumps(extra)} |")
    print(f"\npractices={args.practices} quarters={first}-{last} workdir={work}")


if __name__ == "__main__":
    main()
