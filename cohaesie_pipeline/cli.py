"""`cohaesie`: the pipeline from a terminal. `run` executes the same asset graph as the Dagster UI,
in-process, quarter by quarter in chronological order."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from cohaesie_pipeline.quarters import Quarter


def _cmd_demo_data(args) -> int:
    from cohaesie_pipeline.demo.generator import generate
    from cohaesie_pipeline.paths import data_dir

    out = Path(args.out) if args.out else data_dir()
    t = time.perf_counter()
    summary = generate(out, practices=args.practices, first=args.first, last=args.last, seed=args.seed)
    rows = sum(v for k, v in summary.rows.items() if not k.startswith("registers"))
    print(f"demo data root written to {out}: {args.practices} practices, quarters {summary.quarters[0]}-"
          f"{summary.quarters[-1]}, {rows:,} delivery rows in {time.perf_counter() - t:.1f}s")
    return 0


def _cmd_run(args) -> int:
    from cohaesie_pipeline.partitions import quarters_in_inbox
    from cohaesie_pipeline.paths import inbox_dir
    from cohaesie_pipeline.runner import PipelineFailed, run_quarters

    if args.all:
        quarters = quarters_in_inbox()
        if not quarters:
            print(f"error: no quarter folders (YYYYQn) in {inbox_dir()}", file=sys.stderr)
            return 2
    else:
        try:
            quarters = [Quarter.parse(args.quarter)]
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        run_quarters(quarters, echo=print)
    except PipelineFailed as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cohaesie",
        description="Cohaesie chain-care pipeline: quarterly exports -> indicators, coverage, underperformer "
                    "policy, settlements and reports. Paths come from COHAESIE_DATA_DIR (default data/), "
                    "COHAESIE_REPORTS_DIR (default reports/) and COHAESIE_POLICY (default: shipped policy.yaml).")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write a realistic synthetic data root (inbox + registers)",
                          description="Write a synthetic data root in the data contract's format: one inbox folder "
                                      "per quarter with patienten, meetwaarden and declaraties, and the registers. "
                                      "Deterministic for a given --seed.")
    demo.add_argument("--out", help="data root to write (default: COHAESIE_DATA_DIR or data/)")
    demo.add_argument("--practices", type=int, default=45, help="number of practices (default 45; 5000 is national scale)")
    demo.add_argument("--from", dest="first", default="2023Q1", help="first quarter, YYYYQn (default 2023Q1)")
    demo.add_argument("--to", dest="last", default="2024Q4", help="last quarter, YYYYQn (default 2024Q4)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.set_defaults(func=_cmd_demo_data)

    run = sub.add_parser("run", help="materialise the whole asset graph for one quarter or all quarters",
                         description="Run ingestion, dbt models, policy marts and reports in-process. With --all, "
                                     "every quarter folder in the inbox is run in chronological order (later "
                                     "quarters compare with earlier ones). Exit code 0 only when all succeeded.")
    which = run.add_mutually_exclusive_group(required=True)
    which.add_argument("--quarter", help="the quarter to run, YYYYQn (e.g. 2024Q3)")
    which.add_argument("--all", action="store_true", help="every quarter present in the inbox, oldest first")
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
