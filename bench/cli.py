"""The ``pve`` command line (also ``python -m bench``)."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_MISSED = 3

EPILOG = """exit codes: 0 done (every file processed, or failed with a reason); 1 unexpected error;
2 bad input (scenario, arguments, results folder); 3 some files were missed (not handled
before the drain timeout)."""


def _out_dir(kind: str, name: str, out: str | None) -> Path:
    if out:
        return Path(out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / name / stamp if kind == "run" else Path("results") / kind / name / stamp


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from bench.progress import QuietProgress, RichProgress
    from bench.report import draw_charts
    from bench.runner import run_scenario
    from bench.scenario import load_scenario, resolve_scenario_path
    from bench.table import summary_table

    scenario = load_scenario(args.scenario).with_overrides(
        backend=args.backend, latency_profile=args.profile, repetitions=args.repetitions, seed=args.seed
    )
    out = _out_dir("run", scenario.name, args.out)
    progress = QuietProgress() if args.quiet else RichProgress()
    try:
        summary = run_scenario(
            scenario,
            out,
            progress=progress,
            command=_command_line(),
            scenario_file=str(resolve_scenario_path(args.scenario)),
        )
    finally:
        if isinstance(progress, RichProgress):
            progress.close()
    charts = draw_charts(out, fmt=args.format)
    if not args.quiet:
        console.print(summary_table(summary))
        for strategy in summary["strategies"].values():
            for note in strategy["notes"]:
                console.print(f"[yellow]note:[/] {note}")
        console.print(f"results: {out}/records.csv, {out}/summary.json, " + ", ".join(str(c) for c in charts))
    missed = sum(s["missed"] for s in summary["strategies"].values())
    if missed:
        Console(stderr=True).print(
            f"[red]{missed} file(s) were missed[/]: see 'failures' in {out}/summary.json"
        )
        return EXIT_MISSED
    return EXIT_OK


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    from bench.scenario import ScenarioError, bundled_scenarios, load_scenario

    for name, path in bundled_scenarios().items():
        try:
            scenario = load_scenario(str(path))
            kinds = ", ".join(s.name for s in scenario.strategies)
            console.print(
                f"[bold]{name:<15}[/] {scenario.description}  [dim]({kinds})[/]",
                highlight=False,
                soft_wrap=True,
            )
        except ScenarioError as exc:
            console.print(f"[bold]{name:<15}[/] [red]invalid:[/] {exc}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from bench.report import draw_charts
    from bench.results import read_results
    from bench.table import summary_table

    charts = draw_charts(args.results, fmt=args.format)
    if not args.quiet:
        console.print(summary_table(read_results(args.results).summary))
        console.print("charts: " + ", ".join(str(c) for c in charts))
    return EXIT_OK


def _command_line() -> str:
    return "pve " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pve",
        description="poll-vs-events: run the same file workload through polling and event "
        "strategies, and compare latency, requests and cost.",
        epilog=EPILOG,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the runtime does")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a scenario (bundled name or .toml path)",
        epilog=EPILOG,
        description="Run every strategy of a scenario on a fresh backend each, "
        "print a table and write records.csv, summary.json and charts.",
    )
    run.add_argument("scenario", help="bundled scenario name (see 'pve list') or path to a .toml file")
    run.add_argument("--out", help="results folder (default: results/<scenario>/<UTC timestamp>/)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument(
        "--backend", choices=["moto", "moto-server", "folder"], help="override the scenario's backend"
    )
    run.add_argument("--profile", help="override the latency profile (instant, aws, moto, or a .toml path)")
    run.add_argument("--repetitions", type=int, help="override the number of repetitions")
    run.add_argument("--seed", type=int, help="override the seed")
    run.add_argument("--format", choices=["png", "svg"], default="png", help="chart format (default png)")
    run.set_defaults(func=cmd_run)

    listing = sub.add_parser("list", help="list the bundled scenarios, one line each")
    listing.set_defaults(func=cmd_list)

    report = sub.add_parser("report", help="redraw the charts and the table of a results folder")
    report.add_argument("results", help="a results folder (with summary.json and records.csv)")
    report.add_argument("--format", choices=["png", "svg"], default="png")
    report.add_argument("--quiet", action="store_true")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from bench.results import ResultsError
    from bench.scenario import ScenarioError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    console = Console(width=None if sys.stdout.isatty() else 120)  # logs and pipes get whole rows
    func: Callable[[argparse.Namespace, Console], int] = args.func
    try:
        return func(args, console)
    except (ScenarioError, ResultsError, FileNotFoundError, ValueError) as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        Console(stderr=True).print("[red]interrupted[/]")
        return 130
