"""Named delivery-latency profiles: how long an event takes to reach the function, per route.

moto delivers notifications synchronously inside ``put_object``, so on moto events arrive with no
delay at all. A profile makes any delay explicit and named, and every run records which profile
it used:

* ``instant``: no added delay (what moto does);
* ``aws``: delays drawn from lognormal distributions fitted to published AWS measurements;
* ``moto``: fitted from a live run by ``pve calibrate``.

Profiles are TOML files (``profiles/*.toml`` here, or any path) holding, per route, a
distribution and the source of its numbers. Sampling is vectorised so the simulator can draw
millions of delays at once, and seeded so runs repeat.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from event_handlers.errors import ConfigError

ROUTES = ("s3_to_lambda", "s3_to_sqs", "sqs_to_lambda", "eventbridge_to_lambda", "inotify_to_handler")
Z99 = 2.3263478740408408  # standard normal 99th percentile


class ProfileError(ConfigError):
    """A profile file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Distribution:
    """A delay distribution in seconds: ``constant``, ``lognormal`` or ``empirical`` quantiles."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
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
        raise ProfileError(f"unknown distribution kind {self.kind!r}")

    def sampler(self, seed: int | None) -> Callable[[], float]:
        """A function drawing one value at a time (buffered; for the live runtime)."""
        if self.kind == "constant":
            value = self.quantile(0.5)
            return lambda: value
        rng = np.random.default_rng(seed)
        buffer: list[float] = []

        def draw() -> float:
            if not buffer:
                buffer.extend(self.sample(rng, 1024).tolist()[::-1])
            return buffer.pop()

        return draw

    def lognormal_parameters(self) -> tuple[float, float]:
        """(mu, sigma) from ``median_s`` and ``p99_s`` (or an explicit ``sigma``)."""
        median = float(self.params["median_s"]) - float(self.params.get("shift_s", 0.0))
        if "sigma" in self.params:
            sigma = float(self.params["sigma"])
        else:
            p99 = float(self.params["p99_s"]) - float(self.params.get("shift_s", 0.0))
            sigma = math.log(p99 / median) / Z99
        return math.log(median), sigma

    def quantile(self, q: float) -> float:
        """The q-quantile in seconds (exact for the parametric kinds)."""
        if self.kind == "constant":
            return float(self.params.get("value_s", 0.0))
        if self.kind == "lognormal":
            from statistics import NormalDist

            mu, sigma = self.lognormal_parameters()
            return float(self.params.get("shift_s", 0.0)) + math.exp(mu + sigma * NormalDist().inv_cdf(q))
        return float(np.interp(q, self.params["quantiles"], self.params["values_s"]))

    def mean(self) -> float:
        if self.kind == "constant":
            return float(self.params.get("value_s", 0.0))
        if self.kind == "lognormal":
            mu, sigma = self.lognormal_parameters()
            return float(self.params.get("shift_s", 0.0)) + math.exp(mu + sigma**2 / 2)
        qs = np.linspace(0, 1, 2001)
        return float(np.mean(np.interp(qs, self.params["quantiles"], self.params["values_s"])))


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

    def sampler(self, route: str, seed: int | None) -> Callable[[], float]:
        """A function drawing one delay at a time for ``route``."""
        return self.distribution(route).sampler(seed)

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
        except OSError as exc:
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


def _distribution(spec: Any, where: str) -> Distribution:
    if not isinstance(spec, dict):
        raise ProfileError(f"{where} must be a table")
    kind = spec.get("distribution")
    params = {k: v for k, v in spec.items() if k not in ("distribution", "source")}
    required = {"constant": ("value_s",), "lognormal": ("median_s",), "empirical": ("quantiles", "values_s")}
    if kind not in required:
        raise ProfileError(f"{where}.distribution must be one of {', '.join(required)}, got {kind!r}")
    for name in required[kind]:
        if name not in params:
            raise ProfileError(f"{where} needs {name!r} for a {kind} distribution")
    if kind == "lognormal" and "p99_s" not in params and "sigma" not in params:
        raise ProfileError(f"{where} needs 'p99_s' or 'sigma' for a lognormal distribution")
    if kind == "empirical":
        qs, vs = params["quantiles"], params["values_s"]
        if len(qs) != len(vs) or len(qs) < 2 or qs[0] != 0 or qs[-1] != 1 or sorted(qs) != list(qs):
            raise ProfileError(f"{where}: quantiles must rise from 0 to 1, one value each")
    return Distribution(str(kind), params, str(spec.get("source", "")))
