"""Latency of each deployment option from a delivery profile, by sampling (legs are added draw by
draw, so a route's quantiles are those of the sum, not sums of quantiles), with a fixed seed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bench.cost.assumptions import Assumptions
from bench.cost.deployments import Route, row
from bench.cost.model import Deployment, Pricing, load_pricing, poll_usage, poller_sizing, sqs_batch_fill
from event_handlers.runtime import latency as profiles
from event_handlers.runtime.latency import LatencyProfile

TAIL_SIGMA = 0.5  # assumption: spread of the tail component around its median (lognormal)
TAIL_FLOOR_S = 60.0


@dataclass(frozen=True)
class Quantiles:
    p50: float
    p95: float
    p999: float

    def as_dict(self) -> dict[str, float]:
        return {"p50": self.p50, "p95": self.p95, "p999": self.p999}


@dataclass(frozen=True)
class Tail:
    """A rare long delay of S3's notifications ("a minute or longer"), added to the profile's
    S3 legs when the profile has no tail of its own."""

    share: float
    median_s: float
    from_profile: bool

    def add(self, rng: np.random.Generator, delays: np.ndarray) -> np.ndarray:
        if self.from_profile or self.share <= 0:
            return delays
        hit = rng.random(delays.size) < self.share
        extra = self.median_s * np.exp(TAIL_SIGMA * rng.standard_normal(int(hit.sum())))
        out = delays.copy()
        out[hit] += extra
        return out


def profile_has_tail(profile: LatencyProfile, seed: int = 0) -> bool:
    """Whether the profile itself delays some S3 notifications a minute or more (a route with a
    ``tail`` component, or draws at or beyond 60 s among 200,000)."""
    if any(getattr(d, "tail", None) is not None for d in profile.routes.values()):
        return True
    rng = np.random.default_rng(seed)
    return bool(profile.distribution("s3_to_lambda").sample(rng, 200_000).max() >= TAIL_FLOOR_S)


def tail_share(assumptions: Assumptions, rate_per_s: float, end: str = "point") -> float:
    """How often S3 delays a notification a minute or more at ``rate_per_s``: the assumption's
    point (or ``end``: "high") at low load, growing linearly to ``delivery_tail_load_factor`` times
    that at ``delivery_tail_high_load_per_s`` (a labelled assumption from TriggerPerf)."""
    base = float(getattr(assumptions["delivery_tail_share"], end))
    items = assumptions.items
    factor = float(items["delivery_tail_load_factor"].point) if "delivery_tail_load_factor" in items else 1.0
    high_load = float(assumptions.defaults.get("delivery_tail_high_load_per_s", 1000.0))
    load = min(1.0, max(0.0, rate_per_s) / high_load) if high_load > 0 else 1.0
    return min(1.0, base * (1.0 + (factor - 1.0) * load))


def _with_share(profile: LatencyProfile, share: float) -> LatencyProfile:
    routes = {
        name: (d.with_tail_probability(share) if hasattr(d, "with_tail_probability") else d)
        for name, d in profile.routes.items()
    }
    return replace(profile, routes=routes)


def tail_for(
    profile: LatencyProfile,
    assumptions: Assumptions,
    share: float | None = None,
    *,
    rate_per_s: float = 0.0,
) -> Tail:
    own = profile_has_tail(profile)
    return Tail(
        tail_share(assumptions, rate_per_s) if share is None else share,
        float(assumptions["delivery_tail_median_s"].point),
        own,
    )


def with_tail(
    profile: LatencyProfile, assumptions: Assumptions, rate_per_s: float, end: str = "point"
) -> tuple[LatencyProfile, Tail]:
    """The profile and tail at the assumptions' share (``end``: "point" or "high") at this load:
    a profile's own tail is set to it (the aws profile's 2e-3 is its pessimistic end), a profile
    without one gets ours."""
    share = tail_share(assumptions, rate_per_s, end)
    tail = tail_for(profile, assumptions, share)
    return (_with_share(profile, share) if tail.from_profile else profile), tail


def list_s_per_page(profile: LatencyProfile, d: Deployment) -> float:
    """One LIST page for ``d``'s caller: the request and the parse at its CPU (a scheduled
    function at its memory's share of a vCPU). The profile's figure is not used (issue 21)."""
    return d.list_s_per_page(on_lambda=row(d.kind).on_lambda)


_ROUTE_DRAWS: dict[tuple[str, str, int, int], np.ndarray] = {}


def route_draws(profile: LatencyProfile, route: str, n: int, seed: int) -> np.ndarray:
    """``route_delays`` sampled once per process for a profile (by its content), route, count and
    seed, read-only: a decision asks for the same draws for every configuration it tries."""
    key = (repr(profile), route, n, seed)
    draws = _ROUTE_DRAWS.get(key)
    if draws is None:
        if len(_ROUTE_DRAWS) >= 64:
            _ROUTE_DRAWS.clear()
        draws = profiles.route_delays(profile, route, n, seed)
        draws.flags.writeable = False
        _ROUTE_DRAWS[key] = draws
    return draws


def sample_latencies(
    ds: Sequence[Deployment],
    files_per_day: float,
    profile: LatencyProfile,
    tail: Tail,
    *,
    n: int = 20_000,
    seed: int = 0,
    month_s: float = 730 * 3600.0,
    pricing: Pricing | None = None,
) -> np.ndarray:
    """``sample_latency`` of configurations of one option at once, a row each (the same numbers,
    bit for bit): the seeded draws are shared by every row, only the knobs differ."""
    rows = {row(d.kind) for d in ds}  # an unknown kind raises here
    one = rows.pop() if len(rows) == 1 else None
    if one is not None and one.polls:
        return _poll_latencies(ds, files_per_day, profile, n, seed, month_s, pricing)
    if one is not None and one.route is not None and not one.route.batches:
        delays = tail.add(np.random.default_rng(seed), route_draws(profile, one.route.profile_route, n, seed))
        return delays[None, :] + _column([d.lambda_s for d in ds])
    each = [
        sample_latency(d, files_per_day, profile, tail, n=n, seed=seed, month_s=month_s, pricing=pricing)
        for d in ds
    ]  # a queue's batch wait draws differently per batch size
    return np.stack(each) if each else np.empty((0, n))


def _column(values: Sequence[float]) -> np.ndarray:
    return np.array(values, dtype=float)[:, None]


def _poll_latencies(
    ds: Sequence[Deployment],
    files_per_day: float,
    profile: LatencyProfile,
    n: int,
    seed: int,
    month_s: float,
    pricing: Pricing | None,
) -> np.ndarray:
    """The pollers' rows of ``sample_latencies``: ``sample_latency``'s arithmetic, in its order."""
    rng = np.random.default_rng(seed)
    phase_u, work_u = rng.random(n), rng.random(n)
    per_month = files_per_day * month_s / 86400.0
    interval = _column([d.poll.interval_s for d in ds])
    per_cycle = _column([files_per_day * d.poll.interval_s / 86400.0 for d in ds])
    listing = _column(
        [poll_usage(d, per_month, month_s).pages_per_cycle * list_s_per_page(profile, d) for d in ds]
    )
    phase = phase_u[None, :] * interval
    if not row(ds[0].kind).on_lambda:
        p = pricing or load_pricing()
        vcpus = _column([2.0 * poller_sizing(d, per_month, p).count for d in ds])
        backlog = per_cycle * _column([d.work.cpu_s for d in ds]) / vcpus
        return (
            phase
            + listing
            + work_u[None, :] * backlog
            + _column([d.work.cpu_s for d in ds])
            + _column([d.work.wait_s for d in ds])
        )
    work = _column([d.lambda_s for d in ds])
    return phase + listing + work_u[None, :] * per_cycle * work + work


def sample_latency(
    d: Deployment,
    files_per_day: float,
    profile: LatencyProfile,
    tail: Tail,
    *,
    n: int = 20_000,
    seed: int = 0,
    month_s: float = 730 * 3600.0,
    pricing: Pricing | None = None,
) -> np.ndarray:
    """``n`` draws of written -> processed seconds for one option at an even arrival rate."""
    rng = np.random.default_rng(seed)
    route = row(d.kind).route  # an unknown kind raises here
    if route is not None:
        return _event_latency(d, route, files_per_day, profile, tail, rng, n, seed)
    usage = poll_usage(d, files_per_day * month_s / 86400.0, month_s)
    per_cycle = files_per_day * d.poll.interval_s / 86400.0
    listing = usage.pages_per_cycle * list_s_per_page(profile, d)
    phase = rng.random(n) * d.poll.interval_s  # written at a uniform point of the interval
    if not row(d.kind).on_lambda:
        # the cycle's files share the sized instances' vCPUs (threads for the wait)
        vcpus = 2.0 * poller_sizing(d, files_per_day * month_s / 86400.0, pricing or load_pricing()).count
        backlog = per_cycle * d.work.cpu_s / vcpus
        return phase + listing + rng.random(n) * backlog + d.work.cpu_s + d.work.wait_s
    # one scheduled invocation lists, then works through the cycle's files one after another
    work = d.lambda_s
    return phase + listing + rng.random(n) * per_cycle * work + work


def _event_latency(
    d: Deployment,
    route: Route,
    files_per_day: float,
    profile: LatencyProfile,
    tail: Tail,
    rng: np.random.Generator,
    n: int,
    seed: int,
) -> np.ndarray:
    """An event route: the profile's route (its legs convolved, with tails and cold starts), a
    queue's batch wait, S3's delivery tail, the work."""
    delays = route_draws(profile, route.profile_route, n, seed)
    if route.batches:
        delays = delays + _batch_wait(d, files_per_day, rng, n)
    return tail.add(rng, delays) + d.lambda_s


def _batch_wait(d: Deployment, files_per_day: float, rng: np.random.Generator, n: int) -> np.ndarray:
    """A message's wait in its batch: part of the batching window, and the files handled before it."""
    batch = sqs_batch_fill(d, files_per_day / 86400.0)
    ahead = rng.integers(0, max(1, round(batch)), n) * d.lambda_s
    return d.queue.batching_window_s * rng.random(n) + ahead


def quantiles(samples: np.ndarray) -> Quantiles:
    p50, p95, p999 = np.quantile(samples, [0.5, 0.95, 0.999])
    return Quantiles(float(p50), float(p95), float(p999))
