"""One number, one source: the time of a ListObjectsV2 page is the same in the cost model
(``pve decide``, ``pve cost``: assumptions.toml's ``list_s_per_page``) and in the ``aws`` latency
profile (live runs' reference and ``pve simulate``)."""

from __future__ import annotations

import pytest

from bench.cost.assumptions import load_assumptions
from bench.simulate.runner import SimulationOptions, model_inputs
from event_handlers.runtime.latency import load_profile


def test_aws_profile_lists_a_page_in_the_time_the_cost_model_assumes() -> None:
    item = load_assumptions()["list_s_per_page"]
    listing = load_profile("aws").extra["listing"]
    assert listing["per_page_s"] == pytest.approx(float(item.point))
    assert list(listing["per_page_range_s"]) == pytest.approx([float(item.low), float(item.high)])
    assert "assumptions.toml" in listing["source"]


def test_simulation_under_the_aws_profile_lists_at_the_cost_models_point() -> None:
    _, listing = model_inputs(load_profile("aws"), SimulationOptions())
    assert listing.per_page_s == pytest.approx(float(load_assumptions()["list_s_per_page"].point))
