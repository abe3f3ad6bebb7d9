"""Compare two results folders strategy by strategy, and say when a difference is not significant.

A latency difference counts as significant only when all hold: a two-sided Mann-Whitney U test
on the per-file latencies rejects "same distribution" at ``alpha``, and the medians differ by at
least ``min_effect`` (relative) and by ``min_abs_s`` (absolute). Files of one run share that run's
machine state, so the test alone overstates confidence between runs; the thresholds keep a few
milliseconds of run-to-run drift from being reported as a finding. Counts (requests, invocations)
are exact, so their differences are shown as they are.

A strategy marked harness-bound on either side (``strategies.<name>.harness.bound``, see
``bench.live.health``) is never called significantly faster or slower: its latencies measured
the machine, so a difference says which run had the busier machine. The verdict says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import mannwhitneyu

from bench.errors import InputError
from bench.results.files import Results, latency_warnings, read_from_schema_1
from bench.results.model import RunKind, StrategyResult

# What may differ between two runs of "the same scenario" (a note, not a refusal):
CONDITIONS = ("backend", "latency_profile", "seed", "repetitions", "drain_timeout_s", "description")


class DifferentScenariosError(InputError):
    """The two folders ran different scenarios; comparing them needs ``force``."""


@dataclass(frozen=True)
class Comparison:
    strategy: str
    median_a: float | None
    median_b: float | None
    p95_a: float | None
    p95_b: float | None
    p_value: float | None
    relative_change: float | None
    significant: bool
    verdict: str
    requests_a: int
    requests_b: int
    invocations_a: int
    invocations_b: int
    harness_bound: bool = False


# Defaults that changed between summary schemas, by field name: (schema 1's, the current one's).
# A scenario read from schema 1 that left such a field at its default is the same scenario as a
# current one that leaves it at the current default: a change of the suite, not of the scenario.
SCHEMA1_DEFAULTS: dict[str, tuple[Any, Any]] = {
    "workers": (1, None),  # a poll's threads: 1, now sized for the rate (bench.cost.scaling)
    "pollers": (1, None),  # the SQS mapping's concurrent batches: 1, now AWS's scaling
    "bucket": (None, {"retention": "keep", "start": "steady", "history_days": None}),  # new in 2
}
# Fields newer than some summaries of the current schema: absent there means the default, here.
ADDED_WITH_DEFAULT: dict[str, Any] = {
    "requirements": {},  # a scenario's [requirements] table (0.3.0): none given = the defaults
}


def scenario_differences(
    a: dict[str, Any], b: dict[str, Any], schema_1: tuple[bool, bool] = (False, False)
) -> tuple[list[str], list[str]]:
    """(differences that make it another scenario, differences in conditions only), as paths.
    ``schema_1`` says which side was read from a schema-1 summary: its old defaults are notes."""
    blocking: list[str] = []
    notes: list[str] = []
    for path, left, right in _diff(a, b, ""):
        line = f"{path}: {left!r:.40} != {right!r:.40}"
        if _added_default(path, left, right):
            notes.append(f"{line} (a field this version added, at its default: not a scenario difference)")
        elif _schema_default(path, left, right, schema_1):
            notes.append(f"{line} (the defaults of schema 1 and of this version, not a scenario difference)")
        else:
            (notes if path in CONDITIONS else blocking).append(line)
    return blocking, notes


def _added_default(path: str, left: Any, right: Any) -> bool:
    field = path.rsplit(".", 1)[-1]
    if field not in ADDED_WITH_DEFAULT:
        return False
    default = ADDED_WITH_DEFAULT[field]
    return {repr(left), repr(right)} <= {repr(None), repr(default)}


def _schema_default(path: str, left: Any, right: Any, schema_1: tuple[bool, bool]) -> bool:
    field = path.rsplit(".", 1)[-1]
    if field not in SCHEMA1_DEFAULTS or schema_1[0] == schema_1[1]:
        return False
    old, new = (left, right) if schema_1[0] else (right, left)
    return (old, new) == SCHEMA1_DEFAULTS[field]


def _diff(a: Any, b: Any, path: str) -> list[tuple[str, Any, Any]]:
    """Leaf differences; unset (None) equals missing; strategies are matched by name."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        return out
    if (
        isinstance(a, list)
        and isinstance(b, list)
        and all(isinstance(x, dict) and "name" in x for x in a + b)
    ):
        left, right = {x["name"]: x for x in a}, {x["name"]: x for x in b}
        out = []
        for name in list(left) + [n for n in right if n not in left]:
            out += _diff(left.get(name), right.get(name), f"{path}[{name}]")
        return out
    return [] if a == b else [(path, a, b)]


