"""How Lambda scales the work it is given, as AWS documents it: pure rules, no threads, no clock.

The local runtime (``sqs_mapping``, ``async_invoke``) and the simulator both step these rules,
so both scale alike. Every figure names its source; what AWS does not document is labelled an
assumption (``Fact.documented`` is False) and can be changed per profile.

Sources (read 2026-11-27):

* SQS_SCALING: AWS Lambda Developer Guide, "Configuring scaling behavior for SQS event source
  mappings" (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html): for standard
  queues, when messages are available Lambda starts with five concurrent batches, adds up to 300
  more per minute while messages remain, processes at most 1,000 batches at once, and at low
  traffic scales back to five, or as few as two (not with maximum concurrency set).
* LAMBDA_SCALING: AWS Lambda Developer Guide, "Lambda scaling behavior"
  (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html): each function scales by
  up to 1,000 execution environments every 10 seconds, up to the account's concurrency quota
  (1,000 by default per Region, "Lambda quotas"), or the function's reserved concurrency; beyond
  that, requests are throttled (429) and an asynchronous invocation goes back to Lambda's internal
  queue and is retried for up to 6 hours ("Asynchronous invocation").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SQS_SCALING = (
    "AWS Lambda Developer Guide, 'Configuring scaling behavior for SQS event source mappings' "
    "(docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html), read 2026-11-27"
)
LAMBDA_SCALING = (
    "AWS Lambda Developer Guide, 'Lambda scaling behavior' and 'Lambda quotas' "
    "(docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html), read 2026-11-27"
)


@dataclass(frozen=True)
class Fact:
    """A number the rules use, where it comes from, and whether AWS documents it."""

    value: float
    source: str
    documented: bool = True

    def as_dict(self) -> dict[str, object]:
        label = self.source if self.documented else f"assumption: {self.source}"
        return {"value": self.value, "source": label}


@dataclass(frozen=True)
class SqsScalingRules:
    """The SQS event source mapping's scaling for a standard queue (its default, not provisioned, mode)."""

    start_batches: Fact = Fact(5, SQS_SCALING)
    added_per_minute: Fact = Fact(300, SQS_SCALING)
    max_batches: Fact = Fact(1000, SQS_SCALING)
    low_traffic_batches: Fact = Fact(2, SQS_SCALING)
    quiet_before_low_s: Fact = Fact(
        60.0, "AWS does not say when it drops to two pollers; taken as after a minute without messages", False
    )
    scale_back_headroom: Fact = Fact(
        0.7,
        "AWS does not say how far or how fast it scales back while traffic goes on; taken as, after "
        "a minute in which the queue kept up, to the batches in use in that minute over 0.7 (each "
        "at most 70% busy, as poll workers are sized), never below five",
        False,
    )
    account_limit: Fact = Fact(1000, LAMBDA_SCALING)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name).as_dict() for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class LambdaScalingRules:
    """How far and how fast a function's concurrency grows (asynchronous and synchronous invokes)."""

    account_limit: Fact = Fact(1000, LAMBDA_SCALING)
    added_per_10s: Fact = Fact(1000, LAMBDA_SCALING)
    max_event_age_s: Fact = Fact(21600, LAMBDA_SCALING)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name).as_dict() for name in self.__dataclass_fields__}


SQS_RULES = SqsScalingRules()
LAMBDA_RULES = LambdaScalingRules()


def function_concurrency_limit(
    reserved_concurrency: int | None, rules: LambdaScalingRules = LAMBDA_RULES
) -> int:
    """How many invocations of one function may run at once: its reserved concurrency if set,
    else the account's limit (shared with every other function; here the function is alone)."""
    account = int(rules.account_limit.value)
    return account if reserved_concurrency is None else min(int(reserved_concurrency), account)


def sqs_mapping_cap(
    maximum_concurrency: int | None = None,
    reserved_concurrency: int | None = None,
    rules: SqsScalingRules = SQS_RULES,
) -> int:
    """The most batches the mapping ever runs at once: 1,000, and no more than the mapping's
    maximum concurrency, the function's reserved concurrency or the account limit."""
    caps = [int(rules.max_batches.value), int(rules.account_limit.value)]
    if maximum_concurrency is not None:
        caps.append(int(maximum_concurrency))
    if reserved_concurrency is not None:
        caps.append(int(reserved_concurrency))
    return min(caps)


@dataclass(frozen=True)
class SqsScalingState:
    """Where the mapping stands: concurrent batches allowed now, and how long the queue was quiet."""

    batches: int
    quiet_s: float = 0.0


def sqs_start(cap: int, rules: SqsScalingRules = SQS_RULES) -> SqsScalingState:
    """Messages became available: five concurrent batches (fewer if capped lower)."""
    return SqsScalingState(min(cap, int(rules.start_batches.value)))


def sqs_step(
    state: SqsScalingState,
    *,
    messages_remain: bool,
    in_use: float,
    received: bool,
    elapsed_s: float,
    cap: int,
    rules: SqsScalingRules = SQS_RULES,
) -> SqsScalingState:
    """One scaling decision, taken once a minute (``elapsed_s`` since the last).

    ``messages_remain``: messages were still waiting at the end of the period (scale up by up to
    300, to the cap); else the mapping scales back towards the batches ``in_use`` in the period
    (their mean, with headroom: an assumption), never below five; ``received`` says whether any
    message came at all (the quiet time before the low-traffic optimisation counts from the last).
    """
    floor = min(cap, int(rules.start_batches.value))
    quiet = 0.0 if received else state.quiet_s + elapsed_s
    if messages_remain:
        grown = state.batches + int(rules.added_per_minute.value * elapsed_s / 60.0)
        return SqsScalingState(min(cap, max(grown, floor)), quiet)
    needed = math.ceil(in_use / rules.scale_back_headroom.value - 1e-9)
    return SqsScalingState(max(floor, min(state.batches, needed)), quiet)


def sqs_idle_pollers(
    state: SqsScalingState,
    *,
    maximum_concurrency_set: bool,
    cap: int,
    rules: SqsScalingRules = SQS_RULES,
) -> int:
    """How many pollers long-poll an idle queue: the current level, or two once the queue has been
    quiet long enough (AWS's low-traffic optimisation, which maximum concurrency turns off)."""
    if not maximum_concurrency_set and state.quiet_s >= rules.quiet_before_low_s.value:
        return min(cap, int(rules.low_traffic_batches.value))
    return state.batches


def empty_receives_per_s(idle_pollers: float, rate_per_s: float, wait_s: float) -> float:
    """Empty long polls a second: each idle poller waits ``wait_s`` (at least 1 s: short polling
    is counted as one-second polls) and comes back empty unless a message arrives meanwhile.

    Assumption: messages arrive as a Poisson stream shared evenly by the idle pollers, so a poll
    is empty with probability ``exp(-rate * wait / pollers)``.
    """
    if idle_pollers <= 0:
        return 0.0
    wait = max(1.0, float(wait_s))
    return idle_pollers / wait * math.exp(-max(0.0, rate_per_s) * wait / idle_pollers)


def utilisation(rate_per_s: float, service_s: float, servers: float) -> float:
    """Offered load per server: ``rate x service time / servers``; at 1 or more the queue grows
    without bound for as long as the load lasts. No servers means nothing is ever served."""
    work = max(0.0, rate_per_s) * max(0.0, service_s)
    if servers <= 0:
        return math.inf if work > 0 else 0.0
    return work / servers
