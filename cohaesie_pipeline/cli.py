"""`cohaesie`: the pipeline from a terminal. `run` executes the same asset graph as the Dagster UI,
in-process: the deliveries it has to load, then everything downstream over every loaded quarter."""
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


def _stop_on_sigterm() -> None:
    """SIGTERM (systemd, kill) stops a run the way Ctrl-C does: cleanly, also while waiting for the lock."""
    import signal

    def _raise(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def _cmd_run(args) -> int:
    from cohaesie_pipeline.paths import inbox_dir, warehouse_path
    from cohaesie_pipeline.runner import PipelineFailed, plan, run_pipeline
    from cohaesie_pipeline.warehouse_lock import warehouse_lock

    quarters = None
    if args.quarter:
        try:
            quarters = [Quarter.parse(args.quarter)]
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not (inbox_dir() / str(quarters[0])).is_dir():
            print(f"error: no delivery folder {inbox_dir() / str(quarters[0])}", file=sys.stderr)
            return 2
    _stop_on_sigterm()
    try:
        # planning reads the warehouse: wait for a run that is writing it first (the lock is re-entrant, so
        # run_pipeline keeps holding it)
        with warehouse_lock(warehouse_path(), what="cohaesie run", log=print):
            load, update, why = plan(quarters, args.all)
            if args.all and not load:
                print(f"error: no quarter folders (YYYYQn) with a complete delivery in {inbox_dir()}",
                      file=sys.stderr)
                for line in why:
                    print(f"  {line}", file=sys.stderr)
                return 2
            for line in why:
                print(line)
            if not load and not update:
                print("inputs unchanged since the last run: deliveries, registers and policy")
            summary = run_pipeline(load, update=update, echo=print)
    except PipelineFailed as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopped: nothing half-done was kept (each load and each table is one transaction)", file=sys.stderr)
        return 130
    print(f"done: {len(summary.loaded)} deliveries loaded, reports rendered again for "
          f"{', '.join(summary.rendered) or 'no quarter'} (log: {summary.log_path})")
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

    run = sub.add_parser("run", help="bring the warehouse and the reports up to date",
                         description="Load deliveries, then rebuild the marts, policy decisions and money over every "
                                     "loaded quarter and render the reports whose inputs changed. With no option: "
                                     "load what changed in the inbox, registers or policy since the last run. Exit "
                                     "code 0 only when everything succeeded.")
    which = run.add_mutually_exclusive_group(required=False)
    which.add_argument("--quarter", help="reload this quarter, YYYYQn (e.g. 2024Q3), and update everything that "
                                         "depends on it")
    which.add_argument("--all", action="store_true", help="reload every quarter in the inbox")
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
