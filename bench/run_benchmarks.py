"""Benchmarks (not tests): how close the project's ingestion + dbt come to the floor, in one run on the same files.

For N practices and one quarter (2024Q4), each stage in its own process (its own wall time, CPU time and peak
RSS), printed with its ratio to the floors:
  floor_duckdb_read     DuckDB reading the quarter's three CSVs, nothing else
  floor_sql_script      the practical floor: one DuckDB SQL script straight from the CSVs that computes
                        practice_indicators and practice_coverage - the contract's casts on read_csv, the seeds,
                        then the project's own compiled model SQL in dependency order (no validation, no dbt,
                        no Dagster); its marts are compared cell by cell with the project's
  project               this project in Dagster: the quarter's delivery and the registers validated and loaded
                        (quarterly_delivery, registers), then dbt_models (build + tests, metadata)
    python bench/run_benchmarks.py                    # 200 practices
    python bench/run_benchmarks.py --practices 1000
    python bench/run_benchmarks.py --practices 5000   # national scale: run once and record it
Results are printed as a Markdown table for docs/performance.md. Rendering reports has its own benchmark
(bench/render_reports.py, `make bench-reports`).
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
QUARTER = "2024Q4"
MARTS = ("practice_indicators", "practice_coverage")


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
    out = {"stage": name, "wall_s": round(wall, 1),
           "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1), "peak_rss_mb": None}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            out.update(json.loads(line[7:]))
        if line.startswith("PEAK "):
            out["peak_rss_mb"] = round(json.loads(line[5:]) / 1024)
    print(json.dumps(out), flush=True)
    return out


def compile_models(work: Path, env: dict) -> Path:
    """The project's model SQL, compiled against a warehouse named `cohaesie` (what the floor script creates):
    done before the timed stages, as a script writer would have their SQL ready."""
    from cohaesie_pipeline.policy.config import load_policy

    floor_db = work / "floor" / "cohaesie.duckdb"
    floor_db.parent.mkdir(parents=True, exist_ok=True)
    target = work / "dbt-target"
    subprocess.run([str(Path(PY).parent / "dbt"), "compile", "--quiet", "--vars", json.dumps(load_policy().dbt_vars()),
                    "--project-dir", str(ROOT / "dbt_project"), "--profiles-dir", str(ROOT / "dbt_project"),
                    "--target-path", str(target)], check=True, cwd=ROOT / "dbt_project",
                   env={**env, "COHAESIE_WAREHOUSE_PATH": str(floor_db)})
    floor_db.unlink(missing_ok=True)
    return target / "manifest.json"


FLOOR_SCRIPT = r"""
import duckdb, json, sys
from pathlib import Path
from cohaesie_pipeline.ingestion.contract import delivery_specs, install_macros, register_specs
from cohaesie_pipeline.ingestion.reader import detect_encoding
work, data, quarter = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
manifest = json.loads(Path(sys.argv[4]).read_text())
con = duckdb.connect(str(work / "floor" / "cohaesie.duckdb"))
install_macros(con)
con.execute("create schema raw; create schema reference; create schema staging; create schema intermediate; "
            "create schema marts")

def csv(path, names):
    cols = "{" + ", ".join(f"'{n}': 'varchar'" for n in names) + "}"
    enc = "latin-1" if detect_encoding(path) == "cp1252" else "utf-8"
    return (f"(select *, row_number() over () + 1 as line from read_csv('{path}', delim=';', header=true, "
            f"columns={cols}, encoding='{enc}'))")

folder = data / "inbox" / quarter
for kind, spec in {**delivery_specs(), **register_specs()}.items():
    path = (folder if spec.per_quarter else data / "registers") / f"{kind}.csv"
    con.execute(spec.ddl())
    con.execute(spec.insert_sql(csv(path, spec.names), quarter if spec.per_quarter else None))
con.execute("create table raw.reference_values (kind varchar, indicator_code varchar, year integer, "
            "rate decimal(9, 6), source varchar, source_line integer, import_id varchar, imported_at timestamp, "
            "imported_by varchar, file_name varchar, file_sha256 varchar)")
con.execute("create table raw.deliveries (quarter varchar, file_kind varchar, file_name varchar, sha256 varchar, "
            "encoding varchar, rows_read bigint, rows_loaded bigint, loaded_at timestamp)")

nodes = manifest["nodes"]
needed, stack = set(), [f"model.cohaesie.{m}" for m in sys.argv[5].split(",")]
while stack:
    n = stack.pop()
    if n in needed or n not in nodes:
        continue
    needed.add(n)
    stack += nodes[n]["depends_on"].get("nodes", [])
for n in sorted(x for x in needed if x.startswith("seed.")):
    node = nodes[n]
    types = node["config"].get("column_types") or {}
    path = Path(node["root_path"]) / node["original_file_path"]
    typed = f", types={json.dumps(types)}".replace('"', "'") if types else ""
    con.execute(f"create table {node['relation_name']} as select * from read_csv('{path}', header=true{typed})")