def _latencies(results: Results, strategy: str) -> np.ndarray:
    rows = results.records[
        (results.records["strategy"] == strategy) & (results.records["outcome"] == "processed")
    ]
    values = rows["latency_s"].to_numpy(dtype=float)
    return values[np.isfinite(values)]


def compare_results(
    a: Results,
    b: Results,
    *,
    alpha: float = 0.05,
    min_effect: float = 0.05,
    min_abs_s: float = 0.005,
    force: bool = False,
) -> tuple[list[Comparison], list[str]]:
    """Per-strategy comparisons of ``b`` against ``a``, and notes on what else differed."""
    blocking, notes = scenario_differences(
        a.summary.scenario.model_dump(),
        b.summary.scenario.model_dump(),
        (read_from_schema_1(a.summary), read_from_schema_1(b.summary)),
    )
    if blocking and not force:
        raise DifferentScenariosError(
            "the two folders ran different scenarios ("
            + "; ".join(blocking[:3])
            + "); pass --force to compare them anyway"
        )
    notes = blocking + notes
    for side in (a, b):
        if not side.summary.complete:
            notes.append(
                f"{side.folder} is an incomplete run ({side.summary.incomplete_reason or 'stopped'}): "
                "only the strategy runs that finished are compared"
            )
        notes += latency_warnings(side)
    for kind in (a.summary.kind, b.summary.kind):
        if kind != RunKind.LIVE:
            notes.append(f"one side is {kind}: its per-file records are modelled, not measured")
    out = []
    for name in a.strategies:
        if name not in b.summary.strategies:
            notes.append(f"strategy {name!r} is only in {a.folder}")
            continue
        comparison = _compare_strategy(name, a, b, alpha, min_effect, min_abs_s)
        out.append(comparison)
        if comparison.harness_bound:
            notes.append(_bound_note(name, a.summary.strategies[name], b.summary.strategies[name]))
    notes += [f"strategy {n!r} is only in {b.folder}" for n in b.strategies if n not in a.summary.strategies]
    return out, notes


def harness_bound_sides(sa: StrategyResult, sb: StrategyResult) -> list[str]:
    """Which sides ("a", "b") measured the harness rather than the strategy."""
    return [side for side, s in (("a", sa), ("b", sb)) if s.harness is not None and s.harness.bound]


def _bound_note(name: str, sa: StrategyResult, sb: StrategyResult) -> str:
    side = harness_bound_sides(sa, sb)[0]
    check = (sa if side == "a" else sb).harness
    reasons = (check.reasons if check is not None else []) or ["marked harness-bound"]
    return (
        f"{name}: no significance claimed, the run in {side.upper()} was bound by the harness or the "
        f"machine ({reasons[0]}); its latencies measure the machine, not the strategy"
    )


def _compare_strategy(
    name: str, a: Results, b: Results, alpha: float, min_effect: float, min_abs_s: float
) -> Comparison:
    xa, xb = _latencies(a, name), _latencies(b, name)
    sa, sb = a.summary.strategies[name], b.summary.strategies[name]
    median_a = float(np.median(xa)) if xa.size else None
    median_b = float(np.median(xb)) if xb.size else None
    p_value = relative = None
    significant = False
    if xa.size >= 3 and xb.size >= 3 and median_a is not None and median_b is not None:
        p_value = float(mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
        relative = (median_b - median_a) / median_a if median_a > 0 else None
        big_enough = (
            relative is not None and abs(relative) >= min_effect and abs(median_b - median_a) >= min_abs_s
        )
        significant = p_value < alpha and big_enough
        if significant:
            verdict = "slower" if median_b > median_a else "faster"
        elif p_value < alpha:
            verdict = "below min effect"
        else:
            verdict = "not significant"
    else:
        verdict = "too few files to compare"
    bound = harness_bound_sides(sa, sb)
    if bound:
        significant = False
        verdict = f"not compared: harness-bound in {' and '.join(s.upper() for s in bound)}"
    return Comparison(
        strategy=name,
        median_a=median_a,
        median_b=median_b,
        p95_a=sa.latency_s.p95,
        p95_b=sb.latency_s.p95,
        p_value=p_value,
        relative_change=relative,
        significant=significant,
        verdict=verdict,
        requests_a=sa.api_calls_total,
        requests_b=sb.api_calls_total,
        invocations_a=sa.invocations,
        invocations_b=sb.invocations,
        harness_bound=bool(bound),
    )
