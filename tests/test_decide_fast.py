"""``pve decide`` with the configuration search, fast and with the same numbers: every
configuration of an option drawn at once (``sample_latencies``) gives, bit for bit, what drawing
each alone gives; a route's draws are sampled once per profile and seed; the command imports
neither pandas nor pyplot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bench.decide.latency as latency
import bench.decide.rank as rank
from bench.cost.assumptions import load_assumptions
from bench.cost.model import load_pricing
from bench.decide.latency import route_draws, sample_latencies, sample_latency, with_tail
from bench.decide.rank import Workload, decide_one, deployments_for
from bench.decide.search import Pins, candidates
from bench.requirements import Requirements
from event_handlers.runtime import latency as profiles
from event_handlers.runtime.latency import load_profile

REPO = Path(__file__).resolve().parents[1]
RATES = (1_000.0, 100_000.0, 10_000_000.0)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("option", range(len(rank.OPTION_NAMES)))
def test_every_configuration_drawn_at_once_is_what_one_at_a_time_draws(option: int, rate: float) -> None:
    profile, a, pricing = load_profile("aws"), load_assumptions(), load_pricing(None)
    start = deployments_for(Workload(rate), 50.0)[option]
    options = candidates(start, Pins())
    point, tail = with_tail(profile, a, rate / 86400.0)
    at_once = sample_latencies(options, rate, point, tail, n=2_000, seed=7, pricing=pricing)
    p95s = np.quantile(at_once, 0.95, axis=1)
    assert at_once.shape == (len(options), 2_000)
    for row, p95, d in zip(at_once, p95s, options, strict=True):
        alone = sample_latency(d, rate, point, tail, n=2_000, seed=7, pricing=pricing)
        assert np.array_equal(row, alone), d
        assert p95 == np.quantile(alone, 0.95)


def _one_at_a_time(ds, files_per_day, profile, tail, **kw):  # type: ignore[no-untyped-def]
    """The search as it was: each configuration drawn alone, the route's draws never cached."""
    return np.stack([sample_latency(d, files_per_day, profile, tail, **kw) for d in ds])


@pytest.mark.parametrize(
    "workload",
    [
        Workload(1_000.0),
        Workload(3_000_000.0, requirements=Requirements(latency_p95_s=1.0)),
        Workload(50_000.0, memory_mb=512, interval_s=30.0, peak_files_per_day=400_000.0),
        Workload(
            200_000.0, requirements=Requirements(latency_p95_s=None, inputs="delete"), cpu_s=0.5, arch="arm64"
        ),
    ],
)
def test_a_decision_is_the_same_as_the_search_one_configuration_at_a_time(
    workload: Workload, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = (load_profile("aws"), load_assumptions(), load_pricing(None))
    fast = decide_one(workload, *args, samples=8, seed=3)
    monkeypatch.setattr(rank, "sample_latencies", _one_at_a_time)
    monkeypatch.setattr(
        latency, "route_draws", lambda p, route, n, seed: profiles.route_delays(p, route, n, seed)
    )
    slow = decide_one(workload, *args, samples=8, seed=3)
    assert [o.as_dict() for o in fast.options] == [o.as_dict() for o in slow.options]
    assert fast.as_dict() == slow.as_dict()


def test_a_routes_draws_are_sampled_once_per_profile_and_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int, int]] = []
    real = profiles.route_delays

    def counted(profile, route, n, seed):  # type: ignore[no-untyped-def]
        calls.append((route, n, seed))
        return real(profile, route, n, seed)

    monkeypatch.setattr(profiles, "route_delays", counted)
    monkeypatch.setattr(latency, "_ROUTE_DRAWS", {})
    profile, a = load_profile("aws"), load_assumptions()
    point, _ = with_tail(profile, a, 0.0)
    first = route_draws(point, "s3-lambda", 500, 1)
    again = route_draws(with_tail(profile, a, 0.0)[0], "s3-lambda", 500, 1)  # an equal profile, rebuilt
    assert again is first
    assert len(calls) == 1
    assert not first.flags.writeable  # shared: nobody may change it in place
    assert np.array_equal(first, real(point, "s3-lambda", 500, 1))
    route_draws(point, "s3-lambda", 500, 2)
    route_draws(with_tail(profile, a, 0.0, "high")[0], "s3-lambda", 500, 1)  # another tail share
    assert len(calls) == 3


def test_pve_decide_imports_neither_pandas_nor_pyplot(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from bench.cli import main\n"
        f"code = main(['decide', '--files-per-day', '1000', '--quiet',"
        f" '--json', {str(tmp_path / 'd.json')!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "heavy = sorted(m for m in ('pandas', 'matplotlib.pyplot', 'scipy') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this tree, not whichever is installed
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip() == "0 []", done.stderr
    assert (tmp_path / "out" / "decide.png").stat().st_size > 10_000
