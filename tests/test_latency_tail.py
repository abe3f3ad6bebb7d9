"""The delivery tail and multi-leg routes: a rare minute-long delay shows in p99.9 and max, and a
route of several legs is the convolution of its legs, not the sum of their quantiles."""

from __future__ import annotations

import numpy as np
import pytest

from event_handlers.runtime.latency import (
    ProfileError,
    load_profile,
    parse_profile,
    route_delays,
    route_quantiles,
)


def test_the_aws_tail_is_visible_in_p999_and_max_not_in_p50() -> None:
    aws = load_profile("aws")
    s3 = aws.distribution("s3_to_lambda")
    body = s3.without_tail()
    assert s3.tail is not None
    assert 0 < s3.tail_probability < 0.01
    assert "minute or longer" in s3.tail.source
    assert "Assumption" in s3.tail.source
    # p50 barely moves; p99.9 moves from the body's ~2.6 s to the tail's minute
    assert s3.quantile(0.5) == pytest.approx(body.quantile(0.5), rel=0.01)
    assert body.quantile(0.999) < 3.0
    assert s3.quantile(0.999) >= 60.0 * 0.9
    draws = s3.sample(np.random.default_rng(1), 200_000)
    assert np.quantile(draws, 0.999) > 30.0
    assert draws.max() > 60.0
    assert np.mean(draws > 30.0) == pytest.approx(s3.tail_probability, rel=0.2)
    assert s3.mean() > body.mean()  # the tail adds to the mean


def test_the_exact_mixture_quantile_matches_sampling() -> None:
    s3 = load_profile("aws").distribution("s3_to_lambda")
    draws = s3.sample(np.random.default_rng(2), 2_000_000)  # 4,000 of them in the tail
    for q, tolerance in ((0.5, 0.01), (0.99, 0.01), (0.999, 0.1)):
        assert s3.quantile(q) == pytest.approx(float(np.quantile(draws, q)), rel=tolerance), q


def test_a_two_leg_route_is_the_convolution_not_the_sum_of_quantiles() -> None:
    """S3 -> EventBridge -> Lambda: lognormal legs (p50 1.345 s, p99 2.216 s) and (0.148 s, 0.387 s).
    Adding quantiles gives p50 1.493 s and p99 2.603 s; the sum's own p50 is higher (right-skewed
    legs) and its p99 lower (two legs rarely peak together)."""
    eventbridge = load_profile("aws").distribution("eventbridge_to_lambda").without_tail()
    assert eventbridge.kind == "sum"
    assert len(eventbridge.legs) == 2
    s3_leg, hop = eventbridge.legs
    added_p50 = s3_leg.quantile(0.5) + hop.quantile(0.5)
    added_p99 = s3_leg.quantile(0.99) + hop.quantile(0.99)
    assert added_p50 == pytest.approx(1.493)
    assert added_p99 == pytest.approx(2.603)
    draws = eventbridge.sample(np.random.default_rng(3), 400_000)
    p50, p99 = np.quantile(draws, [0.5, 0.99])
    assert p50 == pytest.approx(1.507, abs=0.005)
    assert p50 > added_p50 + 0.01
    assert p99 == pytest.approx(2.395, abs=0.02)
    assert p99 < added_p99 - 0.15
    assert eventbridge.quantile(0.99) == pytest.approx(p99, rel=0.01)


def test_route_delays_are_pure_and_convolve_the_sqs_legs() -> None:
    aws = load_profile("aws")
    a = route_delays(aws, "s3-sqs-lambda", 50_000, seed=7)
    b = route_delays(aws, "s3-sqs-lambda", 50_000, seed=7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, route_delays(aws, "s3-sqs-lambda", 50_000, seed=8))
    q = route_quantiles(aws, "s3-sqs-lambda", (0.5, 0.99, 0.999), cold_starts=False)
    added = aws.distribution("s3_to_sqs").quantile(0.5) + aws.distribution("sqs_to_lambda").quantile(0.5)
    assert q[0.5] > added  # the convolution's median, above the sum of the legs' medians
    assert q[0.999] > 30.0  # S3's tail reaches the queue route too
    instant = route_quantiles(load_profile("instant"), "s3-eventbridge-lambda", n=1000)
    assert instant == {0.5: 0.0, 0.95: 0.0, 0.99: 0.0, 0.999: 0.0}
    with pytest.raises(ProfileError, match="unknown deployment route"):
        route_delays(aws, "carrier-pigeon", 10, seed=1)


def test_tail_and_sum_errors_name_the_field() -> None:
    with pytest.raises(ProfileError, match=r"routes\.s3_to_lambda\.tail\.probability"):
        parse_profile(
            'name = "x"\n[routes.s3_to_lambda]\ndistribution = "constant"\nvalue_s = 1\n'
            'tail = { probability = 2, distribution = "constant", value_s = 60 }\n',
            "x.toml",
        )
    with pytest.raises(ProfileError, match=r"routes\.eventbridge_to_lambda: a sum needs 'legs'"):
        parse_profile('name = "x"\n[routes.eventbridge_to_lambda]\ndistribution = "sum"\n', "x.toml")


def test_live_samplers_draw_the_body_unless_asked_for_the_tail() -> None:
    aws = load_profile("aws")
    body = [aws.sampler("s3_to_lambda", seed=4)() for _ in range(20_000)]
    assert max(body) < 10.0  # a live run's drain would count a minute-long delay as a missed file
    draw = aws.sampler("s3_to_lambda", seed=4, with_tail=True)
    assert max(draw() for _ in range(20_000)) > 30.0  # 1 in 500 of 20,000: about 40 tail draws
