"""Live runs on this machine: ``pve run``, ``pve list`` (the scenarios to run) and ``pve capacity``
(a sweep of live runs)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from bench.cli.aws import cmd_run_aws
from bench.cli.exits import EXIT_MISSED, EXIT_OK
from bench.cli.output import _command_line, _draw_after_run, _out_dir, _prepare_out, print_table

if TYPE_CHECKING:
    from bench.results.model import Run
    from bench.scenario.spec import Scenario


def _run_live(scenario: Scenario, source: str, out: Path, quiet: bool) -> Run:
    """Play ``scenario`` (loaded from ``source``) into ``out``, with a progress display unless quiet."""
    from bench.live.progress import QuietProgress, RichProgress
    from bench.live.runner import run_scenario
    from bench.scenario.spec import resolve_scenario_path

    progress = QuietProgress() if quiet else RichProgress()
    try:
        return run_scenario(
            scenario,
            out,
            progress=progress,
            command=_command_line(),
            scenario_file=str(resolve_scenario_path(source)),
        )
    finally:
        if isinstance(progress, RichProgress):
            progress.close()


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from bench.live.runner import check_live_size
    from bench.report.table import summary_table
    from bench.scenario.spec import load_scenario

    if args.backend == "aws":
        return cmd_run_aws(args, console)
    scenario = load_scenario(args.scenario).with_overrides(
        backend=args.backend, latency_profile=args.profile, repetitions=args.repetitions, seed=args.seed
    )
    check_live_size(scenario)
    out = _prepare_out(_out_dir("run", scenario.name, args.out), args)
    summary = _run_live(scenario, args.scenario, out, args.quiet)
    charts = _draw_after_run(out, args.format)
    if not args.quiet:
        print_table(console, summary_table(summary))
        for strategy in summary.strategies.values():
            for note in strategy.notes:
                console.print(f"[yellow]note:[/] {note}")
        console.print(f"results: {out}/records.csv, {out}/summary.json, " + ", ".join(str(c) for c in charts))
    missed = sum(s.missed for s in summary.strategies.values())
    if missed:
        err = Console(stderr=True)
        err.print(f"[red]{missed} file(s) were missed[/]: see 'failures' in {out}/summary.json")
        if args.quiet:  # otherwise printed above: why a strategy missed its files
            for strategy in summary.strategies.values():
                for note in strategy.notes if strategy.missed else []:
                    err.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
        return EXIT_MISSED
    return EXIT_OK


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    from bench.scenario.spec import ScenarioError, bundled_scenarios, load_scenario

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


def _knee_text(entry: dict[str, Any]) -> str:
    """The knee, and where a higher rate held despite a failure under it: ``22.4 (66.8 held)``."""
    knee = entry["knee_files_per_s"]
    top = entry.get("highest_held_files_per_s")
    text = "-" if knee is None else f"{knee:g}"
    return text if top is None or knee == top else f"{text} ({top:g} held)"


def _bracket(bracket: list[float | None] | None) -> str:
    """The knee and the lowest rate above it that failed ("-" where there is none)."""
    if not bracket:
        return "-"
    low, high = bracket
    return f"{low:g} (none above failed)" if high is None else f"{low:g} - {high:g}"


def _backend_floor_text(document: dict[str, Any]) -> str:
    """Over HTTP: the server's one-thread floor, which sets the rates and the p95 rule."""
    own = document.get("backend_floor")
    if not own:
        return ""
    knees = ", ".join(
        f"{name} {entry['knee_vs_backend_floor']:.2f}x"
        for name, entry in document["strategies"].items()
        if entry.get("knee_vs_backend_floor") is not None
    )
    return f"; {document['backend']} one-thread floor {own['files_per_s']:.1f} files/s" + (
        f" (knees against it: {knees})" if knees else ""
    )


def _drift_warning(document: dict[str, Any]) -> str:
    """A warning when the floors before and after the sweep disagree (the machine's speed moved)."""
    if document.get("floor_stable", True):
        return ""
    before, after = document["floor_samples_files_per_s"]
    return (
        f"UNRELIABLE: the floor moved from {before:g} to {after:g} files/s during the sweep "
        "(other load, or a virtual machine's neighbours); re-run on a quiet machine. "
    )


