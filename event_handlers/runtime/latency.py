"""Named delivery-latency profiles: how long an event takes to reach the function, per route.

moto delivers notifications synchronously inside ``put_object``, so on moto events arrive with no
delay at all. A profile makes any delay explicit and named, and every run records which profile
it used:

* ``instant``: no added delay (what moto does);
* ``aws``: delays drawn from lognormal distributions fitted to published AWS measurements, with a
  rare long-delay component (a labelled assumption) for AWS's "can sometimes take a minute or longer";
* ``moto``: fitted from a live run by ``pve calibrate``.

Profiles are TOML files (``profiles/*.toml`` here, or any path) holding, per route, a
distribution and the source of its numbers. Sampling is vectorised so the simulator can draw
millions of delays at once, and seeded so runs repeat.

A distribution may carry a ``tail``: with probability ``tail.probability`` a draw comes from the
tail distribution instead (a mixture). A ``sum`` distribution adds independent ``legs`` draw by
draw (a convolution): a route of several hops is the sum of its legs, and the quantiles of a sum
are not the sums of the legs' quantiles. Live runs draw each route's body only (a tail delay of
minutes in a run of seconds would read as a lost file); the simulator draws the tail too.
``route_delays`` gives a deployment route's delays from a profile and a seed, for any caller that
needs p50/p95/p99.9 of a route without simulating.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from event_handlers.errors import ConfigError

ROUTES = (
    "s3_to_lambda",
    "s3_to_sqs",
    "sqs_to_lambda",
    "eventbridge_to_lambda",
    "s3_to_sns_to_sqs",  # S3's notification to an SNS topic, then the topic's delivery to a queue
    "inotify_to_handler",
)
Z99 = 2.3263478740408408  # standard normal 99th percentile
SUM_QUANTILE_DRAWS = 400_000  # draws behind a ``sum`` distribution's quantiles (a fixed seed)

# The legs of each deployment route, in the order an event travels them (names are profile routes).
ROUTE_LEGS: dict[str, tuple[str, ...]] = {
    "s3-lambda": ("s3_to_lambda",),
    "s3-sqs-lambda": ("s3_to_sqs", "sqs_to_lambda"),
    "s3-eventbridge-lambda": ("eventbridge_to_lambda",),
    "s3-sns-sqs-lambda": ("s3_to_sns_to_sqs", "sqs_to_lambda"),
    "hybrid": ("s3_to_lambda",),
    "inotify": ("inotify_to_handler",),
}


class ProfileError(ConfigError):
    """A profile file that cannot be used; the message names the file and the field."""


DistributionKind = Literal["constant", "lognormal", "empirical", "sum"]


@dataclass(frozen=True)
class Distribution:
    """A delay distribution in seconds: ``constant``, ``lognormal``, ``empirical`` quantiles, or
    ``sum`` of independent ``legs``; optionally mixed with a rare ``tail`` component."""

    kind: DistributionKind
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    legs: tuple[Distribution, ...] = ()
    tail: Distribution | None = None
    tail_probability: float = 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        draws = self._sample_body(rng, n)
        if self.tail is not None and self.tail_probability > 0 and n:
            # which draws fall in the tail: a Binomial count at uniformly chosen positions (the same
            # law as one coin per draw, without n uniform draws for a rare event)
            hits = int(rng.binomial(n, self.tail_probability))
            if hits:
                where = rng.choice(n, size=hits, replace=False)
                draws[where] = self.tail.sample(rng, hits)
        return draws

    def _sample_body(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.kind == "constant":
            return np.full(n, float(self.params.get("value_s", 0.0)))
        if self.kind == "lognormal":
            mu, sigma = self.lognormal_parameters()
            shift = float(self.params.get("shift_s", 0.0))
            draws = rng.standard_normal(n)  # the ziggurat normal, then exp: faster than rng.lognormal
            draws *= sigma
            draws += mu
            np.exp(draws, out=draws)
            return draws + shift if shift else draws
        if self.kind == "empirical":
            qs = np.asarray(self.params["quantiles"], dtype=float)
            values = np.asarray(self.params["values_s"], dtype=float)
            return np.interp(rng.random(n), qs, values)
        if self.kind == "sum":
            total = np.zeros(n)
            for leg in self.legs:
                total += leg.sample(rng, n)
            return total
        raise ProfileError(f"unknown distribution kind {self.kind!r}")

    def sampler(self, seed: int | None, *, with_tail: bool = False) -> Callable[[], float]:
        """A function drawing one value at a time (buffered; for the live runtime).

        Without ``with_tail`` it draws the body only: a live run lasts seconds and drains for a
        minute, so a tail draw of minutes would only show up as a file counted missed, which
        reads as a lost event. The tail belongs to the simulator (``sample``), where a month
        of files makes p99.9 and max meaningful."""
        source = self if with_tail else self.without_tail()
        if source.kind == "constant" and source.tail is None:
            value = source.quantile(0.5)
            return lambda: value
        rng = np.random.default_rng(seed)
        buffer: list[float] = []

        def draw() -> float:
            if not buffer:
                buffer.extend(source.sample(rng, 1024).tolist()[::-1])
            return buffer.pop()

        return draw

    def without_tail(self) -> Distribution:
        """The same distribution without its rare long-delay component (legs' tails removed too)."""
        return replace(
            self, tail=None, tail_probability=0.0, legs=tuple(leg.without_tail() for leg in self.legs)
        )

    def with_tail_probability(self, probability: float) -> Distribution:
        """The same distribution with its tail (and its legs' tails) at ``probability``."""
        legs = tuple(leg.with_tail_probability(probability) for leg in self.legs)
        if self.tail is None:
            return replace(self, legs=legs)
        return replace(self, tail_probability=probability, legs=legs)

    def lognormal_parameters(self) -> tuple[float, float]:
        """(mu, sigma) from ``median_s`` and ``p99_s`` (or an explicit ``sigma``)."""
        median = float(self.params["median_s"]) - float(self.params.get("shift_s", 0.0))
        if "sigma" in self.params:
            sigma = float(self.params["sigma"])
        else:
            p99 = float(self.params["p99_s"]) - float(self.params.get("shift_s", 0.0))
            sigma = math.log(p99 / median) / Z99
        return math.log(median), sigma

    def cdf(self, x: float) -> float:
        """P(delay <= x); for a ``sum``, estimated from a fixed-seed sample."""
        body = self._body_cdf(x)
        if self.tail is None or self.tail_probability <= 0:
            return body
        return (1.0 - self.tail_probability) * body + self.tail_probability * self.tail.cdf(x)

    def _body_cdf(self, x: float) -> float:
        if self.kind == "constant":
            return 1.0 if x >= float(self.params.get("value_s", 0.0)) else 0.0
        if self.kind == "lognormal":
            mu, sigma = self.lognormal_parameters()
            y = x - float(self.params.get("shift_s", 0.0))
            return 0.0 if y <= 0 else 0.5 * math.erfc(-(math.log(y) - mu) / (sigma * math.sqrt(2.0)))
        if self.kind == "empirical":
            values, qs = self.params["values_s"], self.params["quantiles"]
            return float(np.interp(x, values, qs, left=0.0, right=1.0))
        return float(np.mean(self._reference_sample() <= x))

    def quantile(self, q: float) -> float:
        """The q-quantile in seconds (exact for the parametric kinds and their mixtures; a
        ``sum``'s from a fixed-seed sample of its convolution)."""
        if self.tail is not None and self.tail_probability > 0:
            return self._mixture_quantile(q)
        if self.kind == "constant":
            return float(self.params.get("value_s", 0.0))
        if self.kind == "lognormal":
            from statistics import NormalDist

            mu, sigma = self.lognormal_parameters()
            return float(self.params.get("shift_s", 0.0)) + math.exp(mu + sigma * NormalDist().inv_cdf(q))
        if self.kind == "sum":
            return float(np.quantile(self._reference_sample(), q))
        return float(np.interp(q, self.params["quantiles"], self.params["values_s"]))

    def _mixture_quantile(self, q: float) -> float:
        assert self.tail is not None  # (a sum carries its tails on its legs: see _distribution)
        body = replace(self, tail=None, tail_probability=0.0)
        bounds = sorted((body.quantile(min(q, 1 - 1e-12)), self.tail.quantile(min(q, 1 - 1e-12))))
        low, high = bounds[0], max(bounds[1], bounds[0] + 1e-12)
        for _ in range(200):  # the mixture's quantile lies between its components' (bisection)
            mid = (low + high) / 2
            if self.cdf(mid) < q:
                low = mid
            else:
                high = mid
            if high - low <= 1e-12 * max(1.0, high):
                break
        return (low + high) / 2

    def _reference_sample(self) -> np.ndarray:
        return _reference_sample(self)

    def mean(self) -> float:
        body = self._body_mean()
        if self.tail is None or self.tail_probability <= 0:
            return body
        return (1.0 - self.tail_probability) * body + self.tail_probability * self.tail.mean()

    def _body_mean(self) -> float:
        if self.kind == "constant":
            return float(self.params.get("value_s", 0.0))
        if self.kind == "lognormal":
            mu, sigma = self.lognormal_parameters()
            return float(self.params.get("shift_s", 0.0)) + math.exp(mu + sigma**2 / 2)
        if self.kind == "sum":
            return math.fsum(leg.mean() for leg in self.legs)
        qs = np.linspace(0, 1, 2001)
        return float(np.mean(np.interp(qs, self.params["quantiles"], self.params["values_s"])))


_SAMPLES: dict[int, tuple[Distribution, np.ndarray]] = {}


def _reference_sample(d: Distribution) -> np.ndarray:
    """A fixed-seed sample of ``d`` (kept per distribution object: quantiles of a sum repeat)."""
    cached = _SAMPLES.get(id(d))
    if cached is not None and cached[0] is d:
        return cached[1]
    sample = np.sort(d.sample(np.random.default_rng(20221004), SUM_QUANTILE_DRAWS))
    if len(_SAMPLES) > 64:
        _SAMPLES.clear()
    _SAMPLES[id(d)] = (d, sample)
    return sample


ZERO = Distribution("constant", {"value_s": 0.0}, "no added delay")


@dataclass(frozen=True)
class LatencyProfile:
    """Delivery delays per route, plus what the simulator needs to model the rest."""

    name: str
    description: str
    routes: Mapping[str, Distribution]
    extra: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""

    def distribution(self, route: str) -> Distribution:
        if route not in ROUTES:
            raise ProfileError(f"unknown route {route!r}; routes are {', '.join(ROUTES)}")
        return self.routes.get(route, ZERO)

    def sampler(self, route: str, seed: int | None, *, with_tail: bool = False) -> Callable[[], float]:
        """A function drawing one delay at a time for ``route`` (the live runtime's; without the
        rare tail unless asked: see ``Distribution.sampler``)."""
        return self.distribution(route).sampler(seed, with_tail=with_tail)

    @property
    def cold_start_probability(self) -> float:
        """Share of invocations that pay a cold start (used by the simulator)."""
        cold = self.extra.get("cold_start")
        return float(cold.get("probability", 0.0)) if isinstance(cold, dict) else 0.0

    def cold_start_init(self) -> Distribution:
        """The modelled INIT time of a cold start (zero when the profile has none)."""
        cold = self.extra.get("cold_start")
        spec = cold.get("init_s") if isinstance(cold, dict) else None
        return _distribution(spec, f"{self.path}: cold_start.init_s") if spec else ZERO

    @property
    def adds_delay(self) -> bool:
        return any(d.kind != "constant" or d.quantile(0.5) > 0 for d in self.routes.values())


def load_profile(name_or_path: str) -> LatencyProfile:
    """A bundled profile by name (``instant``, ``aws``, ``moto``) or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"cannot read latency profile {path}: {exc}") from exc
        return parse_profile(text, str(path))
    bundled = resources.files("event_handlers.runtime") / "profiles" / f"{name_or_path}.toml"
    if not bundled.is_file():
        raise ProfileError(
            f"unknown latency profile {name_or_path!r}; bundled: {', '.join(bundled_profiles())}"
        )
    return parse_profile(bundled.read_text(encoding="utf-8"), f"profiles/{name_or_path}.toml")


def bundled_profiles() -> list[str]:
    folder = resources.files("event_handlers.runtime") / "profiles"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def parse_profile(text: str, origin: str) -> LatencyProfile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{origin}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise ProfileError(f"{origin}: nested too deep to be a latency profile") from None
    _check_sections(data, origin)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"{origin}: 'name' must be a non-empty string")
    routes: dict[str, Distribution] = {}
    for route, spec in dict(data.get("routes", {})).items():
        if route not in ROUTES:
            raise ProfileError(f"{origin}: routes.{route} is not a route ({', '.join(ROUTES)})")
        routes[route] = _distribution(spec, f"{origin}: routes.{route}")
    extra = {k: v for k, v in data.items() if k not in ("name", "description", "routes")}
    return LatencyProfile(name, str(data.get("description", "")), routes, extra, origin)


# What a profile holds: a key outside these is refused, so a misspelt section or key cannot drop a
# delay silently. Keys ending in ``_range`` or ``_range_s`` (the ranges a sensitivity sweeps) and
# ``source`` are allowed everywhere.
SECTIONS: dict[str, frozenset[str] | None] = {
    "name": None,
    "description": None,
    "routes": None,  # checked route by route (_distribution)
    "processing": None,  # a distribution (_distribution)
    "route_samples": None,  # checked route by route below
    "cold_start": frozenset({"probability", "init_s"}),
    "listing": frozenset({"base_s", "per_object_s", "per_page_s"}),
    "sqs": frozenset({"delays_include_queueing"}),
}
SAMPLE_KEYS = frozenset({"delay_s", "handler_s"})
PARAMS = {
    "constant": frozenset({"value_s"}),
    "lognormal": frozenset({"median_s", "p99_s", "sigma", "shift_s"}),
    "empirical": frozenset({"quantiles", "values_s"}),
    "sum": frozenset(),
}
COMMON_PARAMS = frozenset({"per_byte_s"})  # processing: seconds per byte on top of the draw


def _unknown(keys: Any, allowed: frozenset[str]) -> list[str]:
    return sorted(
        k for k in keys if k not in allowed and k != "source" and not k.endswith(("_range", "_range_s"))
    )


def _check_sections(data: dict[str, Any], origin: str) -> None:
    """Refuse unknown sections and unknown keys of the fixed sections, naming them."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ProfileError(
            f"{origin}: unknown section(s) {', '.join(unknown)}; a profile has {', '.join(SECTIONS)}"
        )
    for section, allowed in SECTIONS.items():
        if allowed is None or section not in data:
            continue
        if not isinstance(data[section], dict):
            raise ProfileError(f"{origin}: {section} must be a table")
        bad = _unknown(data[section], allowed)
        if bad:
            raise ProfileError(
                f"{origin}: {section}: unknown key(s) {', '.join(bad)} ({', '.join(sorted(allowed))})"
            )
    if "processing" in data:
        _distribution(data["processing"], f"{origin}: processing")
    samples = data.get("route_samples", {})
    if not isinstance(samples, dict):
        raise ProfileError(f"{origin}: route_samples must be a table of routes")
    for route, spec in samples.items():
        if route not in ROUTES:
            raise ProfileError(f"{origin}: route_samples.{route} is not a route ({', '.join(ROUTES)})")
        bad = _unknown(spec if isinstance(spec, dict) else {}, SAMPLE_KEYS)
        if not isinstance(spec, dict) or bad:
            raise ProfileError(
                f"{origin}: route_samples.{route}: a table of delay_s and handler_s, got {bad or spec!r:.60}"
            )


