"""What a deployment costs: ``pve cost``, ``pve decide`` and ``pve idle-cost``."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

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
from bench.requirements import Requirements, RequirementsError

if TYPE_CHECKING:  # the cost modules load when a command runs (a fast ``pve --help``)
    from bench.cost.assumptions import Assumptions
    from bench.cost.model import Deployment, Pricing


REMOVED_FLAGS = {"duration_ms": "--duration-ms", "cpu_share": "--cpu-share"}


def _work_from_args(args: argparse.Namespace) -> tuple[float, float]:
    """(cpu_s, wait_s) from --cpu-s/--wait-s; 0.2.0's --duration-ms/--cpu-share were removed in
    0.3.0: given, they are a usage error naming the flag (never silently ignored)."""
    for name, flag in REMOVED_FLAGS.items():
        if getattr(args, name, None) is not None:
            raise ArgumentError(flag, "was removed in 0.3.0: describe the work with --cpu-s and --wait-s")
    return args.cpu_s, args.wait_s


def requirements_from_args(args: argparse.Namespace) -> Requirements:
    """``bench.Requirements`` from the flags, each one set pinned; a contradiction (inputs deleted
    and kept, a ledger and none) or a bad value is a usage error naming the flag, before any work."""
    keep = getattr(args, "keep_inputs_days", None)
    retention = getattr(args, "retention_days", None)
    if keep is not None and retention is not None and keep != retention:
        raise ArgumentError("--keep-inputs-days", f"says {keep:g} days, --retention-days says {retention:g}")
    keep = keep if keep is not None else retention
    if args.delete_inputs and keep is not None:
        flag = (
            "--keep-inputs-days"
            if getattr(args, "keep_inputs_days", None) is not None
            else "--retention-days"
        )
        raise ArgumentError(
            "--delete-inputs", f"inputs cannot be deleted once processed and kept ({flag} {keep:g})"
        )
    if args.no_ledger and args.exactly_once:
        raise ArgumentError(
            "--no-ledger", "contradicts --exactly-once (the ledger is how effects happen once)"
        )
    given = {
        "exactly_once": False if args.no_ledger else args.exactly_once,
        "inputs": "delete" if args.delete_inputs else None,
        "keep_days": keep,
        "availability": args.availability,
        "network": args.network,
        "encryption": args.encryption,
        "log_bytes_per_file": args.log_bytes_per_file,
        "latency_p95_s": getattr(args, "latency_p95", None),
        "budget_usd": getattr(args, "budget_usd", None),
    }
    try:
        req = Requirements.build(**given)
    except RequirementsError as exc:
        raise ArgumentError(f"--{exc.field.replace('_', '-')}", str(exc)) from None
    if getattr(args, "no_latency_target", False):
        if args.latency_p95 is not None:
            raise ArgumentError("--no-latency-target", "contradicts --latency-p95")
        req = replace(req, latency_p95_s=None, pinned=req.pinned | {"latency_p95_s"})
    return req


def decide_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The work and requirements ``pve decide``'s flags describe: the same for one workload and for
    every prefix of ``--traffic``."""
    return {
        "cpu_s": args.cpu_s,
        "wait_s": args.wait_s,
        "file_size_mb": args.file_size_mb,
        "retention": args.retention,
        "memory_mb": args.memory,
        "arch": args.arch,
        "interval_s": args.interval,
        "ebs_root_gb": args.ebs_root_gb,
        "requirements": requirements_from_args(args),
        "free_tier": args.free_tier,
    }


def cmd_cost(args: argparse.Namespace, console: Console) -> int:
    from bench.cost.assumptions import load_assumptions
    from bench.cost.fair import required_deployments, requirement_assumptions
    from bench.cost.model import load_pricing

    req = requirements_from_args(args)
    pricing = load_pricing(args.pricing)
    cpu_s, wait_s = _work_from_args(args)
    loaded = load_assumptions(args.assumptions)
    assumptions = requirement_assumptions(
        loaded.with_points(
            {
                "cpu_s": cpu_s,
                "wait_s": wait_s,
                "memory_mb": float(args.memory),
                "arch": args.arch,
                "retention": args.retention,
            }
        ),
        req,
    )
    deployments = required_deployments(
        req,
        file_size_mb=args.file_size_mb,
        ledger_ttl_days=float(loaded.defaults.get("ledger_ttl_days", 1.0)),
        assumptions=loaded,
        ebs_root_gb=args.ebs_root_gb,
        interval_s=args.interval,
        memory_mb=args.memory,
        arch=args.arch,
        cpu_s=cpu_s,
        wait_s=wait_s,
        retention=args.retention,
    )
    if args.sweep:
        return _cost_sweep(args, console, deployments, pricing, assumptions, req)
    _cost_table(args, console, deployments, pricing, assumptions, req, (cpu_s, wait_s))
    return EXIT_OK


