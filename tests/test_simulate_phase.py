"""Where a simulated strategy's listings fall: a poll's cycle and a hybrid's sweep each start at
the phase drawn from the strategy's seed and its own interval (``bench.scenario.seeds.poll_phase``,
as the live poller draws it), so the simulator and a live run agree on when the first listing is."""

from __future__ import annotations

import pytest

from bench.scenario.seeds import WRITER_LEAD_S, poll_phase, strategy_seed
from bench.scenario.spec import HybridStrategy, PollStrategy, load_scenario
from bench.simulate.models import HybridModel, PollModel
from bench.simulate.runner import SimulationOptions, cycle_interval_s, make_strategy_model, prepare


def test_each_listing_schedule_starts_at_the_phase_of_its_own_interval() -> None:
    scenario = load_scenario("monthly")  # polls every 60 s, 10 s, 1 s, two event routes, a hybrid
    setup = prepare(scenario, SimulationOptions(days=0.01))
    checked = set()
    for index, spec in enumerate(scenario.strategies):
        model = make_strategy_model(setup, index)
        seed = strategy_seed(scenario.seed, index, 0)
        if isinstance(spec, HybridStrategy):
            assert isinstance(model, HybridModel)
            first, interval = model.sweep.times[0], spec.sweep_interval_s
        elif isinstance(spec, PollStrategy):
            assert isinstance(model, PollModel)
            first, interval = model.ticks.times[0], spec.interval_s
        else:
            continue
        assert first == pytest.approx(-WRITER_LEAD_S + poll_phase(seed, interval)), spec.name
        checked.add(spec.kind)
    assert checked == {"poll", "hybrid"}


def test_only_a_strategy_that_lists_has_a_cycle_interval() -> None:
    intervals = {s.name: cycle_interval_s(s) for s in load_scenario("monthly").strategies}
    assert intervals == {
        "poll-1min": 60.0,
        "poll-10s": 10.0,
        "poll-1s": 1.0,
        "s3-lambda": None,
        "s3-sqs-lambda": None,
        "hybrid": 3600.0,
    }
