"""The simulator: ``pve simulate``, ``pve calibrate`` (its profile from a live run) and
``pve validate`` (it against theory and live runs)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from bench.cli.exits import EXIT_DOES_NOT_HOLD, EXIT_OK, ArgumentError
from bench.cli.output import _command_line, _draw_after_run, _out_dir, _prepare_out, print_table
from bench.cli.run import _run_live

if TYPE_CHECKING:
    from bench.cost.work import Work
    from bench.results.model import Run
    from bench.scenario.spec import Scenario
    from event_handlers.runtime.latency import Distribution


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    from bench.results.files import read_results
    from bench.scenario.spec import load_scenario
    from bench.simulate.runner import SimulationOptions, simulate_scenario

    scenario = load_scenario(_scenario_name(args)).with_overrides(
        latency_profile=args.profile, seed=args.seed
    )
    processing, work = _processing_time(args)
    live = read_results(args.replay).summary if args.replay else None
    rates = args.files_per_day or [None]
    _check_simulation_size(scenario, args.days, rates)
    base = _prepare_out(_out_dir("simulate", scenario.name, args.out), args)
    scenario = _with_traffic(scenario, args, base, console)
    _reuse_freed_memory(args.jobs)
    summaries: dict[float, Run] = {}
    for rate in rates:
        out = base / f"{rate:.0f}-per-day" if len(rates) > 1 else base
        options = SimulationOptions(
            days=args.days,
            files_per_day=rate,
            processing=processing,
            work=work,
            live=live,
            max_records=args.max_records,
            start=args.start,
            retention=args.retention,
            on_chunk=None if args.quiet else _chunk_progress(),
            jobs=args.jobs,
        )
        clock = time.perf_counter()
        summary = simulate_scenario(scenario, out, options, command=_command_line())
        elapsed = time.perf_counter() - clock
        summaries[rate or 0.0] = summary
        charts = _draw_after_run(out, args.format)
        if not args.quiet:
            _print_simulation(console, summary, elapsed, timing=args.timing)
            console.print(f"results: {out}/summary.json, " + ", ".join(str(c) for c in charts))
    if len(rates) > 1:
        _compare_rates(summaries, base, args, console)
    return EXIT_OK


def _processing_time(args: argparse.Namespace) -> tuple[Distribution | None, Work | None]:
    """The time per file the flags ask for: a fixed time (--processing-ms), the work model
    (--cpu-s/--wait-s, the other at its default), or neither (the profile's)."""
    from event_handlers.runtime.latency import Distribution

    processing = None
    if args.processing_ms is not None:
        processing = Distribution(
            "constant",
            {"value_s": args.processing_ms / 1000.0, "per_byte_s": args.processing_ms_per_mb / 1000.0 / 1e6},
            "--processing-ms, --processing-ms-per-mb",
        )
    work = None
    if args.cpu_s is not None or args.wait_s is not None:
        if processing is not None:
            raise ArgumentError("--cpu-s", "give --processing-ms or --cpu-s/--wait-s, not both")
        from bench.cost.work import Work

        default = Work()
        work = Work(
            args.cpu_s if args.cpu_s is not None else default.cpu_s,
            args.wait_s if args.wait_s is not None else default.wait_s,
        )
    return processing, work


def _print_simulation(console: Console, summary: Run, elapsed: float, *, timing: bool) -> None:
    """One simulation's table, its speed (and a bare numpy pass's, with --timing), what cannot run
    and pve decide's view beside it."""
    from bench.report.table import summary_table
    from bench.simulate.comparison import bare_numpy_pass

    print_table(console, summary_table(summary))
    files = sum(s.files for s in summary.strategies.values())
    for name, s in summary.strategies.items():
        sim = s.simulation
        seconds, speed = (sim.seconds, sim.files_per_second) if sim is not None else (0.0, None)
        console.print(
            f"  {name}: {s.files:,} files in {seconds:.2f}s ({speed or 0:,} files/s)", highlight=False
        )
    console.print(
        f"  simulation: {elapsed:.2f}s in all ({files / elapsed:,.0f} strategy-files/s, records and "
        "summary included; charts not)",
        highlight=False,
    )
    if timing:
        n = max(s.files for s in summary.strategies.values())
        bare = bare_numpy_pass(n)
        console.print(
            f"  a bare numpy pass over {n:,} files (arrivals, one Lindley pass, mean latency): "
            f"{bare:.2f}s ({n / bare:,.0f} files/s)",
            highlight=False,
        )
    for line in _cannot_run(summary) + decide_lines(summary):
        console.print(line, highlight=False)


def _compare_rates(
    summaries: dict[float, Run], base: Path, args: argparse.Namespace, console: Console
) -> None:
    """Several --files-per-day: one comparison table, CSV and chart across the rates."""
    from bench.report.table import comparison_table
    from bench.simulate.comparison import comparison_chart, comparison_frame, write_comparison_csv

    frame = comparison_frame(summaries)
    write_comparison_csv(frame, base)
    comparison_chart(frame, base / f"comparison.{args.format}")
    if not args.quiet:
        print_table(console, comparison_table(frame))
        console.print(f"comparison: {base}/comparison.csv, {base}/comparison.{args.format}")


def _reuse_freed_memory(jobs: int | None) -> None:
    """A month's chunks reuse their pages (``bench.simulate.parallel.keep_freed_memory``): here
    when this process simulates (``--jobs 1``), else each worker does."""
    from bench.simulate.parallel import default_jobs, keep_freed_memory

    if (jobs or default_jobs()) == 1:
        keep_freed_memory()


def _with_traffic(scenario: Scenario, args: argparse.Namespace, out: Path, console: Console) -> Scenario:
    """With --traffic, ``scenario`` replaying the recorded arrivals (bench/cli/traffic.py)."""
    if not args.traffic:
        return scenario
    from bench.cli.traffic import replay_scenario

    replayed: Scenario = replay_scenario(scenario, args, out, console)
    return replayed


def _scenario_name(args: argparse.Namespace) -> str:
    """The scenario to simulate; with --traffic (its flags checked here) ``monthly`` by default."""
    if args.traffic:  # your own traffic, replayed (bench/cli/traffic.py)
        from bench.cli.traffic import check_replay_flags

        check_replay_flags(args)
        return str(args.scenario or "monthly")
    if args.scenario is None:
        raise ArgumentError("scenario", "name a scenario (or give --traffic FILE to replay your own traffic)")
    return str(args.scenario)


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
    from bench.simulate.arrivals import expected_count, scaled_arrivals, settle_replay

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
        check_simulation(scenario, expected_count(settle_replay(arrivals)), flag)


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

    say = _quiet_print if args.quiet else console.print  # --quiet: nothing but errors
    out = _prepare_out(_out_dir("validate", "simulator", args.out), args)
    lives = [read_results(path) for path in args.live or []]
    scenarios = [] if args.live else [load_scenario(name) for name in args.scenarios]
    theory = theory_check()
    say(
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
            say(validation_table(title, caption, chosen))
            for row in chosen:
                say(f"  {row.scenario}/{row.strategy}: {detail_line(row)}", highlight=False)
    document = comparisons_document(theory, rows)
    outside = document["out_of_sample"]
    if outside["rows"]:
        say(
            f"out of sample: {outside['holding']} of {outside['rows']} covered strategies hold"
            + (f"; not covered: {'; '.join(outside['uncovered'])}" if outside["uncovered"] else ""),
            highlight=False,
        )
    write_validation(out, document)
    say(f"wrote {out}/validation.json")
    if args.quiet and not document["holds"]:
        Console(stderr=True).print(f"the simulator does not hold: see {out}/validation.json", highlight=False)
    return EXIT_OK if document["holds"] else EXIT_DOES_NOT_HOLD


def _cannot_run(summary: Run) -> list[str]:
    return [
        f"[red]{name} cannot run as configured:[/] {s.why_not}"
        for name, s in summary.strategies.items()
        if not s.feasible
    ]


def decide_lines(summary: Run) -> list[str]:
    """pve decide beside the monthly projection (``simulation.decide``): the bill prices the
    simulated configuration; decide's search for the same workload, where it differs."""
    view = summary.simulation.decide if summary.simulation is not None else {}
    if not view:
        return []
    from bench.decide.search import short

    def money(v: dict[str, Any]) -> str:
        if not v["feasible"]:
            return "cannot run"
        return f"${v['monthly_usd']:,.2f}/mo, p50 {v['p50_s']:.3g} s"

    lines = ["monthly bills price each strategy as simulated (pve decide agrees: same code, same workload)"]
    for name, entry in view.items():
        simulated, searched = entry["as_simulated"], entry["searched"]
        line = f"  {name}: as simulated ({short(simulated['configuration'])}) {money(simulated)}"
        if not entry["same_configuration"]:
            line += f"; pve decide would pick {short(searched['configuration'])}: {money(searched)}"
        lines.append(line)
    return lines


def _quiet_print(*args: Any, **kwargs: Any) -> None:
    """``console.print`` under ``--quiet``: nothing."""