def route_floor_table(document: dict[str, Any]) -> Table:
    """Each event route's own floors (the least work it needs per file), against the in-process
    floor, and each strategy's knee against them."""
    table = Table(
        title="Route floors: the least work each event route needs per file, without the runtime",
        title_justify="left",
        caption="in process (one core for moto and the route), a knee cannot pass its route's floor: "
        "below 0.8x the in-process floor, the route itself is out of reach of that goal; with moto in "
        "its own process the server has a core of its own and a knee can pass a one-thread floor "
        "(bench/live/route_floor.py)",
        caption_justify="left",
    )
    for column in ("route", "played", "files/s", "x floor", "strategy", "knee x this"):
        table.add_column(column, justify="left" if column in ("route", "played", "strategy") else "right")
    for name, entry in document["strategies"].items():
        for measured in document["route_floors"].get(entry["kind"], []):
            ratio = entry.get("knee_vs_route_floors", {}).get(measured["label"])
            table.add_row(
                entry["kind"],
                measured["label"],
                f"{measured['files_per_s']:.1f}",
                f"{measured['vs_floor']:.2f}",
                name,
                "-" if ratio is None else f"{ratio:.2f}",
            )
    return table


def cmd_capacity(args: argparse.Namespace, console: Console) -> int:
    """Sweep the offered rate; write capacity.json and capacity.png; print each strategy's knee."""
    from bench.errors import InputError
    from bench.live.capacity import SweepOptions, sweep_capacity
    from bench.report.capacity import save_capacity
    from bench.results.environment import capture_environment
    from bench.scenario.bounds import MAX_RATE_PER_S
    from bench.scenario.spec import load_scenario

    for flag, value in (("--seconds", args.seconds), ("--floor-files", args.floor_files)):
        if not value > 0:
            raise InputError(f"{flag} must be positive, got {value}")
    if args.refine_steps < 0:
        raise InputError(f"--refine-steps must be 0 or more, got {args.refine_steps}")
    if args.rates and not all(0 < r <= MAX_RATE_PER_S for r in args.rates):  # NaN fails both
        raise InputError(
            f"--rates must be numbers above 0 up to {MAX_RATE_PER_S:,.0f} files/s, got {args.rates}"
        )
    scenario = load_scenario(args.scenario)
    out = _prepare_out(_out_dir("capacity", scenario.name, args.out), args)
    started = datetime.now(UTC)
    document = sweep_capacity(
        scenario,
        out / "runs",
        SweepOptions(
            rates=args.rates,
            seconds=args.seconds,
            backend=args.backend,
            floor_files=args.floor_files,
            refine_steps=args.refine_steps,
        ),
        say=(lambda text: None) if args.quiet else (lambda text: console.print(text, highlight=False)),
    )
    document = {
        "command": _command_line(),
        "note": args.note,
        "environment": capture_environment(started).model_dump(mode="json"),
        **document,
    }
    save_capacity(document, out)
    floor = document["floor"]
    table = Table(
        title=f"Capacity on {document['backend']}: in-process floor {floor['files_per_s']:.1f} files/s"
        + _backend_floor_text(document),
        title_justify="left",
        caption=f"knee = highest offered rate where every file was processed, the writer's p95 lag stayed "
        f"within 100 ms, event routes' p95 within 50 ms of the floor's per-file time and a poll's p95 "
        f"within two intervals; bisected {args.refine_steps} times toward the first failing rate "
        f"(the bracket); every lower rate held too ('(N held)': a higher rate held despite a failure "
        f"under it, a chance cascade more than a limit). {_drift_warning(document)}{args.note}",
        caption_justify="left",
    )
    for column in ("strategy", "knee files/s", "x floor", "bracket files/s", "mean SQS batch"):
        table.add_column(column, justify="left" if column == "strategy" else "right", no_wrap=True)
    for name, entry in document["strategies"].items():
        batches = [p["mean_batch_size"] for p in entry["points"] if p["mean_batch_size"] is not None]
        table.add_row(
            name,
            _knee_text(entry),
            "-" if entry["knee_vs_floor"] is None else f"{entry['knee_vs_floor']:.2f}",
            _bracket(entry.get("knee_bracket_files_per_s")),
            f"{batches[0]:.1f} at the lowest rate, up to {max(batches):.1f}" if batches else "-",
        )
    if not args.quiet:
        print_table(console, table)
        if document.get("route_floors"):
            console.print(route_floor_table(document))
        console.print(f"wrote {out / 'capacity.json'} and {out / 'capacity.png'}", highlight=False)
    return EXIT_OK