REQUIRED = {
    "constant": ("value_s",),
    "lognormal": ("median_s",),
    "empirical": ("quantiles", "values_s"),
    "sum": (),
}


def _distribution(spec: Any, where: str) -> Distribution:
    if not isinstance(spec, dict):
        raise ProfileError(f"{where} must be a table")
    kind = spec.get("distribution")
    params = {k: v for k, v in spec.items() if k not in ("distribution", "source", "tail", "legs")}
    _check_params(kind, params, where)
    allowed = PARAMS[str(kind)] | COMMON_PARAMS
    unknown = _unknown(params, allowed)
    if unknown:
        raise ProfileError(
            f"{where}: unknown key(s) {', '.join(unknown)} for a {kind} distribution "
            f"({', '.join(sorted(allowed))}, source, tail, legs)"
        )
    legs = _legs(spec, str(kind), where)
    tail, probability = _tail(spec, str(kind), where)
    return Distribution(
        distribution_kind(kind, where), params, str(spec.get("source", "")), legs, tail, probability
    )


def distribution_kind(value: Any, where: str = "distribution") -> DistributionKind:
    """``value`` as a distribution kind, or a ProfileError naming ``where``."""
    for kind in get_args(DistributionKind):
        if value == kind:
            return kind
    raise ProfileError(
        f"{where}.distribution must be one of {', '.join(get_args(DistributionKind))}, got {value!r}"
    )


