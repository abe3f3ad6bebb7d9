"""One decision per prefix (or per bucket), run on a ``concurrent.futures`` executor: a local process
pool over every core by default, or any executor with ``submit`` (Dask's ``Client.get_executor()``
runs the same tasks on a cluster). Each prefix becomes what ``pve decide`` takes: its daily count
(the real month is billed from it), its 24 hourly numbers, and its busiest minute as the rate
feasibility and latency are judged at."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from bench.cost.deployments import row
from bench.decide.rank import Decision, OptionResult
from bench.traffic.profile import PrefixProfile

Progress = Callable[[int, int, str], None]  # (done, total, prefix just decided)


@dataclass(frozen=True)
class DecideSettings:
    """What every prefix is judged with: the same requirements and prices on each side."""

    workload: Mapping[str, Any] = field(default_factory=dict)  # Workload's fields (cpu_s, latency_p95_s, ...)
    latency_profile: str = "aws"
    assumptions: str | None = None
    pricing: str | None = None
    samples: int = 32
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        work = {k: (v.as_dict() if hasattr(v, "as_dict") else v) for k, v in self.workload.items()}
        return {
            "workload": work,
            "latency_profile": self.latency_profile,
            "assumptions": self.assumptions,
            "pricing": self.pricing,
            "samples": self.samples,
            "seed": self.seed,
        }


def workload_fields(profile: PrefixProfile, settings: DecideSettings) -> dict[str, Any]:
    """The work per file as ``pve decide`` takes it, with the mean file size when the source records
    sizes (else the flag's)."""
    fields = dict(settings.workload)
    if profile.sizes.mean is not None:
        fields["file_size_mb"] = profile.sizes.mean / 1e6
    return fields


def decide_prefix(profile: PrefixProfile, settings: DecideSettings) -> Decision:
    """One prefix through ``bench.decide_workload`` (a task: it runs in a worker): the observed daily
    count billed, the busiest minute as the rate feasibility and latency are judged at."""
    from bench.cost.assumptions import load_assumptions
    from bench.cost.model import load_pricing
    from bench.decide.api import decide_workload

    fields = workload_fields(profile, settings)
    return decide_workload(
        profile.files_per_day,
        fields.pop("requirements", None),
        peak_files_per_day=profile.peak_files_per_day,
        profile=settings.latency_profile,
        assumptions=load_assumptions(settings.assumptions),
        pricing=load_pricing(settings.pricing),
        samples=settings.samples,
        seed=settings.seed,
        **fields,
    )


def polls(option: OptionResult) -> bool:
    """The option finds files by listing (its deployment kind's row says so; an unknown kind raises)."""
    return row(option.kind).polls


@dataclass(frozen=True)
class PrefixDecision:
    profile: PrefixProfile
    decision: Decision

    def _best(self, polling: bool) -> OptionResult | None:
        eligible = [o for o in self.decision.options if o.eligible and polls(o) == polling]
        return min(eligible, key=lambda o: o.monthly_point, default=None)

    @property
    def polling_options(self) -> list[OptionResult]:
        """Every option that finds files by listing (feasible or not), in the decision's order."""
        return [o for o in self.decision.options if polls(o)]

    @property
    def best_polling(self) -> OptionResult | None:
        return self._best(True)

    @property
    def best_events(self) -> OptionResult | None:
        return self._best(False)

    @property
    def recommended(self) -> OptionResult | None:
        return next((o for o in self.decision.options if o.name == self.decision.recommendation), None)

    @property
    def verdict(self) -> str:
        best = self.recommended
        if best is None:
            return "nothing meets the requirements"
        if polls(best):
            return "keep polling"
        return "use events" if self.best_polling is not None else "use events (polling cannot meet them)"

    @property
    def saving(self) -> float | None:
        """Dollars a month events save against the cheapest polling that meets the same requirements
        (negative: polling is cheaper; None: one side cannot meet them)."""
        poll, events = self.best_polling, self.best_events
        if poll is None or events is None:
            return None
        return poll.monthly_point - events.monthly_point

    def sort_key(self) -> tuple[int, float]:
        order = {"use events (polling cannot meet them)": 0, "use events": 1, "keep polling": 2}
        saving = self.saving
        return order.get(self.verdict, 3), -(saving if saving is not None else math.inf)

    def as_dict(self) -> dict[str, Any]:
        best = self.recommended
        return {
            "bucket": self.profile.bucket,
            "prefix": self.profile.prefix,
            "verdict": self.verdict,
            "recommendation": self.decision.recommendation,
            "why": self.decision.why,
            "overturned_by": list(self.decision.overturned_by),
            "monthly_usd": None
            if best is None
            else {"point": best.monthly_point, "low": best.monthly_low, "high": best.monthly_high},
            "p95_s": None if best is None else best.latency.p95,
            "best_polling": None if self.best_polling is None else self.best_polling.name,
            "best_events": None if self.best_events is None else self.best_events.name,
            "saving_usd_per_month": self.saving,
            "traffic": self.profile.as_dict(),
            "options": [o.as_dict() for o in self.decision.options],
        }


def default_executor(workers: int | None = None) -> ProcessPoolExecutor:
    """A process per core (prefixes are independent and the ranking is CPU-bound numpy)."""
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)


def decide_prefixes(
    profiles: Sequence[PrefixProfile],
    settings: DecideSettings,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> list[PrefixDecision]:
    """Every prefix decided on ``executor`` (default: a process pool over every core), ranked: the
    prefixes that should use events first, by what they save."""
    own = executor is None
    pool = default_executor() if executor is None else executor
    try:
        futures: dict[Future[Decision], PrefixProfile] = {
            pool.submit(decide_prefix, p, settings): p for p in profiles
        }
        done: list[PrefixDecision] = []
        for future in as_completed(futures):
            profile = futures[future]
            done.append(PrefixDecision(profile, future.result()))
            if progress is not None:
                progress(len(done), len(futures), profile.name)
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
    return sorted(done, key=PrefixDecision.sort_key)


def summary_line(decisions: Sequence[PrefixDecision]) -> str:
    events = sum(d.verdict.startswith("use events") for d in decisions)
    polling = sum(d.verdict == "keep polling" for d in decisions)
    neither = len(decisions) - events - polling
    tail = f"; {neither} meet the requirements with no option" if neither else ""
    return f"{events} prefix(es) should use events, {polling} can keep polling{tail}"
