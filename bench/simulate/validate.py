"""Is the simulator right? Two checks, as a command (``pve validate``) and in the tests.

(a) Theory: with Poisson arrivals and an idle consumer, a poller's detection delay is uniform on
    [0, T]: mean T/2, and a Kolmogorov-Smirnov test does not reject uniformity.
(b) Live against simulated: a live run on moto, the profile ``pve calibrate`` fits to it, and a
    simulation of the same scenario replaying the run's poll schedules: p50 and p95 latency within
    10% of the live run's, and the request counts the same.

A live quantile is itself one draw. Where its own 95% confidence interval is wider than 10% (a p95
of 200 files in milliseconds, whose tail has gaps of several ms between neighbouring files), a
simulated quantile inside that interval agrees with the run as far as the run can tell, and holds.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binom, kstest

from bench.atomic import write_text_atomically
from bench.errors import InputError
from bench.results.files import Results, read_results
from bench.scenario.kinds import facet, family
from bench.scenario.spec import KIND_SPECS, Scenario, parse_scenario
from bench.simulate.calibrate import fit_profile, write_profile
from bench.simulate.runner import SimulationOptions, simulate_scenario

TOLERANCE = 0.10
CONFIDENCE = 0.95
REPLICAS = 20
COUNTED = ("s3.ListObjectsV2", "s3.GetObject", "s3.PutObject")


@dataclass(frozen=True)
class TheoryCheck:
    interval_s: float
    files: int
    mean_delay_s: float
    expected_mean_s: float
    ks_statistic: float
    ks_p_value: float

    @property
    def holds(self) -> bool:
        return (
            abs(self.mean_delay_s - self.expected_mean_s) < 0.02 * self.interval_s and self.ks_p_value > 0.01
        )


def theory_check(
    interval_s: float = 10.0, files: int = 20_000, seed: int = 1, workdir: Path | None = None
) -> TheoryCheck:
    """Simulate Poisson arrivals against a poller with nothing else to do; test the delay."""
    scenario = parse_scenario(
        {
            "name": "theory",
            "seed": seed,
            "workload": {"arrivals": {"process": "poisson", "rate_per_s": 1.0, "count": files}},
            "strategies": [{"name": "poll", "kind": "poll", "interval_s": interval_s}],
        },
        "theory",
    )
    from event_handlers.runtime.latency import Distribution

    with tempfile.TemporaryDirectory(dir=workdir) as out:
        options = SimulationOptions(
            processing=Distribution("constant", {"value_s": 0.0}),
            list_base_s=0.0,
            list_per_object_s=0.0,
            list_per_page_s=0.0,
            start="empty",
            max_records=files,
        )
        simulate_scenario(scenario, Path(out), options)
        records = read_results(out).records
    delay = (records["detected_at"] - records["written_at"]).to_numpy(dtype=float)
    test = kstest(delay / interval_s, "uniform")
    return TheoryCheck(
        interval_s, files, float(delay.mean()), interval_s / 2, float(test.statistic), float(test.pvalue)
    )


def quantile_interval(values: np.ndarray, q: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """A distribution-free confidence interval for the ``q`` quantile: the order statistics whose
    ranks bound a Binomial(n, q) count with the given probability."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n = ordered.size
    if n == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2
    low = int(binom.ppf(tail, n, q))  # 1-based rank of the lower bound
    high = int(binom.ppf(1.0 - tail, n, q)) + 1
    return float(ordered[max(low, 1) - 1]), float(ordered[min(high, n) - 1])