def _check_params(kind: Any, params: dict[str, Any], where: str) -> None:
    if kind not in REQUIRED:
        raise ProfileError(f"{where}.distribution must be one of {', '.join(REQUIRED)}, got {kind!r}")
    for name in REQUIRED[kind]:
        if name not in params:
            raise ProfileError(f"{where} needs {name!r} for a {kind} distribution")
    if kind == "lognormal" and "p99_s" not in params and "sigma" not in params:
        raise ProfileError(f"{where} needs 'p99_s' or 'sigma' for a lognormal distribution")
    if kind == "empirical":
        qs, vs = params["quantiles"], params["values_s"]
        if len(qs) != len(vs) or len(qs) < 2 or qs[0] != 0 or qs[-1] != 1 or sorted(qs) != list(qs):
            raise ProfileError(f"{where}: quantiles must rise from 0 to 1, one value each")


def _legs(spec: dict[str, Any], kind: str, where: str) -> tuple[Distribution, ...]:
    """A sum's legs (at least two); no other kind has legs."""
    if kind != "sum":
        if "legs" in spec:
            raise ProfileError(f"{where}: 'legs' belongs to a sum distribution only")
        return ()
    raw = spec.get("legs")
    if not isinstance(raw, list) or len(raw) < 2:
        raise ProfileError(f"{where}: a sum needs 'legs', a list of at least two distributions")
    return tuple(_distribution(leg, f"{where}.legs[{i}]") for i, leg in enumerate(raw))


