"""The uncertain assumptions behind every cost figure, each with its interval and source, and the
AWS limits a configuration must respect (``bench/cost/pricing/assumptions.toml``)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from bench.errors import InputError, parse_nested, read_input_text

Value = float | str


@dataclass(frozen=True)
class Assumption:
    """One uncertain input: its point value and the interval (or the set of values) it is swept over."""

    name: str
    point: Value
    low: Value
    high: Value
    unit: str
    kind: str  # "assumption" or "documented"
    source: str
    values: tuple[Value, ...] = ()
    relative: bool = False
    minimum: float | None = None  # the interval never reaches beyond these (Lambda memory: 128-10,240)
    maximum: float | None = None

    @property
    def discrete(self) -> bool:
        return bool(self.values)

    def around(self, point: Value) -> Assumption:
        """The interval centred on a user's own point: it keeps its shape relative to the point
        (30 days in 7-90 becomes 90 days in 21-270), within ``minimum``/``maximum``. A discrete
        set keeps its values with the user's point among them."""
        if self.discrete:
            values = self.values if point in self.values else (*self.values, point)
            return Assumption(**{**self.__dict__, "point": point, "values": values})
        base = float(self.point)
        p = float(point)
        if base:
            low, high = p * (float(self.low) / base), p * (float(self.high) / base)
        else:  # an interval around zero: shifted, not scaled
            low, high = p + float(self.low), p + float(self.high)
        if self.minimum is not None:
            low, high = max(low, self.minimum), max(high, self.minimum)
        if self.maximum is not None:
            low, high = min(low, self.maximum), min(high, self.maximum)
        return Assumption(**{**self.__dict__, "point": p, "low": min(low, p), "high": max(high, p)})

    def ends(self) -> tuple[Value, ...]:
        """The values a one-at-a-time check tries: the interval's ends, or every other value."""
        if self.discrete:
            return tuple(v for v in self.values if v != self.point)
        return tuple(v for v in (self.low, self.high) if v != self.point)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "point": self.point,
            "unit": self.unit,
            "kind": self.kind,
            "source": self.source,
        }
        if self.discrete:
            out["values"] = list(self.values)
        else:
            out["low"], out["high"] = self.low, self.high
        return out


@dataclass(frozen=True)
class Limit:
    value: float
    source: str
    as_of: str


@dataclass(frozen=True)
class Assumptions:
    items: Mapping[str, Assumption]
    limits: Mapping[str, Limit]
    defaults: Mapping[str, Any]
    as_of: str
    path: str

    def __getitem__(self, name: str) -> Assumption:
        try:
            return self.items[name]
        except KeyError:
            raise KeyError(f"no assumption {name!r} in {self.path}") from None

    def limit(self, name: str) -> float:
        try:
            return self.limits[name].value
        except KeyError:
            raise KeyError(f"no limit {name!r} in {self.path}") from None

    def fixed(self, names: Iterable[str]) -> Assumptions:
        """The same assumptions with ``names`` held at their points (what a user pinned)."""
        gone = set(names)
        items = {n: (_held(a) if n in gone else a) for n, a in self.items.items()}
        return Assumptions(items, self.limits, self.defaults, self.as_of, self.path)

    def with_items(self, extra: Mapping[str, Assumption]) -> Assumptions:
        """The same assumptions and ``extra`` (the choices a user left to the defaults)."""
        return Assumptions({**self.items, **extra}, self.limits, self.defaults, self.as_of, self.path)

    def with_points(self, points: Mapping[str, Value]) -> Assumptions:
        """The same intervals around the user's own points (``--cpu-s``, ``--memory``, ...)."""
        items = {n: (a.around(points[n]) if n in points else a) for n, a in self.items.items()}
        return Assumptions(items, self.limits, self.defaults, self.as_of, self.path)


def _held(a: Assumption) -> Assumption:
    """``a`` with no interval: its point alone."""
    values = (a.point,) if a.discrete else ()
    return Assumption(**{**a.__dict__, "low": a.point, "high": a.point, "values": values})


def load_assumptions(path: str | Path | None = None) -> Assumptions:
    """The bundled assumptions, or a TOML file of the same shape."""
    if path is None:
        return _bundled()
    text = read_input_text(path, "assumptions")
    return _parse(text, str(path))


@cache
def _bundled() -> Assumptions:
    text = (resources.files("bench.cost") / "pricing" / "assumptions.toml").read_text(encoding="utf-8")
    return _parse(text, "bench/cost/pricing/assumptions.toml")


def _value(raw: Any) -> Value:
    return raw if isinstance(raw, str) else float(raw)


def _parse(text: str, origin: str) -> Assumptions:
    try:
        data = parse_nested(tomllib.loads, text, origin, "an assumptions file")
        items = {}
        for name, a in data["assumptions"].items():
            values = tuple(_value(v) for v in a.get("values", ()))
            point = _value(a["point"])
            low = _value(a["low"]) if "low" in a else (values[0] if values else point)
            high = _value(a["high"]) if "high" in a else (values[-1] if values else point)
            if not values and not (float(low) <= float(point) <= float(high)):
                raise ValueError(f"assumptions.{name}: point {point} outside [{low}, {high}]")
            if values and point not in values:
                raise ValueError(f"assumptions.{name}: point {point!r} not among {values}")
            items[name] = Assumption(
                name,
                point,
                low,
                high,
                str(a["unit"]),
                str(a["kind"]),
                str(a["source"]),
                values,
                bool(a.get("relative", False)),
                float(a["min"]) if "min" in a else None,
                float(a["max"]) if "max" in a else None,
            )
        limits = {
            name: Limit(float(v["value"]), str(v["source"]), str(v["as_of"]))
            for name, v in data["limits"].items()
        }
        return Assumptions(items, limits, dict(data.get("defaults", {})), str(data.get("as_of", "")), origin)
    except InputError:
        raise  # already names the file (nested too deep)
    except (KeyError, TypeError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        raise InputError(f"{origin}: malformed assumptions ({exc})") from exc
