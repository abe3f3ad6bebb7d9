"""Reading results back: ``pve report``, ``pve compare`` and ``pve diagrams``."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from bench.cli.exits import EXIT_OK, EXIT_USAGE
from bench.cli.output import print_table


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from bench.report.draw import draw_charts
    from bench.report.table import summary_table
    from bench.results.files import latency_warnings, read_results

    results = read_results(args.results)
    for warning in latency_warnings(results):  # before the charts drawn from them
        Console(stderr=True).print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
    if not results.summary.complete:
        Console(stderr=True).print(
            f"warning: an incomplete run ({results.summary.incomplete_reason or 'stopped'}): "
            "the charts hold the strategy runs that finished",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    charts = draw_charts(args.results, fmt=args.format)
    if not args.quiet:
        print_table(console, summary_table(results.summary))
        console.print("charts: " + ", ".join(str(c) for c in charts))
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
    print_table(console, table)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    return EXIT_OK


def cmd_diagrams(args: argparse.Namespace, console: Console) -> int:
    from bench.report.diagrams import draw_architectures

    for path in draw_architectures(Path(args.out), fmt=args.format):
        console.print(f"wrote {path}", highlight=False)
    return EXIT_OK
