"""The terminal view of a decision: one ranked table per rate, then the recommendation and what
would change it."""

from __future__ import annotations

from rich.table import Table

from bench.cost.sensitivity import two_sig
from bench.decide.rank import Decision, OptionResult, Workload, display_label
from bench.decide.search import short
from bench.requirements import LAMBDA_GIVES


def _searched(w: Workload) -> list[str]:
    return [
        name for name, value in (("interval", w.interval_s), ("memory", w.memory_mb)) if value is None
    ] + [
        "SQS batch",
        "instance type and count",
        "hybrid sweep",
    ]


def _runs(o: OptionResult) -> str:
    if not o.feasible:
        return f"no: {o.why_not[0]}"
    if not o.meets_latency:
        return "yes, misses p95"
    if not o.meets_budget:
        return "yes, over budget"
    return "yes"


def decision_table(decision: Decision, profile: str, pricing: str, assumptions: str) -> Table:
    w = decision.workload
    peak = f", busiest hour {w.peak:,.0f}/day" if w.peak_files_per_day else ""
    table = Table(
        title=f"{w.files_per_day:,.0f} files/day{peak}: every option, ranked",
        title_justify="left",
        caption=f"work {w.cpu_s:g} s CPU + {w.wait_s:g} s wait per file, {w.file_size_mb:g} MB files, "
        f"{w.arch}; steady state, {'with the free tier' if w.free_tier else 'no free tier'}; latency under "
        f"the '{profile}' profile; prices {pricing}; ranges over {assumptions} and the requirements left to "
        f"their defaults; knobs searched: {', '.join(_searched(w)) or 'none (pinned)'}\n"
        f"requirements, the same for every option: {w.req.describe()}\n{LAMBDA_GIVES}",
        caption_justify="left",
    )
    for column in ("#", "option", "configuration", "$/month", "range", "p50 s", "p95 s", "p99.9 s", "runs?"):
        table.add_column(
            column, justify="left" if column in ("option", "configuration", "runs?") else "right"
        )

    def label(name: str) -> str:
        return display_label(name, w.req)

    for o in decision.options:
        config = short(dict(o.configuration))
        if not o.feasible:  # never priced or timed as if it could run
            table.add_row(str(o.rank), label(o.name), config, "-", "-", "-", "-", "-", _runs(o), style="dim")
            continue
        table.add_row(
            str(o.rank),
            label(o.name),
            config,
            two_sig(o.monthly_point),
            f"{two_sig(o.monthly_low)}-{two_sig(o.monthly_high)}",
            two_sig(o.latency.p50),
            two_sig(o.latency.p95),
            two_sig(o.latency.p999),
            _runs(o),
        )
    return table


def decision_notes(decision: Decision) -> list[str]:
    req = decision.workload.req
    verdict = display_label(decision.recommendation, req) if decision.recommendation else "none"
    changes = "; ".join(decision.overturned_by) or "nothing within the assumptions' ranges"
    return [f"recommended: {verdict} ({decision.why})", f"would change the ranking: {changes}"]
