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
    from cohaesie_pipeline.demo.generator import DEMO_QUARTERS, default_demo_quarters, generate
    from cohaesie_pipeline.paths import data_dir

    out = Path(args.out) if args.out else data_dir()
    first, last = args.first, args.last
    if last is None:
        last = default_demo_quarters()[1]
    if first is None:
        first = str(Quarter.parse(last) - (DEMO_QUARTERS - 1))
    t = time.perf_counter()
    summary = generate(out, practices=args.practices, first=first, last=last, seed=args.seed)
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
    from cohaesie_pipeline.inputs import NOT_LOADED

    misnamed = [w for w in why if NOT_LOADED in w]
    if misnamed:  # everything else is done, but a delivery may be waiting under a wrong name
        print("\nNOT EVERYTHING WAS LOADED:", file=sys.stderr)
        for line in misnamed:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


def _cmd_policy_diff(args) -> int:
    from cohaesie_pipeline.paths import reports_dir, warehouse_path
    from cohaesie_pipeline.policy.config import PolicyConfigError, load_policy
    from cohaesie_pipeline.policy_diff import PolicyDiffError, run_policy_diff

    try:
        current, other = load_policy(), load_policy(args.policy)
        quarter = Quarter.parse(args.quarter) if args.quarter else None
        run_policy_diff(current, other, warehouse_path(), quarter, Path(args.out) if args.out else None,
                        reports_dir())
    except (PolicyConfigError, PolicyDiffError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_partitions(args) -> int:
    from cohaesie_pipeline.partitions import (
        PartitionRefused,
        loaded_quarters,
        partition_status,
        remove_partition,
    )
    from cohaesie_pipeline.paths import warehouse_path
    from cohaesie_pipeline.runner import _instance

    instance = _instance()
    loaded = loaded_quarters(warehouse_path())
    if args.action == "list":
        rows = partition_status(instance, loaded)
        if not rows:
            print("no quarter partitions yet")
        for r in rows:
            notes = [("inbox folder" if r["inbox_folder"] else "NO inbox folder"),
                     ("loaded" if r["loaded"] else "not loaded")] + ([] if r["valid"] else ["not a quarter (YYYYQn)"])
            print(f"{r['quarter']}: {', '.join(notes)}")
        return 0
    status = 0
    for key in args.quarters:
        try:
            remove_partition(instance, key, loaded)
            print(f"removed partition {key}")
        except PartitionRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    return status


def _cmd_reference(args) -> int:
    from cohaesie_pipeline.ingestion.errors import ValidationFailed
    from cohaesie_pipeline.ingestion.reference import FOLDER, import_reference, read_log
    from cohaesie_pipeline.paths import registers_dir

    if args.action == "list":
        log = read_log(registers_dir())
        if log.empty:
            print("no reference values imported: the shipped defaults (dbt_project/seeds) are in force")
        for r in log.itertuples():
            print(f"{r.import_id}: {r.file_name} ({r.rows} rows, sha256 {r.file_sha256[:16]}...) by {r.imported_by} "
                  f"at {r.imported_at}")
        return 0
    if not args.file:
        print("error: give the file to import: cohaesie reference import FILE.csv|xlsx", file=sys.stderr)
        return 2
    try:
        done = import_reference(Path(args.file), registers_dir())
    except ValidationFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if done.import_id is None:
        print(f"{done.path.name} was imported before as {done.previous}: nothing changed")
        return 0
    print(f"imported {done.rows} reference values from {done.path.name} as {done.import_id} "
          f"(kept in {registers_dir() / FOLDER}); `cohaesie run` uses them from the next run")
    return 0


def _cmd_dbt_vars(_args) -> int:
    import json

    from cohaesie_pipeline.policy.config import load_policy

    print(json.dumps(load_policy().dbt_vars()))
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
    demo.add_argument("--from", dest="first", help="first quarter, YYYYQn (default: seven quarters before --to, "
                                                    "so eight quarters)")
    demo.add_argument("--to", dest="last", help="last quarter, YYYYQn (default: the latest quarter whose peildatum "
                                                "has passed, i.e. the current quarter)")
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

    diff = sub.add_parser("policy-diff", help="what another policy file would change (read-only)",
                          description="Recompute classification, trajectories and settlements with another policy "
                                      "file on a copy of the warehouse and show what would change: practice-programs "
                                      "changing status or coverage judgement, next actions, and euros per practice "
                                      "and in total. Nothing is written to the warehouse. Writes a Dutch workbook.")
    diff.add_argument("--policy", required=True, help="the other policy.yaml")
    diff.add_argument("--quarter", help="as of this quarter, YYYYQn (default: the latest loaded quarter)")
    diff.add_argument("--out", help="workbook to write (default: <reports>/beleidsvergelijking/"
                                    "beleidsvergelijking-<quarter>-<version>.xlsx)")
    diff.set_defaults(func=_cmd_policy_diff)

    parts = sub.add_parser("partitions", help="list quarter partitions, or remove ones with nothing behind them",
                           description="`list`: every quarter partition, whether its inbox folder exists and whether "
                                       "it is loaded. `remove Q..`: remove partitions added by mistake (e.g. in the "
                                       "UI): only a quarter without an inbox folder and not loaded is removed.")
    parts.add_argument("action", choices=["list", "remove"])
    parts.add_argument("quarters", nargs="*", help="quarters to remove, e.g. 2025Q1")
    parts.set_defaults(func=_cmd_partitions)

    ref = sub.add_parser("reference", help="import national reference values or targets, or list the imports",
                         description="`import FILE`: load national (InEen) rates or targets (streefwaarden) from a "
                                     ".csv or .xlsx with columns soort (landelijk|streefwaarde); indicator; jaar; "
                                     "percentage (0-100, e.g. 74,5); bron. The file is validated whole (errors name "
                                     "file, line and column; nothing is kept from a rejected file), recorded with "
                                     "who imported it when and its sha256, and used from the next `cohaesie run`. "
                                     "Per soort x indicator x jaar the latest import wins. `list`: the imports.")
    ref.add_argument("action", choices=["import", "list"])
    ref.add_argument("file", nargs="?", help="the file to import")
    ref.set_defaults(func=_cmd_reference)

    dbt_vars = sub.add_parser("dbt-vars", help="print the policy's dbt vars as JSON (for running dbt by hand)",
                              description='For `dbt build --vars "$(cohaesie dbt-vars)"`: the policy numbers live '
                                          "only in the policy config, never in dbt_project.yml.")
    dbt_vars.set_defaults(func=_cmd_dbt_vars)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
