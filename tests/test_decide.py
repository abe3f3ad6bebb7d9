"""``pve decide``: its JSON, its ranking, its latency arithmetic and its refusals of bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.cost.assumptions import load_assumptions
from bench.cost.model import Deployment, load_pricing
from bench.decide.latency import Tail, quantiles, sample_latency
from bench.decide.rank import OPTION_NAMES, Workload, decide_one
from event_handlers.runtime.latency import load_profile

NO_TAIL = Tail(0.0, 90.0, False)


def _decide(tmp_path: Path, *argv: str) -> dict:
    path = tmp_path / "decide.json"
    code = main(["decide", *argv, "--samples", "4", "--out", str(tmp_path), "--json", str(path), "--quiet"])
    assert code == 0
    return json.loads(path.read_text())


def test_decide_json_has_every_option_at_every_rate(tmp_path: Path) -> None:
    doc = _decide(tmp_path, "--files-per-day", "1000", "1000000")
    assert set(doc) >= {"options", "recommendation", "assumptions"}
    assert len(doc["options"]) == 2 * len(OPTION_NAMES)
    for rate in (1000.0, 1e6):
        names = [o["name"] for o in doc["options"] if o["files_per_day"] == rate]
        assert sorted(names) == sorted(OPTION_NAMES)
    for option in doc["options"]:
        assert set(option) >= {"name", "monthly_usd", "latency_s", "feasible", "why_not"}
        assert set(option["monthly_usd"]) == {"point", "low", "high"}
        assert set(option["latency_s"]) == {"p50", "p95", "p999"}
        if option["feasible"]:
            usd = option["monthly_usd"]
            assert usd["low"] <= usd["point"] <= usd["high"]
            assert option["why_not"] == []
        else:  # never priced as if it could run
            assert option["monthly_usd"]["point"] is None
            assert option["why_not"]
    seen_set = next(
        o
        for o in doc["options"]
        if o["files_per_day"] == 1e6 and o["name"] == "EC2 poller, seen-set (keeps files)"
    )
    assert not seen_set["feasible"]
    assert "listing" in seen_set["why_not"][0]
    assert [r["files_per_day"] for r in doc["recommendation"]] == [1000.0, 1e6]
    assert all(r["name"] in OPTION_NAMES for r in doc["recommendation"])
    assert "cpu_s" in doc["assumptions"]["intervals"]
    assert doc["assumptions"]["latency_profile"] == "aws"
    assert (tmp_path / "decide.png").exists()


def test_a_latency_target_rules_out_the_pollers(tmp_path: Path) -> None:
    """At 100,000 files a day the inbox poller is cheapest, but a minute-long interval cannot meet
    a 10 s p95: the cheapest event route wins instead."""
    free = _decide(tmp_path, "--files-per-day", "100000")
    assert free["recommendation"][0]["name"] == "EC2 inbox poller (deletes when done)"
    strict = _decide(tmp_path, "--files-per-day", "100000", "--latency-p95", "10")
    assert strict["recommendation"][0]["name"] == "S3 -> Lambda"
    poller = next(o for o in strict["options"] if o["name"].startswith("EC2 inbox"))
    assert poller["latency_s"]["p95"] > 10


def test_a_budget_below_every_option_recommends_nothing(tmp_path: Path) -> None:
    doc = _decide(tmp_path, "--files-per-day", "1000000", "--budget-usd", "1")
    assert doc["recommendation"][0]["name"] is None
    assert "none fits $1" in doc["recommendation"][0]["why"]


def test_an_hourly_profile_is_judged_at_its_busiest_hour(tmp_path: Path) -> None:
    """23 quiet hours and one of 100,000 files: 100,023 a day on average, but the seen-set poller
    must list at the busiest hour's rate (2.4M a day), which it cannot."""
    doc = _decide(tmp_path, "--hourly", *(["1"] * 23), "100000")
    assert {o["files_per_day"] for o in doc["options"]} == {100_023.0}
    assert doc["assumptions"]["workloads"][0]["peak_files_per_day"] == 2_400_000


BAD_INPUT = [
    ("--files-per-day", "-5"),
    ("--files-per-day", "0"),
    ("--files-per-day", "nan"),
    ("--files-per-day", "inf"),
    ("--cpu-s", "-0.1"),
    ("--wait-s", "nan"),
    ("--file-size-mb", "-1"),
    ("--latency-p95", "0"),
    ("--budget-usd", "-3"),
    ("--memory", "64"),
    ("--interval", "0"),
    ("--retention-days", "inf"),
]


