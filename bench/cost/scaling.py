"""How many servers each strategy runs at a given load, and whether they keep up: pure sizing.

* ``sqs_mapping_load``: the SQS event source mapping at a steady rate, as AWS scales it
  (``event_handlers.runtime.scaling``): its concurrent batches, the pollers left idle, and the
  receives they make a second, idle long polls included - what the SQS bill counts.
* ``poll_sizing``: the workers (threads) and instances a polling deployment needs to keep up.
* ``stability``: utilisation = rate x service time / servers; at 1 or more the backlog, and so the
  latency, grows without bound for as long as the load lasts.

The simulator, the live harness and ``pve decide`` all call these, so they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench.cost.model import INSTANCES
from event_handlers.runtime.scaling import (
    SQS_RULES,
    SqsScalingRules,
    empty_receives_per_s,
    sqs_mapping_cap,
    utilisation,
)

TARGET_UTILISATION = 0.7  # assumption: size workers so that each is busy at most 70% of the time
UNBOUNDED = "grows without bound"


@dataclass(frozen=True)
class Stability:
    """Whether a strategy's servers keep up with the offered load, over a whole run."""

    utilisation: float
    servers: float

    @property
    def stable(self) -> bool:
        return self.utilisation < 1.0

    def fields(self) -> dict[str, Any]:
        """The results model's fields for it (``StrategyResult.stable`` and its neighbours)."""
        u = self.utilisation
        return {
            "stable": self.stable,
            "utilisation": None if math.isinf(u) else round(u, 4),
            "servers": None if math.isinf(self.servers) else self.servers,
            "latency_note": None if self.stable else UNBOUNDED,
        }


def stability(rate_per_s: float, service_s: float, servers: float) -> Stability:
    return Stability(utilisation(rate_per_s, service_s, servers), servers)


@dataclass(frozen=True)
class SqsMappingLoad:
    """The mapping at a steady load: batches in flight, idle pollers, receives a second."""

    batches: int  # concurrent batches (pollers) AWS settles at
    in_use: float  # batches busy on average (rate x service time)
    idle_pollers: float
    receives_per_s: float  # every ReceiveMessage: those that return messages and the empty ones
    empty_receives_per_s: float
    cap: int

    @property
    def stability(self) -> Stability:
        return Stability(self.in_use / self.cap if self.cap else math.inf, self.cap)


def sqs_mapping_load(
    rate_per_s: float,
    service_s: float,
    *,
    batch_size: int = 10,
    batching_window_s: float = 0.0,
    wait_time_s: int = 20,
    maximum_concurrency: int | None = None,
    reserved_concurrency: int | None = None,
    rules: SqsScalingRules = SQS_RULES,
) -> SqsMappingLoad:
    """The SQS mapping at ``rate_per_s`` messages a second of ``service_s`` each.

    Batches in use are the messages' work (Little's law: rate x service time); the mapping settles
    where each is at most 70% busy (its scale-back assumption), never below five (or its cap). A
    batch holds what arrives in its batching window (one message with no window at low rates), up
    to ``batch_size``. Receives: one per batch (with a window, one per message that ends a long
    poll early, as the simulator counts them), plus the idle pollers' empty long polls. With no
    messages at all, AWS's low-traffic optimisation keeps two pollers (five with maximum
    concurrency set).
    """
    cap = sqs_mapping_cap(maximum_concurrency, reserved_concurrency, rules)
    rate = max(0.0, rate_per_s)
    in_use = rate * max(0.0, service_s)
    floor = min(cap, int(rules.start_batches.value))
    if rate == 0.0:
        batches = floor
        idle = float(min(cap, int(rules.low_traffic_batches.value))) if maximum_concurrency is None else floor
    else:
        batches = min(cap, max(floor, math.ceil(in_use / rules.scale_back_headroom.value - 1e-9)))
        idle = max(0.0, batches - in_use)
    per_batch = min(float(batch_size), max(1.0, 1.0 + rate * batching_window_s))
    full = rate if batching_window_s > 0 else rate / per_batch
    empty = empty_receives_per_s(idle, rate, wait_time_s)
    return SqsMappingLoad(batches, in_use, idle, full + empty, empty, cap)


@dataclass(frozen=True)
class PollSizing:
    """A polling deployment sized for a rate: worker threads, and instances for their CPU."""

    workers: int
    instance: str
    instances: int
    utilisation: float  # per worker, at this many workers


def poll_workers(rate_per_s: float, service_s: float, target: float = TARGET_UTILISATION) -> int:
    """Threads that keep each worker at most ``target`` busy (at least one)."""
    if not 0 < target <= 1:
        raise ValueError(f"target utilisation must be in (0, 1], got {target}")
    return max(1, math.ceil(max(0.0, rate_per_s) * max(0.0, service_s) / target - 1e-9))


def poll_sizing(
    rate_per_s: float,
    service_s: float,
    *,
    cpu_share: float = 0.5,
    instance: str = "t4g.nano",
    target: float = TARGET_UTILISATION,
) -> PollSizing:
    """Workers for the rate, and enough ``instance``s for the CPU they use (``cpu_share`` of the
    per-file time is CPU; the rest waits on S3). The instance count matches ``ec2_cost``'s."""
    spec = INSTANCES.get(instance)
    if spec is None:
        raise ValueError(f"unknown instance {instance!r}; known: {', '.join(INSTANCES)}")
    workers = poll_workers(rate_per_s, service_s, target)
    demand = max(0.0, rate_per_s) * max(0.0, service_s) * cpu_share  # vCPUs kept busy
    instances = max(1, math.ceil(demand / spec.vcpus - 1e-12))
    return PollSizing(workers, instance, instances, utilisation(rate_per_s, service_s, workers))