def _cost_sweep(
    args: argparse.Namespace,
    console: Console,
    deployments: list[Deployment],
    pricing: Pricing,
    assumptions: Assumptions,
    req: Requirements,
) -> int:
    """``pve cost --sweep``: the sweep's files, and each break-even against the inbox poller."""
    from bench.report.cost_sweep import Ranges, write_sweep

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
        ranges_over=Ranges(assumptions, args.samples, args.seed, req),
    )
    if args.quiet:
        return EXIT_OK
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


def _cost_table(
    args: argparse.Namespace,
    console: Console,
    deployments: list[Deployment],
    pricing: Pricing,
    assumptions: Assumptions,
    req: Requirements,
    work: tuple[float, float],
) -> None:
    """``pve cost``'s table: each deployment's monthly bill at each rate, or why it cannot run."""
    from rich.table import Table

    from bench.cost.feasibility import check
    from bench.cost.model import files_per_month, monthly_cost

    tier = "with the always-free tier" if args.free_tier else "no free tier"
    cpu_s, wait_s = work
    table = Table(
        title=f"Monthly cost in USD ({tier}; prices {pricing.label})",
        title_justify="left",
        caption=f"memory {args.memory} MB, per file {cpu_s:g} s CPU (at one vCPU) + {wait_s:g} s waiting, "
        f"{args.arch}; steady state; requirements: {req.describe()}",
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
    print_table(console, table)
    for note in footnotes:
        console.print(note, highlight=False)


def cmd_decide(args: argparse.Namespace, console: Console) -> int:
    from bench.cost.assumptions import load_assumptions
    from bench.cost.model import load_pricing
    from bench.decide.chart import decide_chart
    from bench.decide.rank import Workload, decide, document
    from bench.decide.table import decision_notes, decision_table
    from event_handlers.runtime.latency import load_profile

    if args.traffic:  # your own traffic, per prefix (bench/cli/decide_traffic.py)
        from bench.cli.decide_traffic import cmd_decide_traffic

        return cmd_decide_traffic(args, console)
    if not args.files_per_day and not args.hourly:
        raise ArgumentError("--files-per-day", "give one or more rates (or --hourly with 24 values)")
    if args.files_per_day and args.hourly:
        raise ArgumentError("--files-per-day", "give either rates or --hourly (a day's profile), not both")
    if args.hourly and len(args.hourly) != 24:
        raise ArgumentError(
            "--hourly", f"needs 24 values (files in each hour of a day), got {len(args.hourly)}"
        )
    common = decide_fields(args)  # a contradiction in the requirements: exit 2 before any work
    out = _prepare_out(_out_dir("decide", None, args.out), args)
    check_json_target(args)
    console = report_console(args, console)  # JSON on stdout: the tables go to stderr
    pricing = load_pricing(args.pricing)
    assumptions = load_assumptions(args.assumptions)
    profile = load_profile(args.profile)
    if args.hourly:
        workloads = [Workload(sum(args.hourly), peak_files_per_day=max(args.hourly) * 24, **common)]
    else:
        workloads = [Workload(rate, **common) for rate in args.files_per_day]
    decisions = decide(workloads, profile, assumptions, pricing, samples=args.samples, seed=args.seed)
    if not args.quiet:
        for decision in decisions:
            print_table(console, decision_table(decision, profile.name, pricing.label, assumptions.path))
            for line in decision_notes(decision):
                console.print(f"  {line}", highlight=False)
    out.mkdir(parents=True, exist_ok=True)
    latency_target = common["requirements"].latency_p95_s
    chart = decide_chart(decisions, out / f"decide.{args.format}", latency_p95_s=latency_target)
    doc = document(decisions, assumptions, pricing, profile, _command_line())
    written = write_json(doc, args.json) if args.json else None
    if not args.quiet:
        console.print(f"chart: {chart}" + (f", json: {written}" if written else ""), highlight=False)
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
    print_table(console, table)
    return EXIT_OK