@dataclass(frozen=True)
class LiveComparison:
    scenario: str
    strategy: str
    p50_live: float | None
    p50_sim: float
    p95_live: float | None
    p95_sim: float
    requests_live: dict[str, int]
    requests_sim: dict[str, int]
    p50_interval: tuple[float, float]  # the live p50's 95% confidence interval
    p95_interval: tuple[float, float]
    sample: str = "in"  # "in": the profile was fitted to this run; "out": to another run
    calibrated_on: str = ""  # the run the profile was fitted to
    uncovered: str = ""  # why the fitted profile cannot speak for this strategy (out of sample)

    @staticmethod
    def _off(live: float | None, sim: float) -> float:
        return abs(sim - live) / live if live else 0.0

    @property
    def p50_off(self) -> float:
        return self._off(self.p50_live, self.p50_sim)

    @property
    def p95_off(self) -> float:
        return self._off(self.p95_live, self.p95_sim)

    @property
    def requests_equal(self) -> bool:
        return all(self.requests_live.get(op, 0) == self.requests_sim.get(op, 0) for op in COUNTED)

    @staticmethod
    def _agrees(off: float, sim: float, interval: tuple[float, float]) -> bool:
        return off <= TOLERANCE or interval[0] <= sim <= interval[1]

    @property
    def p50_agrees(self) -> bool:
        return self._agrees(self.p50_off, self.p50_sim, self.p50_interval)

    @property
    def p95_agrees(self) -> bool:
        return self._agrees(self.p95_off, self.p95_sim, self.p95_interval)

    @property
    def holds(self) -> bool:
        return self.p50_agrees and self.p95_agrees and self.requests_equal


def live_against_simulated(
    live: Results, workdir: Path, replicas: int = REPLICAS, *, calibrated_on: Results | None = None
) -> list[LiveComparison]:
    """Calibrate on ``calibrated_on`` (by default ``live`` itself: in sample), simulate ``live``'s
    scenario replaying its schedules, compare per strategy.

    Out of sample (``calibrated_on`` another run: a different rate or scenario), the profile's
    delays, processing and listing times were fitted without ``live``; only its poll schedules
    (when each cycle started, an input rather than a fitted parameter) and its arrivals are
    replayed. A strategy whose route the calibration run did not measure is marked uncovered.

    The live run is one draw; a single simulation is another, and at a hundred files a p95 moves
    by several percent from draw to draw. So the model's quantiles are taken over ``replicas``
    simulations of the same arrivals (only the delays and processing times are drawn again).
    """
    source = calibrated_on or live
    sample = "in" if calibrated_on is None or calibrated_on.folder == live.folder else "out"
    fitted = fit_profile(source)
    tag = live.scenario_name if sample == "in" else f"{live.scenario_name}-from-{source.scenario_name}"
    profile_path = write_profile(fitted, workdir / f"{tag}-moto-profile.toml")
    scenario = Scenario.model_validate(
        {**live.summary.scenario.model_dump(), "latency_profile": str(profile_path)}
    )
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        for replica in range(replicas):  # the first replica is kept to look at; the rest only pooled
            folder = workdir / f"{tag}-simulated" if replica == 0 else Path(scratch) / str(replica)
            summary = simulate_scenario(
                scenario, folder, SimulationOptions(live=live.summary, replica=replica)
            )
            runs.append((summary, read_results(folder).records))
    pooled = pd.concat([records for _, records in runs], ignore_index=True)
    first = runs[0][0]
    measured = live.records[live.records["outcome"] == "processed"]
    out = []
    for name, s in live.summary.strategies.items():
        latencies = pooled.loc[(pooled["strategy"] == name) & (pooled["outcome"] == "processed"), "latency_s"]
        p50, p95 = (float(v) for v in np.percentile(latencies.to_numpy(dtype=float), [50, 95]))
        own = measured.loc[measured["strategy"] == name, "latency_s"].to_numpy(dtype=float)
        out.append(
            LiveComparison(
                live.scenario_name,
                name,
                s.latency_s.p50,
                p50,
                s.latency_s.p95,
                p95,
                {op: s.api_calls.get(op, 0) for op in COUNTED},
                {op: first.strategies[name].api_calls.get(op, 0) for op in COUNTED},
                quantile_interval(own, 0.50),
                quantile_interval(own, 0.95),
                sample=sample,
                calibrated_on=str(source.scenario_name),
                uncovered="" if sample == "in" else _uncovered(s.kind, fitted, source.scenario_name),
            )
        )
    return out