done = {n for n in needed if n.startswith("seed.")}
while len(done) < len(needed):
    for n in sorted(needed - done):
        node = nodes[n]
        if all(d in done or d not in needed for d in node["depends_on"].get("nodes", [])):
            kind = "table" if node["config"]["materialized"] == "table" else "view"
            con.execute(f"create {kind} {node['relation_name']} as {node['compiled_code']}")
            done.add(n)
counts = {m: con.execute(f"select count(*) from marts.{m}").fetchone()[0] for m in sys.argv[5].split(",")}
print("RESULT " + json.dumps({"rows": counts}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--practices", type=int, default=200)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--reuse-data", action="store_true", help="the workdir already holds a generated data root")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="cohaesie-bench-"))
    data = work / "data"
    env = {**os.environ, "COHAESIE_DATA_DIR": str(data), "COHAESIE_REPORTS_DIR": str(work / "reports"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("DAGSTER_HOME", None)
    rows = []
    if not args.reuse_data:
        rows.append(stage("generate", f"""
from cohaesie_pipeline.demo.generator import generate
import json
s = generate({str(data)!r}, practices={args.practices}, first={QUARTER!r}, last={QUARTER!r}, seed=42)
print("RESULT " + json.dumps({{"rows": sum(v for k, v in s.rows.items() if not k.startswith("registers"))}}))
""", env))
    for p in (data / "warehouse", work / "floor"):
        import shutil
        shutil.rmtree(p, ignore_errors=True)
    manifest = compile_models(work, env)

    read = stage("floor_duckdb_read", f"""
import duckdb, json, glob
con = duckdb.connect()
n = sum(con.execute("select count(*) from read_csv(?, delim=';', header=true, all_varchar=true, encoding='latin-1')",
                    [f]).fetchone()[0] for f in sorted(glob.glob({str(data / 'inbox' / QUARTER / '*.csv')!r})))
print("RESULT " + json.dumps({{"rows": n}}))
""", env)
    script = stage("floor_sql_script", f"import sys; sys.argv = ['floor', {str(work)!r}, {str(data)!r}, {QUARTER!r}, "
                                       f"{str(manifest)!r}, {','.join(MARTS)!r}]\n" + FLOOR_SCRIPT, env)
    project = stage("project", f"""
import json
from dagster import DagsterInstance, materialize
from cohaesie_pipeline.assets.ingestion import quarterly_delivery, registers
from cohaesie_pipeline.assets.transformation import dbt_models, dbt_resource
from cohaesie_pipeline.partitions import register_quarters
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.resources import Warehouse
res = {{"warehouse": Warehouse(), "dbt": dbt_resource()}}
with DagsterInstance.ephemeral() as inst:
    register_quarters(inst, [Quarter.parse({QUARTER!r})])
    assert materialize([quarterly_delivery], instance=inst, resources=res, partition_key={QUARTER!r}).success
    assert materialize([registers, dbt_models], instance=inst, resources=res).success
print("RESULT " + json.dumps({{}}))
""", env)
    same = stage("compare_marts", f"""
import duckdb, json
con = duckdb.connect({str(data / 'warehouse' / 'cohaesie.duckdb')!r}, read_only=True)
con.execute("attach '{str(work / 'floor' / 'cohaesie.duckdb')}' as floor (read_only)")
out = {{}}
for m in {list(MARTS)!r}:
    cols = [r[0] for r in con.execute(f"select column_name from information_schema.columns where table_catalog = "
                                      f"'floor' and table_schema = 'marts' and table_name = '{{m}}'").fetchall()]
    sel = ", ".join(cols)
    diff = con.execute(f"select count(*) from ((select {{sel}} from marts.{{m}} except all select {{sel}} from floor.marts.{{m}}) "
                       f"union all (select {{sel}} from floor.marts.{{m}} except all select {{sel}} from marts.{{m}}))").fetchone()[0]
    out[m] = diff
print("RESULT " + json.dumps({{"rows_differing": out}}))
""", env)
    print(f"\npractices={args.practices} quarter={QUARTER} workdir={work}\n")
    print("| stage | wall s | CPU s | peak RSS MB | wall / DuckDB read | wall / SQL script | details |")
    print("|---|---|---|---|---|---|---|")
    for r in [*rows, read, script, project, same]:
        extra = {k: v for k, v in r.items() if k not in ("stage", "wall_s", "cpu_s", "peak_rss_mb")}
        ratios = ("", "") if r["stage"] in ("generate", "compare_marts") else (
            f"{r['wall_s'] / read['wall_s']:.1f}x", f"{r['wall_s'] / script['wall_s']:.1f}x")
        print(f"| {r['stage']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mb']} | {ratios[0]} | {ratios[1]} "
              f"| {json.dumps(extra) if extra else ''} |")


if __name__ == "__main__":
    main()
