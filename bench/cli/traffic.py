"""``pve traffic``: profile what a bucket already records, per prefix (and the flags that
``pve decide --traffic`` and ``pve simulate --traffic`` share with it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from bench.cli.args import _seed
from bench.cli.exits import EXIT_OK, ArgumentError
from bench.cli.output import check_json_target, print_table, report_console, write_json

if TYPE_CHECKING:
    from bench.traffic.model import ReadNotes
    from bench.traffic.profile import PrefixProfile


def add_traffic_arguments(parser: argparse.ArgumentParser, *, files: str = "--traffic") -> None:
    """--traffic-format, --depth, --prefix: how the traffic files are read and grouped."""
    from bench.traffic.sources import FORMATS

    group = parser.add_argument_group(f"with {files}" if files.startswith("-") else "traffic files")
    group.add_argument(
        "--traffic-format",
        choices=sorted(FORMATS),
        help="the files' format (default: told from their first bytes)",
    )
    group.add_argument(
        "--depth",
        type=_seed,  # a whole number from 0
        default=1,
        help="one prefix per this many leading folders of a key (default 1; 0: one per bucket)",
    )
    group.add_argument(
        "--prefix",
        action="append",
        metavar="P",
        help="group by these prefixes instead (repeat the flag; keys under none go to '(other)')",
    )


def read_profiles(args: argparse.Namespace, paths: list[str]) -> tuple[list[PrefixProfile], ReadNotes]:
    """Read and profile ``paths`` as the flags say: every file checked, the first bad record an error."""
    from bench.traffic.model import ReadNotes
    from bench.traffic.profile import Grouping, profile_traffic
    from bench.traffic.sources import read_traffic

    notes = ReadNotes()
    grouping = Grouping(depth=args.depth, prefixes=tuple(args.prefix or ()))
    profiles = profile_traffic(read_traffic(paths, fmt=args.traffic_format, notes=notes), grouping)
    if not profiles:
        raise ArgumentError(
            paths[0] if len(paths) == 1 else "FILE", "no object creations, deletions or listings"
        )
    return profiles, notes


def cmd_traffic(args: argparse.Namespace, console: Console) -> int:
    from bench.traffic.view import profile_charts, profile_table

    check_json_target(args)  # --json [PATH]: stdout (then the tables go to stderr) or a file
    console = report_console(args, console)
    profiles, notes = read_profiles(args, args.files)
    if not args.quiet:
        print_table(console, profile_table(profiles))
        for p in profiles:
            for line in profile_charts(p):
                console.print(line, highlight=False)
        for line in notes.lines():
            console.print(f"  {line}", highlight=False)
    if args.json:
        write_json({"profiles": [p.as_dict() for p in profiles], "read": notes.lines()}, args.json)
    return EXIT_OK


def check_replay_flags(args: argparse.Namespace) -> None:
    if args.days is not None or args.files_per_day:
        raise ArgumentError("--traffic", "replays the recorded times: leave out --days/--files-per-day")


def replay_scenario(scenario: Any, args: argparse.Namespace, out: Path, console: Console) -> Any:
    """``scenario`` with the traffic's creation times as its arrivals (a replay CSV in ``out``)."""
    from bench.scenario.limits import check_simulation
    from bench.traffic.replay import write_replay
    from bench.traffic.sources import read_traffic

    accesses = read_traffic(args.traffic, fmt=args.traffic_format)
    replay = write_replay(
        accesses, out / "traffic-arrivals.csv", prefixes=tuple(args.prefix or ()), compress=args.compress
    )
    check_simulation(scenario, replay.files, "--traffic")
    # count and duration tell the simulator the period (its horizon), as they do for any process
    arrivals = {
        "process": "replay",
        "replay_path": str(replay.path),
        "count": replay.files,
        "duration_s": max(replay.span_s, 1.0) + 1.0,
    }
    workload = {**scenario.workload.model_dump(), "arrivals": arrivals}
    if not args.quiet:
        console.print(
            f"replaying {replay.files:,} arrivals over {replay.span_s / 3600:,.2f} h"
            + (f" ({args.compress:g}x compressed)" if args.compress != 1 else "")
            + f" from {replay.path}",
            highlight=False,
        )
    return scenario.with_overrides(workload=workload)
