"""``bench.Requirements``: one set of guarantees for every option, its refusals of bad input, and the
public entry point that decides a workload (a day's count and its hourly shape) against it."""

from __future__ import annotations

import math

import pytest

from bench import Requirements, RequirementsError, decide_workload
from bench.cost.assumptions import load_assumptions
from bench.cost.fair import choice_items, requirement_deployment
from bench.cost.model import Deployment, files_per_month, monthly_cost


def test_what_a_user_sets_is_pinned_and_the_rest_are_choices_a_range_sweeps() -> None:
    req = Requirements.build(network="nat", latency_p95_s=5)
    assert req.pinned == {"network", "latency_p95_s"}
    assert "network" not in req.unpinned_choices()
    assert set(choice_items(req)) == {"inputs", "availability", "encryption", "exactly_once"}
    assert Requirements().latency_p95_s == 60  # the default target, stated in every output


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"network": "vpn"}, "network"),
        ({"encryption": "rot13"}, "encryption"),
        ({"availability": "three"}, "availability"),
        ({"log_bytes_per_file": math.nan}, "log_bytes_per_file"),
        ({"keep_days": -1}, "keep_days"),
        ({"latency_p95_s": 0}, "latency_p95_s"),
        ({"inputs": "delete", "keep_days": 30}, "inputs"),  # deleted and kept: a contradiction
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_requirements_name_their_field(given: dict, field: str) -> None:
    with pytest.raises(RequirementsError) as raised:
        Requirements.build(**given)
    assert raised.value.field == field
    assert field in str(raised.value)


def test_a_scenario_table_names_the_field_it_got_wrong() -> None:
    with pytest.raises(RequirementsError, match=r"\[requirements\]\.network"):
        Requirements.from_mapping({"network": "carrier-pigeon"})
    assert Requirements.from_mapping({"inputs": "delete"}).keep_days == 0


def test_the_same_requirement_adds_its_lines_to_every_kind() -> None:
    """SSE-KMS without bucket keys: a Decrypt per GET and a GenerateDataKey per PUT, on every option
    ($0.03 per 10,000); the inbox's archive COPY adds two more per file. 1,000 files a day: 30,416.7
    files, 60,833.3 requests = $0.1825 (+ the key's $1)."""
    req = Requirements.build(encryption="sse-kms", inputs="delete")
    n = files_per_month(1000)
    for kind in ("s3-lambda", "s3-sqs-lambda", "poll-ec2", "poll-scheduled-lambda", "hybrid"):
        d = requirement_deployment(Deployment.of(kind, cursor="inbox"), req, file_size_mb=0.1)  # type: ignore[arg-type]
        lines = monthly_cost(d, n).components
        assert lines["kms.requests"] == pytest.approx(2 * n * 0.03 / 10_000), kind
        assert lines["kms.key"] == pytest.approx(1.0), kind


def test_two_zones_mean_two_instances_and_a_nat_gateway_in_each() -> None:
    """NAT: $0.045 an hour per zone, 730 h, two zones = $65.70, plus $0.045 a GB through it."""
    req = Requirements.build(network="nat", availability="multi-az")
    d = requirement_deployment(Deployment.of("poll-ec2", cursor="inbox"), req, file_size_mb=0.1)
    lines = monthly_cost(d, files_per_month(1000)).components
    assert lines["vpc.nat_gateway_hours"] == pytest.approx(2 * 730 * 0.045)
    assert "ec2.public_ipv4" not in lines
    gb = files_per_month(1000) * (0.1 * 2 / 1000 + 200 / 1e9)
    assert lines["vpc.nat_gateway_gb"] == pytest.approx(gb * 0.045)
    single = requirement_deployment(
        Deployment.of("poll-ec2", cursor="inbox"), Requirements.build(availability="single"), file_size_mb=0.1
    )
    assert monthly_cost(single, 1000).components["ec2.instance"] * 2 == pytest.approx(
        monthly_cost(d, 1000).components["ec2.instance"]
    )


def test_a_poller_that_cannot_hold_its_seen_set_is_sized_up_or_cannot_run() -> None:
    """1M files a day kept 30 days is 30M keys, about 3.6 GB in a seen-set: a t4g.nano (0.5 GiB)
    cannot hold it; the sizing picks an 8 GiB type, and says why when none fits."""
    from bench.cost.feasibility import check
    from bench.cost.model import load_pricing, poller_sizing

    d = Deployment.of("poll-ec2", cursor="seen-set", instance="auto", retention_days=30)
    sizing = poller_sizing(d, files_per_month(1_000_000), load_pricing())
    assert sizing.instance in ("t4g.large", "m7g.large")
    huge = Deployment.of("poll-ec2", cursor="seen-set", instance="auto", retention_days=365)
    assert "seen-set" in check(huge, 1_000_000).reason


def test_a_users_own_point_centres_its_interval() -> None:
    a = load_assumptions()
    assert a["memory_mb"].around(10240).low == 5120
    assert a["memory_mb"].around(10240).high == 10240
    assert a["retention_days"].around(90).low == pytest.approx(21)


def test_decide_workload_judges_a_day_at_its_busiest_hour() -> None:
    """The same 100,000 files a day, evenly or all in one hour: the busiest hour (2.4M a day) sizes
    the pollers and the seen-set poller cannot list it every minute."""
    shape = [0.0] * 23 + [1.0]
    even = decide_workload(100_000, samples=2)
    peaky = decide_workload(100_000, hourly=shape, samples=2)
    assert peaky.workload.peak == pytest.approx(2_400_000)
    assert even.workload.peak == pytest.approx(100_000)
    with pytest.raises(ValueError, match="hourly"):
        decide_workload(100_000, hourly=[1.0] * 23)


def test_a_scenario_states_its_requirements_and_a_simulation_prices_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``[requirements]`` in a scenario: a bad value is refused naming the field; a good one reaches
    the simulation's monthly projection (SSE-KMS: KMS requests on the bill)."""
    from bench.scenario.spec import ScenarioError, load_scenario, parse_scenario
    from bench.simulate.runner import SimulationOptions, simulate_scenario

    base = load_scenario("steady").model_dump(mode="json")
    with pytest.raises(ScenarioError, match="network"):
        parse_scenario({**base, "requirements": {"network": "carrier-pigeon"}}, "t.toml")
    scenario = parse_scenario(
        {**base, "latency_profile": "aws", "requirements": {"encryption": "sse-kms"}}, "t.toml"
    )
    assert scenario.required.encryption == "sse-kms"
    summary = simulate_scenario(scenario, tmp_path, SimulationOptions(days=0.01, files_per_day=10_000))
    cost = summary.strategies["s3-lambda"].cost
    assert cost is not None
    assert cost.monthly_usd is not None
    assert cost.monthly_usd["kms.requests"] > 0
