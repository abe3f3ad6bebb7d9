"""``pve decide --traffic FILE...``: one decision per prefix of your own traffic, on a process pool
or a Dask cluster, ranked by what events would save; optionally a report for a design doc."""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.cli.args import _positive_int
from bench.cli.exits import EXIT_OK, ArgumentError
from bench.cli.output import (
    _command_line,
    _out_dir,
    _prepare_out,
    check_json_target,
    print_table,
    report_console,
    write_json,
)


def add_fleet_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("with --traffic: where the per-prefix decisions run, and the report")
    group.add_argument(
        "--executor",
        choices=["process", "thread", "dask"],
        default="process",
        help="process: a local process per core (default); dask: a Dask cluster (pip install "
        "'poll-vs-events[dask]'; a local one unless --dask-address); thread: one process",
    )
    group.add_argument("--workers", type=_positive_int, help="workers (default: every core)")
    group.add_argument("--dask-address", metavar="ADDR", help="a running Dask scheduler (tcp://host:8786)")
    group.add_argument("--report", metavar="FILE", help="also write a report for a design doc (.md or .html)")


@contextlib.contextmanager
def open_executor(args: argparse.Namespace) -> Iterator[Executor]:
    """The executor the flags name, closed (and a local Dask cluster stopped) afterwards."""
    if args.executor == "thread":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=args.workers or 1) as pool:
            yield pool
        return
    if args.executor == "process":
        from bench.traffic.fleet import default_executor

        with default_executor(args.workers) as pool:
            yield pool
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ArgumentError("--executor dask", "needs Dask: pip install 'poll-vs-events[dask]'") from None
    with contextlib.ExitStack() as stack:
        if args.dask_address:
            client = stack.enter_context(Client(args.dask_address))
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,  # its INFO lines would bury the progress
                )
            )
            client = stack.enter_context(Client(cluster))
        yield client.get_executor()


def _progress(err: Console):  # type: ignore[no-untyped-def]
    started = time.perf_counter()

    def report(done: int, total: int, prefix: str) -> None:
        elapsed = time.perf_counter() - started
        err.print(f"decided {done}/{total} prefixes ({prefix}) in {elapsed:.1f} s", highlight=False)

    return report


def check_traffic_flags(args: argparse.Namespace) -> None:
    if args.files_per_day or args.hourly:
        raise ArgumentError("--traffic", "takes the rates from the files: leave out --files-per-day/--hourly")
    if args.report and Path(args.report).suffix.lower() not in (".md", ".html"):
        raise ArgumentError("--report", f"{args.report}: give a .md or .html file")
    if args.dask_address and args.executor != "dask":
        raise ArgumentError("--dask-address", "goes with --executor dask")


def cmd_decide_traffic(args: argparse.Namespace, console: Console) -> int:
    from bench.cli.traffic import read_profiles
    from bench.results.files import prepare_out_file
    from bench.traffic.chart import fleet_chart
    from bench.traffic.fleet import DecideSettings, decide_prefixes, summary_line

    check_traffic_flags(args)
    from bench.cli.cost import decide_fields

    fields = decide_fields(args)
    out = _prepare_out(_out_dir("decide", "traffic", args.out), args)
    check_json_target(args)  # --json [PATH]: stdout (then the tables go to stderr) or a file
    if args.report:
        prepare_out_file(Path(args.report), flag="--report")
    console = report_console(args, console)
    profiles, notes = read_profiles(args, args.traffic)  # every record checked before any decision
    settings = DecideSettings(fields, args.profile, args.assumptions, args.pricing, args.samples, args.seed)
    err = Console(stderr=True)
    with open_executor(args) as executor:
        decisions = decide_prefixes(
            profiles, settings, executor=executor, progress=None if args.quiet else _progress(err)
        )
    if not args.quiet:
        print_table(console, fleet_table(decisions))
        console.print(summary_line(decisions), highlight=False)
        for line in notes.lines():
            console.print(f"  {line}", highlight=False)
    out.mkdir(parents=True, exist_ok=True)
    chart = fleet_chart(decisions, out / f"traffic.{args.format}")
    document = {
        "command": _command_line(),
        "summary": summary_line(decisions),
        "decisions": [d.as_dict() for d in decisions],
        "read": notes.lines(),
        "settings": settings.as_dict(),
    }
    written_json = write_json(document, args.json) if args.json else None
    if args.report:
        from bench.traffic.report import write_report

        write_report(Path(args.report), decisions, notes, settings, chart, _command_line())
    if not args.quiet:
        written = [str(chart), *(str(v) for v in (written_json, args.report) if v)]
        console.print("wrote " + ", ".join(written), highlight=False)
    return EXIT_OK


def fleet_table(decisions: list[Any]) -> Table:
    from bench.cost.sensitivity import two_sig

    table = Table(
        title="One decision per prefix, ranked by what events save a month",
        title_justify="left",
        caption="$/month: the recommended option's bill (range over the assumptions); saving: the cheapest "
        "polling option minus the cheapest event option, each meeting the same requirements; feasibility "
        "and latency at each prefix's busiest minute",
        caption_justify="left",
    )
    for column in ("prefix", "files/day", "peak/day", "verdict", "recommended", "$/month", "p95 s", "saving"):
        numeric = column in ("files/day", "peak/day", "p95 s", "saving")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=column == "prefix")
    for d in decisions:
        best = d.recommended
        name = f"{d.profile.bucket}/{d.profile.prefix}" if d.profile.bucket else d.profile.name
        bill = (
            "-"
            if best is None
            else f"{two_sig(best.monthly_point)} ({two_sig(best.monthly_low)}-{two_sig(best.monthly_high)})"
        )
        table.add_row(
            name,
            f"{d.profile.files_per_day:,.0f}",
            f"{d.profile.peak_files_per_day:,.0f}",
            d.verdict,
            "-" if best is None else best.name,
            bill,
            "-" if best is None else two_sig(best.latency.p95),
            "-" if d.saving is None else f"{d.saving:+,.2f}",
        )
    return table