def _tail(spec: dict[str, Any], kind: str, where: str) -> tuple[Distribution | None, float]:
    """The rare long-delay component and its probability (none: (None, 0.0))."""
    if "tail" not in spec:
        return None, 0.0
    if kind == "sum":
        raise ProfileError(f"{where}: put a tail on a leg of the sum, not on the sum")
    raw = spec["tail"]
    if not isinstance(raw, dict) or "probability" not in raw:
        raise ProfileError(f"{where}.tail must be a table with a 'probability'")
    probability = raw["probability"]
    if not isinstance(probability, int | float) or not 0.0 <= float(probability) <= 1.0:
        raise ProfileError(f"{where}.tail.probability must be a number from 0 to 1, got {probability!r}")
    tail_spec = {k: v for k, v in raw.items() if k != "probability"}  # *_range keys ride along
    return _distribution(tail_spec, f"{where}.tail"), float(probability)


def route_delays(
    profile: LatencyProfile,
    route: str,
    n: int,
    seed: int,
    *,
    cold_starts: bool = True,
) -> np.ndarray:
    """``n`` seeded delivery delays (seconds) of a deployment route (a key of ``ROUTE_LEGS``:
    ``s3-lambda``, ``s3-sqs-lambda``, ``s3-sns-sqs-lambda``, ...): its legs drawn independently
    and added draw by draw (a convolution), plus a cold start's INIT time at the profile's
    cold-start probability. Pure: the same profile, route, n and seed give the same
    array. Queueing behind busy consumers, batching windows and processing are not included."""
    legs = ROUTE_LEGS.get(route)
    if legs is None:
        raise ProfileError(f"unknown deployment route {route!r}; routes are {', '.join(ROUTE_LEGS)}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    total = np.zeros(n)
    for leg in legs:
        total += profile.distribution(leg).sample(rng, n)
    p = profile.cold_start_probability
    if cold_starts and p > 0 and n:
        hits = np.flatnonzero(rng.random(n) < p)
        total[hits] += profile.cold_start_init().sample(rng, hits.size)
    return total


def route_quantiles(
    profile: LatencyProfile,
    route: str,
    quantiles: tuple[float, ...] = (0.5, 0.95, 0.99, 0.999),
    *,
    n: int = 400_000,
    seed: int = 0,
    cold_starts: bool = True,
) -> dict[float, float]:
    """The route's delivery-delay quantiles from ``n`` seeded draws of ``route_delays`` (400,000
    draws put 400 beyond the p99.9: its sampling error is a few percent)."""
    draws = route_delays(profile, route, n, seed, cold_starts=cold_starts)
    return {q: float(v) for q, v in zip(quantiles, np.quantile(draws, quantiles), strict=True)}
