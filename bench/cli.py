"""The ``pve`` command line (also ``python -m bench``)."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from bench.errors import InputError

if TYPE_CHECKING:
    from bench.results.model import Run
    from bench.scenario.spec import Scenario

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_MISSED = 3
EXIT_DOES_NOT_HOLD = 4  # `pve validate`: the simulator disagrees with theory or with a live run

EPILOG = """exit codes: 0 done (every file processed, or failed with a reason); 1 a bug (a
traceback; please report it); 2 bad input (scenario, arguments, results folder, pricing file);
3 some files were missed (not handled before the drain timeout); 4 `pve validate`: the simulator
does not hold against theory or a live run; 130/143 stopped by Ctrl-C/SIGTERM (temp folders
removed; a live run keeps its finished strategy runs, marked "complete": false)."""


def _prepare_out(out: Path, args: argparse.Namespace, flag: str = "--out") -> Path:
    """Check ``out`` before any work (a file, unwritable, another run's results without --force)."""
    from bench.results.files import prepare_out_folder

    prepare_out_folder(out, flag=flag, force=getattr(args, "force", False))
    return out


def _out_dir(kind: str, name: str, out: str | None) -> Path:
    if out:
        return Path(out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / name / stamp if kind == "run" else Path("results") / kind / name / stamp


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
    from bench.report.draw import draw_charts
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
    charts = draw_charts(out, fmt=args.format)
    if not args.quiet:
        console.print(summary_table(summary))
        for strategy in summary.strategies.values():
            for note in strategy.notes:
                console.print(f"[yellow]note:[/] {note}")
        console.print(f"results: {out}/records.csv, {out}/summary.json, " + ", ".join(str(c) for c in charts))
    missed = sum(s.missed for s in summary.strategies.values())
    if missed:
        Console(stderr=True).print(
            f"[red]{missed} file(s) were missed[/]: see 'failures' in {out}/summary.json"
        )
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


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from bench.report.draw import draw_charts
    from bench.report.table import summary_table
    from bench.results.files import read_results

    charts = draw_charts(args.results, fmt=args.format)
    if not args.quiet:
        console.print(summary_table(read_results(args.results).summary))
        console.print("charts: " + ", ".join(str(c) for c in charts))
    return EXIT_OK


def _work_from_args(args: argparse.Namespace) -> tuple[float, float]:
    """(cpu_s, wait_s) from --cpu-s/--wait-s, or from the deprecated --duration-ms/--cpu-share."""
    import warnings

    if args.duration_ms is None and args.cpu_share is None:
        return args.cpu_s, args.wait_s
    warnings.warn(
        "--duration-ms/--cpu-share are deprecated: describe the work with --cpu-s and --wait-s",
        DeprecationWarning,
        stacklevel=2,
    )
    Console(stderr=True).print(
        "[yellow]note:[/] --duration-ms/--cpu-share are deprecated; use --cpu-s and --wait-s", highlight=False
    )
    duration = (args.duration_ms if args.duration_ms is not None else 100.0) / 1000.0
    share = args.cpu_share if args.cpu_share is not None else 0.5
    return duration * share, duration * (1 - share)


class ArgumentError(InputError):
    """Bad input naming its flag (exit 2)."""

    def __init__(self, flag: str, problem: str) -> None:
        super().__init__(f"{flag}: {problem}")


def cmd_cost(args: argparse.Namespace, console: Console) -> int:
    from dataclasses import replace

    from rich.table import Table

    from bench.cost.assumptions import load_assumptions
    from bench.cost.feasibility import check
    from bench.cost.model import files_per_month, load_pricing, monthly_cost, standard_deployments
    from bench.report.cost_sweep import Ranges, write_sweep

    pricing = load_pricing(args.pricing)
    cpu_s, wait_s = _work_from_args(args)
    assumptions = load_assumptions(args.assumptions).with_points(
        {
            "cpu_s": cpu_s,
            "wait_s": wait_s,
            "memory_mb": float(args.memory),
            "arch": args.arch,
            "retention_days": args.retention_days,
            "retention": args.retention,
        }
    )
    deployments = [
        replace(d, idempotency_ledger=not args.no_ledger, ebs_root_gb=args.ebs_root_gb)
        for d in standard_deployments(
            args.interval,
            args.memory,
            arch=args.arch,
            cpu_s=cpu_s,
            wait_s=wait_s,
            retention_days=args.retention_days,
            retention=args.retention,
        )
    ]
    if args.sweep:
        out = _prepare_out(_out_dir("cost", "sweep", args.out), args)
        baseline = deployments[1]  # the well-built poller: lists a small prefix, deletes when done
        document = write_sweep(
            out,
            deployments,
            baseline,
            free_tier=args.free_tier,
            pricing=pricing,
            command=_command_line(),
            fmt=args.format,
            ranges_over=Ranges(assumptions, args.samples, args.seed),
        )
        if not args.quiet:
            from bench.report.charts import _two_sig

            for entry in document["ranges"]:
                span = entry["files_per_day"]
                if span["point"] is None and span["low"] is None:
                    where = "never, anywhere in the ranges"
                else:
                    where = (
                        f"{_two_sig(span['point'])} files/day (range {_two_sig(span['low'])}-"
                        f"{_two_sig(span['high'])})"
                    )
                flips = f"; flips on {', '.join(entry['flips_on'])}" if entry["flips_on"] else ""
                console.print(f"{entry['option']} costs the same as {entry['against']}: {where}{flips}")
            console.print(
                f"wrote {out}/cost_sweep.csv, {out}/break_even.json, {out}/sweep.json, "
                f"{out}/monthly_cost.{args.format}, {out}/sensitivity.{args.format}"
            )
        return EXIT_OK
    tier = "with the always-free tier" if args.free_tier else "no free tier"
    table = Table(
        title=f"Monthly cost in USD ({tier}; prices {pricing.label})",
        title_justify="left",
        caption=f"memory {args.memory} MB, per file {cpu_s:g} s CPU (at one vCPU) + {wait_s:g} s waiting, "
        f"{args.arch}; processed files stay {args.retention_days:g} days in the watched prefix "
        f"({args.retention}) unless deleted; steady state",
        caption_justify="left",
    )
    table.add_column("deployment", no_wrap=True)
    for rate in args.files_per_day:
        table.add_column(f"{rate:,.0f}/day", justify="right")
    footnotes: list[str] = []
    for d in deployments:
        cells = []
        for r in args.files_per_day:
            verdict = check(d, r, pricing=pricing, assumptions=assumptions)
            if not verdict.feasible:
                footnotes.append(f"[{len(footnotes) + 1}] {d.label} at {r:,.0f}/day: {verdict.reason}")
                cells.append(f"cannot run [{len(footnotes)}]")
                continue
            cost = monthly_cost(d, files_per_month(r, pricing), free_tier=args.free_tier, pricing=pricing)
            cells.append(f"{cost.total:,.2f}")
        table.add_row(d.label, *cells)
    console.print(table)
    for note in footnotes:
        console.print(note, highlight=False)
    return EXIT_OK


def cmd_decide(args: argparse.Namespace, console: Console) -> int:
    import json

    from bench.cost.assumptions import load_assumptions
    from bench.cost.model import load_pricing
    from bench.decide.chart import decide_chart
    from bench.decide.rank import Workload, decide, document
    from bench.decide.table import decision_notes, decision_table
    from event_handlers.runtime.latency import load_profile

    if not args.files_per_day and not args.hourly:
        raise ArgumentError("--files-per-day", "give one or more rates (or --hourly with 24 values)")
    if args.hourly and len(args.hourly) != 24:
        raise ArgumentError(
            "--hourly", f"needs 24 values (files in each hour of a day), got {len(args.hourly)}"
        )
    out = _prepare_out(_out_dir("decide", "decide", args.out), args)
    if args.json:
        from bench.results.files import prepare_out_file

        prepare_out_file(Path(args.json), flag="--json")
    pricing = load_pricing(args.pricing)
    assumptions = load_assumptions(args.assumptions)
    profile = load_profile(args.profile)
    common = {
        "cpu_s": args.cpu_s,
        "wait_s": args.wait_s,
        "file_size_mb": args.file_size_mb,
        "retention_days": args.retention_days,
        "retention": args.retention,
        "memory_mb": args.memory,
        "arch": args.arch,
        "interval_s": args.interval,
        "latency_p95_s": args.latency_p95,
        "budget_usd": args.budget_usd,
        "ledger": not args.no_ledger,
        "ebs_root_gb": args.ebs_root_gb,
    }
    if args.hourly:
        workloads = [Workload(sum(args.hourly), peak_files_per_day=max(args.hourly) * 24, **common)]
    else:
        workloads = [Workload(rate, **common) for rate in args.files_per_day]
    decisions = decide(workloads, profile, assumptions, pricing, samples=args.samples, seed=args.seed)
    if not args.quiet:
        for decision in decisions:
            console.print(decision_table(decision, profile.name, pricing.label, assumptions.path))
            for line in decision_notes(decision):
                console.print(f"  {line}", highlight=False)
    out.mkdir(parents=True, exist_ok=True)
    chart = decide_chart(decisions, out / f"decide.{args.format}", latency_p95_s=args.latency_p95)
    doc = document(decisions, assumptions, pricing, profile, _command_line())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if not args.quiet:
        console.print(f"chart: {chart}" + (f", json: {args.json}" if args.json else ""))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from bench.report.table import seconds
    from bench.results.compare import DifferentScenariosError, compare_results
    from bench.results.files import read_results

    a, b = read_results(args.a), read_results(args.b)
    try:
        comparisons, notes = compare_results(
            a, b, alpha=args.alpha, min_effect=args.min_effect, min_abs_s=args.min_effect_s, force=args.force
        )
    except DifferentScenariosError as exc:
        Console(stderr=True).print(f"[red]refused:[/] {exc}", highlight=False)
        return EXIT_USAGE
    table = Table(
        title=f"{a.scenario_name}: B = {args.b} against A = {args.a}",
        title_justify="left",
        caption=f"significant = Mann-Whitney U p < {args.alpha:g} and medians {args.min_effect:.0%} "
        f"and {args.min_effect_s * 1000:g} ms apart",
        caption_justify="left",
    )
    for column in (
        "strategy",
        "p50 A",
        "p50 B",
        "change",
        "p95 A",
        "p95 B",
        "p-value",
        "verdict",
        "requests A/B",
        "invokes A/B",
    ):
        table.add_column(
            column, justify="left" if column in ("strategy", "verdict") else "right", no_wrap=True
        )
    for c in comparisons:
        change = "-" if c.relative_change is None else f"{c.relative_change:+.1%}"
        p_value = "-" if c.p_value is None else f"{c.p_value:.3g}"
        verdict = f"[bold]{c.verdict}[/]" if c.significant else c.verdict
        table.add_row(
            c.strategy,
            seconds(c.median_a),
            seconds(c.median_b),
            change,
            seconds(c.p95_a),
            seconds(c.p95_b),
            p_value,
            verdict,
            f"{c.requests_a}/{c.requests_b}",
            f"{c.invocations_a}/{c.invocations_b}",
        )
    console.print(table)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    return EXIT_OK


def cmd_capacity(args: argparse.Namespace, console: Console) -> int:
    """Sweep the offered rate; write capacity.json and capacity.png; print each strategy's knee."""
    from rich.table import Table

    from bench.errors import InputError
    from bench.live.capacity import sweep_capacity
    from bench.report.capacity import save_capacity
    from bench.results.environment import capture_environment
    from bench.scenario.spec import load_scenario

    for flag, value in (("--seconds", args.seconds), ("--floor-files", args.floor_files)):
        if not value > 0:
            raise InputError(f"{flag} must be positive, got {value}")
    if args.rates and not all(r > 0 for r in args.rates):
        raise InputError(f"--rates must be positive, got {args.rates}")
    scenario = load_scenario(args.scenario)
    out = _prepare_out(_out_dir("capacity", scenario.name, args.out), args)
    started = datetime.now(UTC)
    document = sweep_capacity(
        scenario,
        out / "runs",
        rates=args.rates,
        seconds=args.seconds,
        backend=args.backend,
        floor_files=args.floor_files,
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
        title=f"Capacity on {document['backend']}: in-process floor {floor['files_per_s']:.1f} files/s",
        title_justify="left",
        caption=f"knee = highest offered rate where every file was processed, the writer's p95 lag stayed "
        f"within 100 ms and event routes' p95 within 50 ms of the floor's per-file time. {args.note}",
        caption_justify="left",
    )
    for column in ("strategy", "knee files/s", "x floor", "mean SQS batch by rate"):
        table.add_column(column, justify="left" if column == "strategy" else "right", no_wrap=True)
    for name, entry in document["strategies"].items():
        knee = entry["knee_files_per_s"]
        batches = [p["mean_batch_size"] for p in entry["points"] if p["mean_batch_size"] is not None]
        table.add_row(
            name,
            "-" if knee is None else f"{knee:g}",
            "-" if entry["knee_vs_floor"] is None else f"{entry['knee_vs_floor']:.2f}",
            " -> ".join(f"{b:.1f}" for b in batches) or "-",
        )
    if not args.quiet:
        console.print(table)
        console.print(f"wrote {out / 'capacity.json'} and {out / 'capacity.png'}", highlight=False)
    return EXIT_OK


def cmd_idle_cost(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from bench.live.idle import measure_idle_polls, write_idle_cost
    from bench.scenario.limits import check_idle_objects

    check_idle_objects(args.objects)
    if args.out:
        _prepare_out(Path(args.out), args)
    rows = measure_idle_polls(args.objects, sweep_every=args.sweep_every)
    if args.out:
        write_idle_cost(
            Path(args.out), rows, objects=args.objects, sweep_every=args.sweep_every, command=_command_line()
        )
    table = Table(
        title=f"An idle poll of a prefix holding {args.objects:,} objects (moto; requests counted, "
        "priced at S3 LIST rates)",
        title_justify="left",
        caption="inbox: processed files were moved out, so the listed prefix is empty; start-after: "
        f"plus a full listing every {args.sweep_every} cycles, included in the monthly figure",
        caption_justify="left",
    )
    for column in ("cursor", "requests", "objects scanned", "$ per idle poll", "$ per month at 1/min"):
        table.add_column(column, justify="left" if column == "cursor" else "right", no_wrap=True)
    for row in rows:
        table.add_row(
            row.cursor,
            str(row.requests),
            f"{row.objects_scanned:,}",
            f"{row.usd_per_poll:.6f}",
            f"{row.usd_per_month_at_1_per_min:.4f}",
        )
    console.print(table)
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    from bench.report.draw import draw_charts
    from bench.report.table import comparison_table, summary_table
    from bench.results.files import read_results
    from bench.scenario.spec import load_scenario
    from bench.simulate.comparison import (
        bare_numpy_pass,
        comparison_chart,
        comparison_frame,
        write_comparison_csv,
    )
    from bench.simulate.runner import SimulationOptions, simulate_scenario
    from event_handlers.runtime.latency import Distribution

    scenario = load_scenario(args.scenario).with_overrides(latency_profile=args.profile, seed=args.seed)
    processing = None
    if args.processing_ms is not None:
        processing = Distribution(
            "constant",
            {"value_s": args.processing_ms / 1000.0, "per_byte_s": args.processing_ms_per_mb / 1000.0 / 1e6},
            "--processing-ms, --processing-ms-per-mb",
        )
    live = read_results(args.replay).summary if args.replay else None
    rates = args.files_per_day or [None]
    _check_simulation_size(scenario, args.days, rates)
    base = _prepare_out(_out_dir("simulate", scenario.name, args.out), args)
    summaries: dict[float, Run] = {}
    for rate in rates:
        out = base / f"{rate:.0f}-per-day" if len(rates) > 1 else base
        options = SimulationOptions(
            days=args.days,
            files_per_day=rate,
            processing=processing,
            live=live,
            max_records=args.max_records,
            start=args.start,
            retention=args.retention,
            on_chunk=None if args.quiet else _chunk_progress(),
        )
        clock = time.perf_counter()
        summary = simulate_scenario(scenario, out, options, command=_command_line())
        elapsed = time.perf_counter() - clock
        summaries[rate or 0.0] = summary
        charts = draw_charts(out, fmt=args.format)
        if not args.quiet:
            console.print(summary_table(summary))
            files = sum(s.files for s in summary.strategies.values())
            for name, s in summary.strategies.items():
                sim = s.simulation
                seconds, speed = (sim.seconds, sim.files_per_second) if sim is not None else (0.0, None)
                console.print(
                    f"  {name}: {s.files:,} files in {seconds:.2f}s ({speed or 0:,} files/s)",
                    highlight=False,
                )
            console.print(
                f"  simulation: {elapsed:.2f}s in all ({files / elapsed:,.0f} strategy-files/s, records and "
                "summary included; charts not)",
                highlight=False,
            )
            if args.timing:
                n = max(s.files for s in summary.strategies.values())
                bare = bare_numpy_pass(n)
                console.print(
                    f"  a bare numpy pass over {n:,} files (arrivals, one Lindley pass, mean latency): "
                    f"{bare:.2f}s ({n / bare:,.0f} files/s)",
                    highlight=False,
                )
            for name, s in summary.strategies.items():
                if not s.feasible:
                    console.print(f"[red]{name} cannot run as configured:[/] {s.why_not}", highlight=False)
            console.print(f"results: {out}/summary.json, " + ", ".join(str(c) for c in charts))
    if len(rates) > 1:
        frame = comparison_frame(summaries)
        write_comparison_csv(frame, base)
        comparison_chart(frame, base / f"comparison.{args.format}")
        if not args.quiet:
            console.print(comparison_table(frame))
            console.print(f"comparison: {base}/comparison.csv, {base}/comparison.{args.format}")
    return EXIT_OK


def _chunk_progress() -> Callable[[int, float], None]:
    """A line on stderr per chunk of a long simulation (one chunk is a few million files)."""
    err = Console(stderr=True)
    started = time.perf_counter()

    def report(done: int, expected: float) -> None:
        if expected < 10_000_000:  # short runs finish before a line would help
            return
        elapsed = time.perf_counter() - started
        left = elapsed / done * max(0.0, expected - done) if done else 0.0
        err.print(
            f"simulated {done:,} of ~{expected:,.0f} arrivals ({done / expected:.0%}) in {elapsed:.0f} s, "
            f"~{left:.0f} s left",
            highlight=False,
        )

    return report


def _check_simulation_size(scenario: Scenario, days: float | None, rates: Sequence[float | None]) -> None:
    """Refuse, before simulating, a period too long for this machine (see bench.scenario.limits)."""
    from pydantic import ValidationError

    from bench.scenario.limits import check_simulation
    from bench.scenario.spec import MAX_SPAN_S
    from bench.simulate.arrivals import expected_count, scaled_arrivals

    flag = "--days/--files-per-day" if days or any(rates) else "workload.arrivals"
    for rate in rates:
        if days and rate:  # the size first: it is what the user needs to hear
            check_simulation(scenario, days * rate, flag)
    if days is not None and days > MAX_SPAN_S / 86400:
        raise ArgumentError("--days", f"at most {MAX_SPAN_S / 86400:,.0f} (ten years), got {days:,g}")
    for rate in rates:
        try:
            arrivals = scaled_arrivals(scenario.workload.arrivals, days=days, files_per_day=rate)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ArgumentError(flag, f"{first['loc'][0]}: {first['msg']}") from None
        check_simulation(scenario, expected_count(arrivals), flag)


def cmd_calibrate(args: argparse.Namespace, console: Console) -> int:
    from bench.results.files import prepare_out_file, read_results
    from bench.simulate.calibrate import fit_profile, write_profile
    from event_handlers.runtime.latency import load_profile

    out = Path(args.out) if args.out else Path(args.results) / "moto-profile.toml"
    prepare_out_file(out, flag="--out")
    results = read_results(args.results)
    write_profile(fit_profile(results, args.name), out)
    load_profile(str(out))  # it must load back
    if not args.quiet:
        console.print(f"wrote {out}: use it with --profile {out}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, console: Console) -> int:

    from bench.report.validation import detail_line, validation_table
    from bench.results.files import read_results
    from bench.scenario.spec import load_scenario
    from bench.simulate.validate import comparisons_document, split_validation, theory_check, write_validation

    out = _prepare_out(_out_dir("validate", "simulator", args.out), args)
    lives = [read_results(path) for path in args.live or []]
    scenarios = [] if args.live else [load_scenario(name) for name in args.scenarios]
    theory = theory_check()
    console.print(
        f"(a) theory: poll every {theory.interval_s:g}s, {theory.files:,} Poisson arrivals, idle consumer: "
        f"mean detection delay {theory.mean_delay_s:.3f}s (T/2 = {theory.expected_mean_s:.3f}s), "
        f"KS against uniform [0, T]: D = {theory.ks_statistic:.4f}, p = {theory.ks_p_value:.3f} -> "
        f"{'holds' if theory.holds else 'DOES NOT HOLD'}",
        highlight=False,
    )
    for name, scenario in zip([] if args.live else args.scenarios, scenarios, strict=True):
        folder = out / f"live-{name}"
        _run_live(scenario, name, folder, args.quiet)
        lives.append(read_results(folder))
    out.mkdir(parents=True, exist_ok=True)
    rows = split_validation(lives, out, args.calibrate_on, replicas=args.replicas)
    holds = "holds: p50 and p95 within 10% of the live run's, or inside the live quantile's 95% "
    holds += "confidence interval, and LIST/GET/PUT counts equal"
    for sample, title, caption in (
        (
            "in",
            "(b) in sample: each live run on moto against its simulation with the profile fitted to it",
            holds,
        ),
        (
            "out",
            "(c) out of sample: each other live run against its simulation with the profile fitted to "
            f"{next((r.calibrated_on for r in rows if r.sample == 'out'), '?')} (another rate and scenario)",
            holds + "; both replay the run's own poll schedules, so poll latencies are close by construction",
        ),
    ):
        chosen = [row for row in rows if row.sample == sample]
        if chosen:
            console.print(validation_table(title, caption, chosen))
            for row in chosen:
                console.print(f"  {row.scenario}/{row.strategy}: {detail_line(row)}", highlight=False)
    document = comparisons_document(theory, rows)
    outside = document["out_of_sample"]
    if outside["rows"]:
        console.print(
            f"out of sample: {outside['holding']} of {outside['rows']} covered strategies hold"
            + (f"; not covered: {'; '.join(outside['uncovered'])}" if outside["uncovered"] else ""),
            highlight=False,
        )
    write_validation(out, document)
    console.print(f"wrote {out}/validation.json")
    return EXIT_OK if document["holds"] else EXIT_DOES_NOT_HOLD


def cmd_diagrams(args: argparse.Namespace, console: Console) -> int:
    from bench.report.diagrams import draw_architectures

    for path in draw_architectures(Path(args.out), fmt=args.format):
        console.print(f"wrote {path}", highlight=False)
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace, console: Console) -> int:
    from bench.reproduce import blocks, execute_notebooks, run_steps, steps, update_readme
    from bench.results.constraints import check_constraints, write_pins

    root = Path(args.out)
    if args.list:
        for step in steps(str(root)):
            console.print(step.command, highlight=False)
        return EXIT_OK
    worst = EXIT_OK
    pinned = check_constraints()
    if not pinned.matches and not args.pin:
        names = ", ".join(f"{k} {v[0]} (pinned {v[1]})" for k, v in list(pinned.differs.items())[:5])
        console.print(
            f"[yellow]note:[/] this environment differs from {pinned.file} ({names or 'no file'}); "
            "results may differ from the reference (install with -c constraints.txt, or pass --pin)",
            highlight=False,
        )
    if not args.findings_only:
        worst = run_steps(root, args.only, main, lambda line: console.print(line, highlight=False))
    readme = Path(args.readme)
    if readme.exists():
        changed = update_readme(readme, blocks(root))
        console.print(f"{readme}: findings {'updated' if changed else 'unchanged'} from {root}")
    if args.notebooks:
        for path in execute_notebooks(Path(args.notebooks_dir)):
            console.print(f"executed {path}", highlight=False)
    if args.pin:
        console.print(f"pinned this environment's versions in {write_pins()}", highlight=False)
    return worst


def _version() -> str:
    from bench import __version__

    return __version__


# -- the aws backend (issue 15): pve run --backend aws, pve aws plan|template|list|cleanup ---------------
def _aws_setup_error(message: str) -> Exception:
    """No credentials, or a missing file: an input problem of the caller's (exit 2)."""
    from bench.errors import InputError

    return InputError(message)


def _aws_factory(args: argparse.Namespace) -> Any:
    """Counted clients for ``--region`` from boto3's standard credential chain (nothing printed or kept)."""
    from botocore.exceptions import NoCredentialsError

    from bench.aws.plan import check_region
    from bench.live.clients import ApiCallCounter, ClientFactory

    factory = ClientFactory(
        ApiCallCounter(), endpoint_url=args.endpoint_url, region=check_region(args.region)
    )
    try:
        factory.client("sts", "setup").get_caller_identity()
    except NoCredentialsError:
        raise _aws_setup_error(
            "no AWS credentials found by boto3's standard chain (environment, ~/.aws, SSO, instance role)"
        ) from None
    return factory


def _account_of(factory: Any) -> str:
    return str(factory.client("sts", "setup").get_caller_identity()["Account"])


def cmd_aws_plan(args: argparse.Namespace, console: Console) -> int:
    import json

    from bench.aws.plan import build_plan
    from bench.aws.render import plan_lines
    from bench.scenario.spec import load_scenario

    plan = build_plan(load_scenario(args.scenario), region=args.region, account_id=args.account)
    if args.json:
        print(json.dumps(plan.as_dict(), indent=2, default=str))
    else:
        for line in plan_lines(plan):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    return EXIT_OK


def cmd_aws_template(args: argparse.Namespace, console: Console) -> int:
    from bench.aws.package import PackagingError
    from bench.aws.plan import build_plan
    from bench.aws.template import write_template
    from bench.scenario.spec import load_scenario

    scenario = load_scenario(args.scenario)
    plan = build_plan(scenario, region=args.region)
    out = Path(args.out or f"pve-{plan.scenario}-template.json")
    try:
        package: bytes | None = _aws_package(args)(plan.runtime, _architecture(plan))
    except PackagingError as exc:
        package, reason = None, str(exc)
    written = write_template(plan, out, scenario, package)
    console.print(f"wrote {out} ({len(plan.resources)} resources)", highlight=False)
    if written is None:
        console.print(f"[yellow]no function zip written:[/] {reason}", highlight=False)
    else:
        console.print(
            f"wrote {written}: upload it to S3 and pass its bucket and key as PackageBucket and PackageKey",
            highlight=False,
        )
    return EXIT_OK


def _architecture(plan: Any) -> str:
    from bench.aws.plan import Kind

    functions = plan.of_kind(Kind.FUNCTION)
    return str(functions[0].spec["architecture"]) if functions else "x86_64"


def _aws_package(args: argparse.Namespace) -> Callable[[str, str], bytes]:
    """The function zip builder: with --pillow-wheel, or this machine's Pillow if it fits (or on moto)."""
    from bench.aws.package import build_package, local_package

    wheel = Path(args.pillow_wheel) if getattr(args, "pillow_wheel", None) else None
    if wheel is not None and not wheel.is_file():
        raise _aws_setup_error(f"--pillow-wheel {wheel}: no such file")
    if wheel is None and getattr(args, "endpoint_url", None):
        return lambda runtime, architecture: local_package()
    return lambda runtime, architecture: build_package(runtime, architecture, wheel)


def cmd_aws_list(args: argparse.Namespace, console: Console) -> int:
    from bench.aws.deploy import Clients
    from bench.aws.inventory import find_resources
    from bench.aws.render import inventory_lines

    found = find_resources(Clients(_aws_factory(args)), args.region, args.run_id)
    for line in inventory_lines(found):
        console.print(line, highlight=False, markup=False)
    return EXIT_OK


def cmd_aws_cleanup(args: argparse.Namespace, console: Console) -> int:
    from bench.aws.deploy import Clients
    from bench.aws.inventory import delete_resources, find_resources
    from bench.aws.render import inventory_lines

    if args.run_id is None and not args.yes:
        Console(stderr=True).print(
            "[red]refused:[/] without --run-id this removes every pve run in the region (a run in progress "
            "too): add --yes",
            highlight=False,
        )
        return EXIT_USAGE
    clients = Clients(_aws_factory(args))
    found = find_resources(clients, args.region, args.run_id)
    for line in inventory_lines(found):
        console.print(line, highlight=False, markup=False)
    report = delete_resources(clients, found)
    left = find_resources(clients, args.region, args.run_id)
    console.print(f"cleanup: {len(report.deleted)} deleted, {len(left)} left", highlight=False)
    for error in report.errors:
        Console(stderr=True).print(f"[red]error:[/] {error}", highlight=False)
    return EXIT_OK if not left and not report.errors else EXIT_ERROR


def cmd_run_aws(args: argparse.Namespace, console: Console) -> int:
    from bench.aws.plan import Kind, build_plan
    from bench.aws.render import plan_lines
    from bench.aws.run import RunOptions, RunRefusedError, check_account, check_run, run_on_aws
    from bench.live.progress import QuietProgress, RichProgress
    from bench.report.draw import draw_charts
    from bench.report.table import summary_table
    from bench.scenario.spec import load_scenario, resolve_scenario_path

    scenario = load_scenario(args.scenario).with_overrides(repetitions=args.repetitions, seed=args.seed)
    err = Console(stderr=True)
    try:
        preview = build_plan(scenario, region=args.region, account_id=args.account)
        for line in plan_lines(preview):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        check_run(preview, scenario, yes=args.yes, budget_usd=args.budget_usd)
        factory = _aws_factory(args)
        account = _account_of(factory)
        check_account(account, args.account)
    except RunRefusedError as exc:
        err.print(f"[red]refused:[/] {exc}", highlight=False)
        return EXIT_USAGE
    plan = build_plan(scenario, region=args.region, account_id=account, run_id=preview.run_id)
    package = _aws_package(args)
    for architecture in {str(r.spec["architecture"]) for r in plan.of_kind(Kind.FUNCTION)}:
        package(plan.runtime, architecture)  # refuse a Pillow that would not load, before deploying
    out = _prepare_out(_out_dir("run", scenario.name, args.out), args)
    progress = QuietProgress() if args.quiet else RichProgress()
    try:
        options = RunOptions(
            local_lambda=args.endpoint_url is not None,
            progress=progress,
            say=lambda text: console.print(text, highlight=False, markup=False),
            command=_command_line(),
            scenario_file=str(resolve_scenario_path(args.scenario)),
            package=package,
        )
        summary = run_on_aws(scenario, plan, factory, out, options)
    finally:
        if isinstance(progress, RichProgress):
            progress.close()
    charts = draw_charts(out, fmt=args.format)
    if not args.quiet:
        console.print(summary_table(summary))
        console.print(f"results: {out}/records.csv, {out}/summary.json, " + ", ".join(str(c) for c in charts))
    missed = sum(s.missed for s in summary.strategies.values())
    return EXIT_MISSED if missed else EXIT_OK


def _add_aws_run_arguments(run: argparse.ArgumentParser) -> None:
    group = run.add_argument_group("with --backend aws")
    group.add_argument("--region", help="AWS region; required, never taken from the environment")
    group.add_argument("--account", help="refuse unless the credentials belong to this account id")
    group.add_argument("--yes", action="store_true", help="really create resources (and pay for them)")
    group.add_argument(
        "--budget-usd",
        type=float,
        default=1.0,
        help="refuse if the run's estimated cost exceeds this (default 1.0)",
    )
    group.add_argument(
        "--endpoint-url",
        help="an AWS-compatible endpoint instead of AWS (moto's server); the local runtime then runs the "
        "functions",
    )
    group.add_argument(
        "--pillow-wheel",
        help="a Pillow wheel built for the functions' runtime (needed unless this machine runs that Python)",
    )


def _add_aws_commands(sub: Any) -> None:
    aws = sub.add_parser(
        "aws",
        help="plan, template, list and clean up what 'pve run --backend aws' deploys",
        description="Resources of a run on your AWS account: every one carries a pve:run-id tag, and list "
        "and cleanup act on that tag only. Credentials: boto3's standard chain; --region is always required.",
    )
    commands = aws.add_subparsers(dest="aws_command", required=True, metavar="SUBCOMMAND")

    def common(parser: argparse.ArgumentParser, endpoint: bool) -> None:
        parser.add_argument("--region", required=True, help="AWS region (required)")
        if endpoint:
            parser.add_argument("--endpoint-url", help="an AWS-compatible endpoint (moto's server)")

    plan = commands.add_parser("plan", help="every resource a scenario needs and the run's estimated cost")
    plan.add_argument("scenario", help="bundled scenario name or .toml path")
    common(plan, endpoint=False)
    plan.add_argument("--account", help="account id for the ARNs (default: a placeholder)")
    plan.add_argument("--json", action="store_true", help="the plan as JSON")
    plan.set_defaults(func=cmd_aws_plan)

    template = commands.add_parser("template", help="write a CloudFormation template of the same resources")
    template.add_argument("scenario", help="bundled scenario name or .toml path")
    common(template, endpoint=False)
    template.add_argument("--out", help="template file (default pve-<scenario>-template.json)")
    template.add_argument(
        "--pillow-wheel", help="a Pillow wheel for the Lambda runtime (see 'pve aws --help')"
    )
    template.set_defaults(func=cmd_aws_template)

    listing = commands.add_parser("list", help="resources tagged pve:run-id in the region")
    common(listing, endpoint=True)
    listing.add_argument("--run-id", help="only this run's")
    listing.set_defaults(func=cmd_aws_list)

    cleanup = commands.add_parser("cleanup", help="delete resources tagged pve:run-id (leftovers)")
    common(cleanup, endpoint=True)
    cleanup.add_argument("--run-id", help="only this run's (without it, every run's: needs --yes)")
    cleanup.add_argument("--yes", action="store_true", help="confirm a cleanup of every run in the region")
    cleanup.set_defaults(func=cmd_aws_cleanup)


def _command_line() -> str:
    return "pve " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def _retention_arg(text: str) -> str:
    """``--retention``: checked by argparse, so a bad value is a usage error naming the flag."""
    from bench.scenario.retention import RetentionError, parse_retention

    try:
        return parse_retention(text).spec
    except RetentionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(text: str, *, zero_ok: bool) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        raise argparse.ArgumentTypeError(
            f"must be a finite number {'>= 0' if zero_ok else '> 0'}, got {text}"
        )
    return value


def _positive(text: str) -> float:
    return _number(text, zero_ok=False)


def _non_negative(text: str) -> float:
    return _number(text, zero_ok=True)


def _probability(text: str) -> float:
    """A significance level: strictly between 0 and 1."""
    value = _number(text, zero_ok=False)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def _share(text: str) -> float:
    """A share: from 0 to 1."""
    value = _number(text, zero_ok=True)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _seed(text: str) -> int:
    """A numpy seed: a whole number from 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def _memory(text: str) -> int:
    value = _number(text, zero_ok=False)
    if value != int(value) or not 128 <= value <= 10240:
        raise argparse.ArgumentTypeError(
            f"Lambda memory is a whole number of MB from 128 to 10240, got {text}"
        )
    return int(value)


def _count(text: str) -> int:
    value = _number(text, zero_ok=False)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text}")
    return int(value)


def _bill_line_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-ledger",
        action="store_true",
        help="leave out the DynamoDB idempotency ledger the Lambda routes share (2 writes per file)",
    )
    parser.add_argument(
        "--ebs-root-gb",
        type=_non_negative,
        default=8.0,
        help="the EC2 poller's gp3 root volume in GB (default 8; 0 leaves it out)",
    )


def _work_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cpu-s",
        type=_non_negative,
        default=0.05,
        help="CPU seconds per file at one full vCPU (default 0.05; Lambda at 128 MB: 1769/128 x as long)",
    )
    parser.add_argument(
        "--wait-s", type=_non_negative, default=0.05, help="seconds per file waiting on I/O (default 0.05)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pve",
        description="poll-vs-events: run the same file workload through polling and event "
        "strategies, and compare latency, requests and cost.",
        epilog=EPILOG,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the runtime does")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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
    run.add_argument(
        "--force",
        action="store_true",
        help="replace the results already in --out (deletes their records, summaries and charts)",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument(
        "--backend",
        choices=["moto", "moto-server", "folder", "aws"],
        help="override the scenario's backend ('aws': deploy to your account, see 'pve aws --help')",
    )
    run.add_argument("--profile", help="override the latency profile (instant, aws, moto, or a .toml path)")
    run.add_argument("--repetitions", type=_positive_int, help="override the number of repetitions")
    run.add_argument("--seed", type=_seed, help="override the seed")
    run.add_argument("--format", choices=["png", "svg"], default="png", help="chart format (default png)")
    _add_aws_run_arguments(run)
    run.set_defaults(func=cmd_run)

    listing = sub.add_parser("list", help="list the bundled scenarios, one line each")
    listing.set_defaults(func=cmd_list)

    cost = sub.add_parser(
        "cost",
        help="what each deployment costs a month at N files a day; --sweep draws the break-even chart",
        description="Price a month of each deployment option (poller on EC2, scheduled Lambda, S3 -> Lambda, "
        "S3 -> SQS -> Lambda, S3 -> EventBridge -> Lambda, hybrid) from bench/cost/pricing.",
    )
    cost.add_argument(
        "--files-per-day", type=_positive, nargs="+", default=[1_000, 100_000, 10_000_000], metavar="N"
    )
    cost.add_argument(
        "--interval", type=_positive, default=60.0, help="poll interval in seconds (default 60)"
    )
    cost.add_argument("--memory", type=_memory, default=128, help="Lambda memory in MB (default 128)")
    _work_arguments(cost)
    cost.add_argument(
        "--duration-ms",
        type=_non_negative,
        help="deprecated: a wall time per file (use --cpu-s and --wait-s)",
    )
    cost.add_argument(
        "--cpu-share", type=_share, help="deprecated: the CPU share of --duration-ms (default 0.5)"
    )
    cost.add_argument("--arch", choices=["x86_64", "arm64"], default="x86_64")
    cost.add_argument(
        "--retention-days",
        type=_non_negative,
        default=30.0,
        help="days processed files stay in the watched prefix (default 30)",
    )
    cost.add_argument(
        "--retention",
        choices=["lifecycle", "keep"],
        default="lifecycle",
        help="a lifecycle rule deletes files after --retention-days (default), or they are kept",
    )
    _bill_line_arguments(cost)
    cost.add_argument(
        "--assumptions", help="an assumptions TOML (default: bench/cost/pricing/assumptions.toml)"
    )
    cost.add_argument(
        "--samples", type=_count, default=64, help="joint Monte Carlo draws per break-even (default 64)"
    )
    cost.add_argument("--seed", type=_seed, default=0, help="seed of the Monte Carlo draws (default 0)")
    cost.add_argument("--free-tier", action="store_true", help="subtract the always-free monthly allowances")
    cost.add_argument("--pricing", help="a pricing TOML (default: bench/cost/pricing/aws-us-east-1.toml)")
    cost.add_argument("--sweep", action="store_true", help="cost against arrival rate, with break-even rates")
    cost.add_argument("--out", help="folder for --sweep (default results/cost/sweep/<UTC timestamp>/)")
    cost.add_argument(
        "--force",
        action="store_true",
        help="replace the results already in --out (deletes their records, summaries and charts)",
    )
    cost.add_argument("--format", choices=["png", "svg"], default="png")
    cost.add_argument("--quiet", action="store_true")
    cost.set_defaults(func=cmd_cost)

    decide_p = sub.add_parser(
        "decide",
        help="rank every deployment option for a workload: cost range, latency, what would overturn it",
        description="For each arrival rate: every deployment option's monthly bill (point and range over "
        "the assumptions in bench/cost/pricing/assumptions.toml), latency p50/p95/p99.9 under a delivery "
        "profile, whether it can run at all and why not, ranked, with what would change the answer.",
    )
    decide_p.add_argument("--files-per-day", type=_positive, nargs="+", metavar="N", help="arrival rate(s)")
    decide_p.add_argument(
        "--hourly",
        type=_non_negative,
        nargs="+",
        metavar="N",
        help="a rate profile instead: files in each of the 24 hours (feasibility and latency at the busiest)",
    )
    decide_p.add_argument(
        "--file-size-mb", type=_non_negative, default=0.1, help="file size (default 0.1 MB)"
    )
    _work_arguments(decide_p)
    decide_p.add_argument("--memory", type=_memory, default=128, help="Lambda memory in MB (default 128)")
    decide_p.add_argument("--arch", choices=["x86_64", "arm64"], default="x86_64")
    decide_p.add_argument(
        "--interval", type=_positive, default=60.0, help="poll interval in seconds (default 60)"
    )
    decide_p.add_argument(
        "--retention-days",
        type=_non_negative,
        default=30.0,
        help="days files stay in the prefix (default 30)",
    )
    decide_p.add_argument("--retention", choices=["lifecycle", "keep"], default="lifecycle")
    decide_p.add_argument("--latency-p95", type=_positive, metavar="S", help="target p95 latency in seconds")
    decide_p.add_argument("--budget-usd", type=_positive, metavar="USD", help="monthly budget")
    decide_p.add_argument("--profile", default="aws", help="latency profile (default aws)")
    _bill_line_arguments(decide_p)
    decide_p.add_argument(
        "--assumptions", help="an assumptions TOML (default: bench/cost/pricing/assumptions.toml)"
    )
    decide_p.add_argument("--pricing", help="a pricing TOML (default: bench/cost/pricing/aws-us-east-1.toml)")
    decide_p.add_argument("--samples", type=_count, default=32, help="joint Monte Carlo draws (default 32)")
    decide_p.add_argument("--seed", type=_seed, default=0)
    decide_p.add_argument("--json", metavar="PATH", help="also write the ranking as JSON")
    decide_p.add_argument(
        "--out", help="folder for the chart (default results/decide/decide/<UTC timestamp>/)"
    )
    decide_p.add_argument(
        "--force", action="store_true", help="replace the results already in --out (deletes their charts)"
    )
    decide_p.add_argument("--format", choices=["png", "svg"], default="png")
    decide_p.add_argument("--quiet", action="store_true")
    decide_p.set_defaults(func=cmd_decide)

    compare = sub.add_parser(
        "compare",
        help="compare two results folders, strategy by strategy",
        description="Latency medians and p95 of B against A with a Mann-Whitney U test and a "
        "minimum effect; exact request and invocation counts side by side.",
    )
    compare.add_argument("a", help="results folder A (the reference)")
    compare.add_argument("b", help="results folder B")
    compare.add_argument("--alpha", type=_probability, default=0.05, help="significance level (default 0.05)")
    compare.add_argument(
        "--min-effect",
        type=_non_negative,
        default=0.05,
        help="smallest relative change of the median worth reporting (default 0.05)",
    )
    compare.add_argument(
        "--min-effect-s",
        type=_non_negative,
        default=0.005,
        help="smallest absolute change of the median worth reporting, seconds (default 0.005)",
    )
    compare.add_argument("--force", action="store_true", help="compare even if the scenarios differ")
    compare.set_defaults(func=cmd_compare)

    capacity = sub.add_parser(
        "capacity",
        help="find each strategy's knee on this machine: sweep the offered rate, write capacity.json/png",
        description="Measure the floor (a bare put+get+put loop on moto in-process), then play the "
        "scenario's strategies at constant rates (instant profile) and report, per strategy, the highest "
        "rate at which every file is processed, the writer keeps up within 100 ms and event routes' p95 "
        "stays within 50 ms of the floor's per-file time.",
    )
    capacity.add_argument("scenario", help="bundled scenario name or .toml path (try 'capacity')")
    capacity.add_argument("--out", help="folder (default: results/capacity/<scenario>/<UTC timestamp>/)")
    capacity.add_argument(
        "--force", action="store_true", help="replace the results already in --out (deletes their charts)"
    )
    capacity.add_argument(
        "--rates", type=float, nargs="+", help="offered rates, files/s (default: 0.25x to 1.2x the floor)"
    )
    capacity.add_argument(
        "--seconds", type=float, default=5.0, help="seconds of arrivals per rate (default 5)"
    )
    capacity.add_argument(
        "--backend",
        choices=["moto", "moto-server", "moto-process"],
        help="override the scenario's backend (moto-process: moto's server in its own process, two cores)",
    )
    capacity.add_argument(
        "--floor-files", type=int, default=300, help="files in the floor loop (default 300)"
    )
    capacity.add_argument(
        "--note", default="", help="a label stored with the result (e.g. 'other processes shared the CPU')"
    )
    capacity.add_argument("--quiet", action="store_true")
    capacity.set_defaults(func=cmd_capacity)

    idle = sub.add_parser(
        "idle-cost", help="count and price one idle poll of a big bucket, per cursor strategy"
    )
    idle.add_argument(
        "--objects", type=_count, default=10_000, help="objects already in the prefix (default 10,000)"
    )
    idle.add_argument(
        "--sweep-every", type=_positive_int, default=60, help="start-after's full-listing period, in cycles"
    )
    idle.add_argument("--out", help="also write idle_cost.json to this folder")
    idle.add_argument(
        "--force",
        action="store_true",
        help="replace the results already in --out (deletes their records, summaries and charts)",
    )
    idle.set_defaults(func=cmd_idle_cost)

    simulate = sub.add_parser(
        "simulate",
        help="simulate a scenario in virtual time (a month in seconds), in the live schema",
        description="Each strategy as a queueing model, vectorised; the same seeded arrivals as a live run. "
        "--days and --files-per-day stretch the scenario's arrival process.",
    )
    simulate.add_argument("scenario", help="bundled scenario name or .toml path")
    simulate.add_argument("--days", type=_positive, help="simulate this many days of arrivals")
    simulate.add_argument(
        "--files-per-day",
        type=_positive,
        nargs="+",
        metavar="N",
        help="arrival rate(s); several rates give one results folder each",
    )
    simulate.add_argument("--profile", help="latency profile (instant, aws, moto, or a .toml path)")
    simulate.add_argument(
        "--processing-ms",
        type=_non_negative,
        help="processing time per file (default: the profile's, else 100 ms)",
    )
    simulate.add_argument(
        "--processing-ms-per-mb",
        type=_non_negative,
        default=0.0,
        help="with --processing-ms: extra milliseconds per MB of file (default 0)",
    )
    simulate.add_argument(
        "--start",
        choices=["steady", "empty"],
        help="what the bucket holds when the period starts: steady (the default: what the retention keeps "
        "of earlier traffic at the same rate) or empty (a first period); default: the scenario's [bucket]",
    )
    simulate.add_argument(
        "--retention",
        type=_retention_arg,
        metavar="POLICY",
        help="how long processed files stay listed: keep, delete (after processing) or lifecycle:N "
        "(days); default: the scenario's [bucket] retention (keep)",
    )
    simulate.add_argument("--replay", metavar="LIVE_RESULTS", help="replay a live run's poll schedules")
    simulate.add_argument("--seed", type=_seed)
    simulate.add_argument(
        "--max-records",
        type=_count,
        default=100_000,
        help="records.csv keeps a uniform sample of this many files in all (default 100,000)",
    )
    simulate.add_argument(
        "--timing", action="store_true", help="also time a bare numpy pass of the same size"
    )
    simulate.add_argument(
        "--out", help="results folder (default results/simulate/<scenario>/<UTC timestamp>/)"
    )
    simulate.add_argument(
        "--force",
        action="store_true",
        help="replace the results already in --out (deletes their records, summaries and charts)",
    )
    simulate.add_argument("--format", choices=["png", "svg"], default="png")
    simulate.add_argument("--quiet", action="store_true")
    simulate.set_defaults(func=cmd_simulate)

    calibrate = sub.add_parser(
        "calibrate",
        help="fit a latency profile (moto) to a live run's results",
        description="Fit delivery delays per route, processing time and listing time "
        "to a live results folder; the simulator uses the profile.",
    )
    calibrate.add_argument("results", help="a live results folder")
    calibrate.add_argument("--out", help="profile file to write (default RESULTS/moto-profile.toml)")
    calibrate.add_argument("--name", default="moto", help="the profile's name (default moto)")
    calibrate.add_argument("--quiet", action="store_true")
    calibrate.set_defaults(func=cmd_calibrate)

    validate = sub.add_parser(
        "validate",
        help="check the simulator against theory and against live runs",
        description="(a) poll detection delay against its uniform [0, T] law; (b) in sample: live "
        "runs on moto against simulations with the profile fitted to them; (c) out of sample: the "
        "other live runs against simulations with the profile fitted to the calibration run "
        "(--calibrate-on). A row holds when p50 and p95 are within 10% of the live run's, or inside "
        "the live quantile's 95% confidence interval, and the LIST/GET/PUT counts are equal. The exit "
        "code follows (a) and (b); validation.json reports (c) apart, as out_of_sample.",
    )
    validate.add_argument(
        "--scenarios",
        nargs="+",
        default=["quickstart", "interval-sweep"],
        help="scenarios to run live and simulate (default: quickstart interval-sweep)",
    )
    validate.add_argument(
        "--live", nargs="+", metavar="RESULTS", help="use these live results instead of new runs"
    )
    validate.add_argument(
        "--calibrate-on",
        metavar="SCENARIO",
        help="the live run whose fitted profile simulates the others, out of sample (default: the first)",
    )
    validate.add_argument(
        "--replicas",
        type=_positive_int,
        default=20,
        help="simulations pooled per comparison (default 20: a simulated p95 of 100 files moves by "
        "several percent from one draw to the next)",
    )
    validate.add_argument("--out", help="folder (default results/validate/simulator/<UTC timestamp>/)")
    validate.add_argument(
        "--force",
        action="store_true",
        help="replace the results already in --out (deletes their records, summaries and charts)",
    )
    validate.add_argument("--quiet", action="store_true")
    validate.set_defaults(func=cmd_validate)

    diagrams = sub.add_parser(
        "diagrams",
        help="draw the polling and event architectures (README, decision guide, site)",
        description="Draws polling.png and events.png from the tables in bench/report/diagrams.py.",
    )
    diagrams.add_argument("--out", default="notebooks/diagrams", help="folder (default notebooks/diagrams)")
    diagrams.add_argument("--format", choices=("png", "svg"), default="png")
    diagrams.set_defaults(func=cmd_diagrams)

    reproduce = sub.add_parser(
        "reproduce",
        help="regenerate every reference result in results/reference/ (and the README's findings)",
        description="Runs each bundled live scenario, the cost sweeps, the idle-poll measurement, the "
        "monthly simulation and the validation; writes COMMAND.txt in each folder and rebuilds the README's "
        "findings from the files. About 25 minutes on 2 cores.",
    )
    reproduce.add_argument("--out", default="results/reference", help="folder (default results/reference)")
    reproduce.add_argument("--only", nargs="+", metavar="STEP", help="run only these steps (see --list)")
    reproduce.add_argument("--list", action="store_true", help="print the commands and stop")
    reproduce.add_argument("--findings-only", action="store_true", help="only rebuild the README's findings")
    reproduce.add_argument("--readme", default="README.md")
    reproduce.add_argument(
        "--pin", action="store_true", help="write this environment's versions to constraints.txt afterwards"
    )
    reproduce.add_argument(
        "--notebooks", action="store_true", help="also execute notebooks/ and save their outputs"
    )
    reproduce.add_argument("--notebooks-dir", default="notebooks")
    reproduce.set_defaults(func=cmd_reproduce)

    _add_aws_commands(sub)

    report = sub.add_parser("report", help="redraw the charts and the table of a results folder")
    report.add_argument("results", help="a results folder (with summary.json and records.csv)")
    report.add_argument("--format", choices=["png", "svg"], default="png")
    report.add_argument("--quiet", action="store_true")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import signal
    import threading

    from bench.errors import InputError, Interrupted
    from event_handlers.runtime.latency import ProfileError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    console = Console(width=None if sys.stdout.isatty() else 120)  # logs and pipes get whole rows
    func: Callable[[argparse.Namespace, Console], int] = args.func

    def on_sigterm(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    def redeliver(hook: Any) -> None:
        """A stop raised inside a callback (a weakref's, a __del__) is swallowed: send it again a
        moment later, from another thread, so it lands in ordinary code (not in this hook)."""
        if isinstance(hook.exc_value, KeyboardInterrupt):
            signum = getattr(hook.exc_value, "signum", signal.SIGINT)
            threading.Timer(0.01, signal.raise_signal, (signum,)).start()
            return
        unraisable(hook)

    # SIGTERM (timeout, CI, a container stop) unwinds like Ctrl-C: temp folders cleaned, partial results
    # written and marked incomplete; exit 128 + the signal's number, as a shell reports it
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if main_thread else None
    unraisable, sys.unraisablehook = sys.unraisablehook, redeliver
    try:
        return func(args, console)
    except (InputError, ProfileError) as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)  # one line
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        Console(stderr=True).print(f"[red]interrupted ({signal.Signals(signum).name})[/]")
        return 128 + int(signum)
    finally:
        sys.unraisablehook = unraisable
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