def _uncovered(kind: str, fitted: dict[str, Any], source: str) -> str:
    """Why a profile fitted to ``source`` cannot speak for a strategy of ``kind`` ('' if it can)."""
    route = facet(KIND_SPECS, kind, "bench.scenario.spec.KIND_SPECS").route
    if route is not None and route not in fitted.get("routes", {}):
        return f"{source} ran no {kind}: its delivery delay ({route}) was not fitted"
    if family(kind).lists and "listing" not in fitted:
        return f"{source} ran no poller: listing time was not fitted"
    return ""


def split_validation(
    lives: list[Results], workdir: Path, calibrate_on: str | None = None, replicas: int = REPLICAS
) -> list[LiveComparison]:
    """Every run against its own fit (in sample), and every other run against the fit of the
    calibration run (``calibrate_on``: a scenario name or folder; by default the first run)."""
    if not lives:
        return []
    calibration = _pick(lives, calibrate_on)
    rows = [row for live in lives for row in live_against_simulated(live, workdir, replicas)]
    for live in lives:
        if live is not calibration:
            rows += live_against_simulated(live, workdir, replicas, calibrated_on=calibration)
    return rows


def _pick(lives: list[Results], calibrate_on: str | None) -> Results:
    if calibrate_on is None:
        return lives[0]
    for live in lives:
        if calibrate_on in (live.scenario_name, str(live.folder)):
            return live
    names = ", ".join(live.scenario_name for live in lives)
    raise InputError(f"--calibrate-on {calibrate_on!r} is none of the live runs ({names})")


def comparisons_document(theory: TheoryCheck, rows: list[LiveComparison]) -> dict[str, Any]:
    """The theory check, every comparison, and the in-sample and out-of-sample verdicts apart.

    ``holds`` is the theory and the in-sample comparisons (the simulator reproduces what it was
    fitted to); ``out_of_sample.holds`` says whether a fit carries over to another rate or
    scenario, over the strategies the calibration run covered."""
    entries = [
        {
            **row.__dict__,
            "p50_off": row.p50_off,
            "p95_off": row.p95_off,
            "p50_agrees": row.p50_agrees,
            "p95_agrees": row.p95_agrees,
            "requests_equal": row.requests_equal,
            "holds": row.holds,
        }
        for row in rows
    ]
    inside = [e for e in entries if e["sample"] == "in"]
    outside = [e for e in entries if e["sample"] == "out"]
    covered = [e for e in outside if not e["uncovered"]]
    in_sample_holds = all(e["holds"] for e in inside)
    return {
        "theory": {**theory.__dict__, "holds": theory.holds},
        "live_against_simulated": inside,
        "in_sample": {
            "what": "each live run simulated with the profile fitted to that same run",
            "rows": len(inside),
            "holding": sum(e["holds"] for e in inside),
            "holds": in_sample_holds,
        },
        "out_of_sample": {
            "what": "each other live run simulated with the profile fitted to the calibration run",
            "calibrated_on": sorted({e["calibrated_on"] for e in outside}),
            "validated_on": sorted({e["scenario"] for e in outside}),
            "comparisons": outside,
            "rows": len(covered),
            "holding": sum(e["holds"] for e in covered),
            "uncovered": [
                f"{e['scenario']}/{e['strategy']}: {e['uncovered']}" for e in outside if e["uncovered"]
            ],
            "holds": all(e["holds"] for e in covered) if covered else None,
        },
        "tolerance": TOLERANCE,
        "confidence": CONFIDENCE,
        "holds": theory.holds and in_sample_holds,
    }


def write_validation(folder: Path, document: dict[str, Any]) -> Path:
    """``validation.json``: the theory check and every live comparison, as ``pve validate`` printed them."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "validation.json"
    write_text_atomically(path, json.dumps(document, indent=2, default=str) + "\n")
    return path
