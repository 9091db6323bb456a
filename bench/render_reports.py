"""Benchmark (not a test): practice-report rendering of one quarter on a built data root.

    python bench/render_reports.py                       # data/ as `make run` leaves it, last quarter
    python bench/render_reports.py --root /tmp/demo --quarter 2024Q4 --runs 5

Renders the quarter's practice reports with the pipeline's own parallel renderer `--runs` times into a
temporary folder and prints each run's wall time per report and the median. The project machine is a VM
whose speed drifts 10-20% between runs, so one run says little. Needs all 8 quarters built (the trend
charts draw 8 quarters of history; a single-quarter warehouse would flatter the numbers).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from cohaesie_pipeline.paths import REPO_ROOT
from cohaesie_pipeline.policy.config import load_policy
from cohaesie_pipeline.quarters import Quarter
from cohaesie_pipeline.reports import render
from cohaesie_pipeline.reports.data import load_quarter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(REPO_ROOT), help="folder holding data/warehouse/cohaesie.duckdb")
    ap.add_argument("--quarter", default=None, help="default: the latest quarter in the warehouse")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    con = duckdb.connect(str(Path(args.root) / "data" / "warehouse" / "cohaesie.duckdb"), read_only=True)
    q = args.quarter or con.execute("select max(quarter) from marts.practice_indicators").fetchone()[0]
    data = load_quarter(con, Quarter.parse(q))
    con.close()
    policy, per_report, cpu, pages = load_policy(), [], [], 0
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.runs):
            t, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            done = render.render_practice_reports(data, policy, Path(out), date.today())
            per_report.append((time.perf_counter() - t) / len(done))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the render workers' own CPU time
            cpu.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / len(done))
            pages = sum(r.pages for r in done)
    print(f"{q}: {len(done)} practice reports, {pages} pages; s per report per run: "
          f"{', '.join(f'{v:.3f}' for v in per_report)}; median {statistics.median(per_report):.3f}; "
          f"worker CPU s per report: median {statistics.median(cpu):.3f}")


if __name__ == "__main__":
    main()
