"""``pve decide`` beside a simulation's monthly projection: one work model, checked.

A simulation runs the scenario's own configuration of each strategy (its poll interval, memory,
SQS batch, sweep), and its monthly projection (``cost.monthly_usd``) prices that same
configuration: the latency and the bill in one summary describe one deployment. ``pve decide``
searches each option's cheapest configuration meeting the requirements, which may differ. So
each simulated strategy gets, for the same workload (rate, work, file size, retention,
requirements):

* ``as_simulated``: decide's option of the same kind in the simulated configuration, priced,
  checked and timed by decide's own code (its bill, feasibility and p50 must agree with the
  simulation's: the one-work-model check);
* ``searched``: the configuration decide's search picks, with its bill, feasibility and p50;
* ``same_configuration``: whether the two are one configuration.
"""

from __future__ import annotations

from typing import Any

from bench.cost.assumptions import Assumptions, load_assumptions
from bench.cost.deployments import row
from bench.cost.feasibility import check
from bench.cost.model import Deployment, Pricing, files_per_month, load_pricing, monthly_cost
from bench.cost.run import projected_deployment
from bench.cost.sensitivity import apply, points
from bench.cost.work import Work
from bench.decide.api import decide_workload
from bench.decide.latency import quantiles, sample_latency, with_tail
from bench.decide.rank import OPTION_NAMES, Workload, decision_assumptions, deployments_for
from bench.decide.search import configuration
from bench.requirements import Requirements
from bench.results.model import Run
from event_handlers.runtime.latency import LatencyProfile

# The knobs a configuration is made of (copied from the simulated deployment onto decide's option).
KNOBS = (
    "interval_s",
    "cursor",
    "sweep_every",
    "memory_mb",
    "arch",
    "batch_size",
    "batching_window_s",
    "sqs_pollers",
    "sqs_wait_s",
    "sweep_interval_s",
    "sweep_cursor",
    "sweep_parallel",
)
BILL_USES = (
    "the simulated configuration (the scenario's): the summary's latency and its monthly bill "
    "describe one deployment; decide's searched configuration for the same workload is beside it"
)


def option_index(d: Deployment) -> int | None:
    """Which of decide's options ``d`` is (the inbox or the seen-set poller by its cursor); a
    kind with no row raises."""
    row(d.kind)
    starts = deployments_for(Workload(1.0), 50.0)
    same = [i for i, start in enumerate(starts) if start.kind == d.kind]
    if len(same) > 1:  # the two EC2 pollers
        same = [i for i in same if (starts[i].cursor == "inbox") == (d.poll.cursor == "inbox")]
    return same[0] if same else None


def beside(
    simulated: dict[str, Deployment],
    w: Workload,
    profile: LatencyProfile,
    *,
    assumptions: Assumptions | None = None,
    pricing: Pricing | None = None,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """For each simulated strategy's deployment (as its projection priced it), decide's view of
    the same workload: ``as_simulated``, ``searched``, ``same_configuration``."""
    a0 = assumptions or load_assumptions()
    p = pricing or load_pricing()
    a = decision_assumptions(w, a0)
    base = points(a)
    starts = deployments_for(w, float(a0.defaults.get("transfer_mb_per_s", 50.0)))
    decision = decide_workload(
        w.files_per_day,
        w.requirements,
        profile=profile,
        assumptions=a0,
        pricing=p,
        samples=0,
        seed=seed,
        **_work(w),
    )
    by_name = {o.name: o for o in decision.options}
    profile_t, tail = with_tail(profile, a, w.peak / 86400.0)
    n = files_per_month(w.files_per_day, p)
    out: dict[str, dict[str, Any]] = {}
    for name, sim in simulated.items():
        i = option_index(sim)
        if i is None:
            continue
        d = apply(starts[i], base).with_(**{k: getattr(sim, k) for k in KNOBS})
        verdict = check(d, w.peak, pricing=p, assumptions=a)
        q = quantiles(sample_latency(d, w.peak, profile_t, tail, n=20_000, seed=seed, pricing=p))
        as_simulated = _view(
            configuration(d, w.files_per_day, p), monthly_cost(d, n, pricing=p).total, q.p50, verdict.feasible
        )
        chosen = by_name[OPTION_NAMES[i]]
        searched = _view(
            dict(chosen.configuration), chosen.monthly_point, chosen.latency.p50, chosen.feasible
        )
        out[name] = {
            "option": OPTION_NAMES[i],
            "as_simulated": as_simulated,
            "searched": searched,
            "same_configuration": as_simulated["configuration"] == searched["configuration"],
            "bill_uses": BILL_USES,
        }
    return out


def _view(config: dict[str, Any], bill: float, p50: float, feasible: bool) -> dict[str, Any]:
    """What cannot run is never priced (nor timed) as if it could."""
    return {
        "configuration": config,
        "monthly_usd": bill if feasible else None,
        "p50_s": p50 if feasible else None,
        "feasible": feasible,
    }


def _work(w: Workload) -> dict[str, Any]:
    return {
        "cpu_s": w.cpu_s,
        "wait_s": w.wait_s,
        "file_size_mb": w.file_size_mb,
        "retention_days": w.retention_days,
        "arch": w.arch,
    }


def simulation_workload(
    files_per_day: float, processing: dict[str, Any], listed_days: float | None
) -> Workload:
    """The workload a simulation ran, as ``pve decide`` takes it (the wait already holds the
    file's transfer, so the file size enters decide's wait as nothing more)."""
    size = float(processing.get("file_size_mb") or 0.1)
    transfer = float(load_assumptions().defaults.get("transfer_mb_per_s", 50.0))
    return Workload(
        float(files_per_day),
        cpu_s=float(processing["cpu_s"]),
        wait_s=max(0.0, float(processing["wait_s"]) - size / transfer),
        file_size_mb=size,
        retention_days=listed_days,
        requirements=Requirements.from_mapping(processing.get("requirements") or {}),
    )


def beside_run(run: Run, profile: LatencyProfile, seed: int = 0) -> Run:
    """``run`` (a simulation at a given rate under the work model) with ``simulation.decide``:
    decide's view of each strategy beside the monthly projection."""
    sim = run.simulation
    if sim is None or sim.files_per_day is None or sim.processing.get("kind") != "work":
        return run
    processing = sim.processing
    listed = sim.bucket.listed_days if sim.bucket is not None else None
    w = simulation_workload(sim.files_per_day, processing, listed)
    work = Work(float(processing["cpu_s"]), float(processing["wait_s"]))
    deployments = {
        name: d
        for name, s in run.strategies.items()
        if (d := projected_deployment(name, s, listed, work, w.requirements, w.file_size_mb)) is not None
    }
    view = beside(deployments, w, profile, seed=seed)
    return run.model_copy(update={"simulation": sim.model_copy(update={"decide": view})})