@pytest.mark.parametrize(("flag", "value"), BAD_INPUT)
def test_bad_input_exits_2_naming_the_flag(flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["decide", "--files-per-day", "1000", flag, value, "--quiet"]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert flag in capsys.readouterr().err


def test_a_rate_is_required_and_an_hourly_profile_needs_24_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decide", "--quiet"]) == 2
    assert "--files-per-day" in capsys.readouterr().err
    assert main(["decide", "--hourly", "1", "2", "--quiet"]) == 2
    assert "--hourly" in capsys.readouterr().err


def test_event_latency_is_the_sum_of_its_legs_drawn_together() -> None:
    """S3 -> Lambda: the profile's lognormal (median 1.345 s) plus 0.741 s of work at 128 MB: the
    median of the sum is 2.086 s (the work is constant; cold starts are 1% and move the median
    little). S3 -> SQS -> Lambda adds two lognormal legs draw by draw: its median lies below the
    sum of the legs' medians' upper bound and above the larger leg's."""
    profile = load_profile("aws")
    direct = quantiles(sample_latency(Deployment("s3-lambda"), 1000, profile, NO_TAIL, n=40_000))
    assert direct.p50 == pytest.approx(1.345 + 0.741015625, rel=0.02)
    queued = sample_latency(Deployment("s3-sqs-lambda"), 1000, profile, NO_TAIL, n=40_000) - 0.741015625
    assert 1.345 < float(np.median(queued)) < 1.345 + 0.111 + 0.05


def test_poll_latency_is_a_uniform_phase_plus_listing_and_work() -> None:
    """An inbox poller every 60 s at 1,000 files a day: a file waits a uniform share of the interval
    (median 30 s), then one 60 ms page and 0.1 s of work: median 30.16 s, p95 57.16 s."""
    d = Deployment("poll-ec2", cursor="inbox")
    q = quantiles(sample_latency(d, 1000, load_profile("aws"), NO_TAIL, n=40_000))
    assert q.p50 == pytest.approx(30.16, abs=0.5)
    assert q.p95 == pytest.approx(57.16, abs=0.5)


def test_the_tail_assumption_reaches_p999_only_when_it_is_that_common() -> None:
    """A 1% share of minute-plus delays puts p99.9 past a minute; the default 0.01% leaves it.
    (Our tail applies to a profile without one of its own: the bundled aws profile's is removed.)"""
    aws = load_profile("aws")
    profile = replace(aws, routes={name: d.without_tail() for name, d in aws.routes.items()})
    d = Deployment("s3-lambda")
    rare = quantiles(sample_latency(d, 1000, profile, Tail(1e-4, 90.0, False), n=40_000))
    common = quantiles(sample_latency(d, 1000, profile, Tail(1e-2, 90.0, False), n=40_000))
    assert rare.p999 < 10
    assert common.p999 > 30


def test_ranking_is_reproducible_with_a_seed() -> None:
    args = (load_profile("aws"), load_assumptions(), load_pricing())
    a = decide_one(Workload(50_000), *args, samples=4, seed=3)
    b = decide_one(Workload(50_000), *args, samples=4, seed=3)
    assert [o.as_dict() for o in a.options] == [o.as_dict() for o in b.options]
    assert a.recommendation == b.recommendation


def test_bill_lines_can_be_switched_off(tmp_path: Path) -> None:
    """Without the ledger S3 -> Lambda saves 2 writes per file: 1,000 a day is 30,416.7 files a
    month, 60,833.3 writes x $0.625/1M = $0.0380; without the root volume the EC2 pollers save
    8 GB x $0.08 = $0.64."""
    full = _decide(tmp_path, "--files-per-day", "1000")
    bare = _decide(tmp_path, "--files-per-day", "1000", "--no-ledger", "--ebs-root-gb", "0")

    def point(doc: dict, name: str) -> float:
        return next(o for o in doc["options"] if o["name"] == name)["monthly_usd"]["point"]

    assert point(full, "S3 -> Lambda") - point(bare, "S3 -> Lambda") == pytest.approx(
        2 * 1000 * 730 / 24 * 0.625e-6
    )
    inbox = "EC2 inbox poller (deletes when done)"
    assert point(full, inbox) - point(bare, inbox) == pytest.approx(0.64)
    lambda_option = next(o for o in bare["options"] if o["name"] == "S3 -> Lambda")
    assert "dynamodb.ledger_writes" not in lambda_option["components"]
