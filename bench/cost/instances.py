"""Sizing an EC2 poller from a table of instance types: the cheapest type and count that keeps CPU,
memory and network each at or under a target share at the busiest hour, or why none does.

The table (vCPUs, memory, burstable baseline, baseline network, price) lives in the pricing TOML
(``[instances.*]``) with its sources. Pure arithmetic; ``monthly_cost`` and the feasibility checks
call it, so the bill and the verdict agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

TARGET = 0.7  # assumption: size so that CPU, memory and network each stay at or under 70% busy
MAX_INSTANCES = 64  # assumption: beyond this a fleet of pollers is its own project (sharding the prefix)
PROCESS_MB = 150.0  # assumption: a Python process with boto3 and its thread pool, resident
SEEN_KEY_BYTES = 120.0  # assumption: one key in a seen-set (a Python str in a set), bytes


@dataclass(frozen=True)
class InstanceType:
    """One EC2 instance type a poller can be sized from (``[instances.*]`` in the pricing table)."""

    name: str
    vcpus: int
    memory_gib: float
    cpu_baseline: float  # share of each vCPU sustained without surplus credits (1.0: not burstable)
    network_gbps: float  # baseline bandwidth
    price: str  # pricing key of an instance-hour
    surplus_price: str | None = None  # pricing key of a vCPU-hour above the baseline (unlimited mode)


@dataclass(frozen=True)
class Demand:
    """What a poller needs at its busiest hour."""

    vcpus: float  # CPU busy, in vCPUs (processing and listing)
    network_gbps: float  # bytes moved (GET in, PUT out), in Gbps
    shared_mb: float  # memory split among the instances (files in flight)
    per_instance_mb: float  # memory every instance holds (process, seen-set)
    min_count: int = 1


@dataclass(frozen=True)
class Sizing:
    instance: str
    count: int
    cpu: float  # utilisation at the busiest hour, 0..1
    memory: float
    network: float
    feasible: bool = True
    why_not: str = ""


def _fits(spec: InstanceType, d: Demand, target: float) -> int | None:
    """The fewest instances of ``spec`` that meet the target, or None."""
    memory_mb = spec.memory_gib * 1024.0
    room = target * memory_mb - d.per_instance_mb
    if room <= 0:
        return None
    need = max(
        d.min_count,
        math.ceil(d.vcpus / (target * spec.vcpus) - 1e-9),
        math.ceil(d.network_gbps / (target * spec.network_gbps) - 1e-9),
        math.ceil(d.shared_mb / room - 1e-9),
        1,
    )
    return need if need <= MAX_INSTANCES else None


def hourly_usd(spec: InstanceType, count: int, vcpus: float, prices: Mapping[str, float]) -> float:
    """Instance-hours plus, for a burstable type, the surplus CPU above its baseline."""
    surplus = max(0.0, vcpus - count * spec.vcpus * spec.cpu_baseline)
    extra = surplus * prices[spec.surplus_price] if spec.surplus_price and surplus else 0.0
    return count * prices[spec.price] + extra


def size_poller(
    demand: Demand,
    table: Mapping[str, InstanceType],
    prices: Mapping[str, float],
    *,
    only: str | None = None,
    extra_hourly: float = 0.0,
    target: float = TARGET,
) -> Sizing:
    """The cheapest (type, count) for ``demand``: instance-hours, surplus CPU and ``extra_hourly``
    per instance (its public IPv4, its root volume). ``only`` pins the type."""
    best: tuple[float, InstanceType, int] | None = None
    for spec in table.values():
        if only is not None and spec.name != only:
            continue
        count = _fits(spec, demand, target)
        if count is None:
            continue
        usd = hourly_usd(spec, count, demand.vcpus, prices) + count * extra_hourly
        if best is None or usd < best[0]:
            best = (usd, spec, count)
    if best is None:
        largest = max(
            (s for s in table.values() if only is None or s.name == only),
            key=lambda s: (s.memory_gib, s.network_gbps),
        )
        return Sizing(
            largest.name,
            MAX_INSTANCES,
            demand.vcpus / (MAX_INSTANCES * largest.vcpus),
            (demand.per_instance_mb + demand.shared_mb / MAX_INSTANCES) / (largest.memory_gib * 1024),
            demand.network_gbps / (MAX_INSTANCES * largest.network_gbps),
            False,
            _why(demand, largest, target),
        )
    _, spec, count = best
    return Sizing(
        spec.name,
        count,
        demand.vcpus / (count * spec.vcpus),
        (demand.per_instance_mb + demand.shared_mb / count) / (spec.memory_gib * 1024),
        demand.network_gbps / (count * spec.network_gbps),
    )


def _why(d: Demand, spec: InstanceType, target: float) -> str:
    if d.per_instance_mb >= target * spec.memory_gib * 1024:
        return (
            f"each poller holds {d.per_instance_mb:,.0f} MB (process and seen-set), over {target:.0%} of the "
            f"largest instance's {spec.memory_gib:g} GiB"
        )
    return (
        f"no instance type keeps CPU ({d.vcpus:.3g} vCPUs), memory and network ({d.network_gbps:.3g} Gbps) "
        f"under {target:.0%} with {MAX_INSTANCES} instances or fewer"
    )
