"""The terminal view of a decision: one ranked table per rate, then the recommendation and what
would change it."""

from __future__ import annotations

from rich.table import Table

from bench.cost.sensitivity import two_sig
from bench.decide.rank import Decision, OptionResult


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
        f"{w.memory_mb} MB {w.arch}; files kept {w.retention_days:g} days ({w.retention}); steady state, no "
        f"free tier; latency under the '{profile}' profile; prices {pricing}; ranges over {assumptions}",
        caption_justify="left",
    )
    for column in ("#", "option", "$/month", "range", "p50 s", "p95 s", "p99.9 s", "runs?"):
        table.add_column(column, justify="left" if column in ("option", "runs?") else "right")
    for o in decision.options:
        if not o.feasible:  # never priced or timed as if it could run
            table.add_row(str(o.rank), o.name, "-", "-", "-", "-", "-", _runs(o), style="dim")
            continue
        table.add_row(
            str(o.rank),
            o.name,
            two_sig(o.monthly_point),
            f"{two_sig(o.monthly_low)}-{two_sig(o.monthly_high)}",
            two_sig(o.latency.p50),
            two_sig(o.latency.p95),
            two_sig(o.latency.p999),
            _runs(o),
        )
    return table


def decision_notes(decision: Decision) -> list[str]:
    verdict = decision.recommendation or "none"
    changes = "; ".join(decision.overturned_by) or "nothing within the assumptions' ranges"
    return [f"recommended: {verdict} ({decision.why})", f"would change the ranking: {changes}"]
