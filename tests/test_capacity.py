"""pve capacity: the floor, each strategy's knee, and the two-core (moto-process) mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.live.backends import fresh_backend
from bench.live.capacity import CapacityPoint, judge_point, knee, measure_floor, scenario_at
from bench.results.model import StrategyResult
from bench.scenario.spec import ScenarioError, load_scenario, parse_scenario


def strategy(
    *,
    files: int = 100,
    processed: int = 100,
    p95: float | None = 0.02,
    lag: float = 0.01,
    invocations: int = 0,
) -> StrategyResult:
    return StrategyResult.model_validate(
        {
            "kind": "poll",
            "backend": "moto",
            "files": files,
            "processed": processed,
            "invocations": invocations,
            "latency_s": {"p50": p95, "p95": p95},
            "harness": {"writer_lag_p95_s": lag, "writer_lag_max_s": lag, "bound": False},
        }
    )


def test_a_point_holds_when_every_criterion_does() -> None:
    point = judge_point("s3-lambda", 50.0, strategy(), floor_per_file_s=0.009)
    assert point.ok
    assert point.why_not == []


@pytest.mark.parametrize(
    ("kind", "changes", "why"),
    [
        ("poll", {"processed": 90}, "10 file(s) not processed"),
        ("poll", {"lag": 0.2}, "writer p95 lag 200 ms"),
        ("s3-sqs-lambda", {"p95": 0.07}, "p95 70 ms > floor per file 9.0 ms + 50 ms"),
    ],
)
def test_a_point_fails_with_the_criterion_named(kind: str, changes: dict[str, Any], why: str) -> None:
    point = judge_point(kind, 50.0, strategy(**changes), floor_per_file_s=0.009)
    assert not point.ok
    assert why in point.why_not[0]


def test_a_polls_latency_is_its_interval_not_a_failure() -> None:
    assert judge_point("poll", 50.0, strategy(p95=0.9), floor_per_file_s=0.009).ok


def test_mean_batch_size_is_files_per_invocation_on_the_sqs_route() -> None:
    point = judge_point("s3-sqs-lambda", 50.0, strategy(invocations=25), floor_per_file_s=0.009)
    assert point.mean_batch_size == 4.0


def test_mean_batch_size_prefers_the_mappings_own_counts() -> None:
    entry = strategy(invocations=25).model_copy(update={"counters": {"batches": 20, "records": 101}})
    assert judge_point("s3-sqs-lambda", 50.0, entry, floor_per_file_s=0.009).mean_batch_size == 5.05


def _point(rate: float, ok: bool) -> CapacityPoint:
    return CapacityPoint(rate, 10, 10, 0.0, 0.0, 0.01, 0.01, None, 0.5, False, ok, [] if ok else ["x"])


def test_the_knee_is_the_last_rate_before_the_first_failure() -> None:
    assert knee([_point(10, True), _point(20, True), _point(40, False), _point(80, True)]) == 20
    assert knee([_point(10, False)]) is None


def test_scenario_at_plays_constant_arrivals_under_the_instant_profile() -> None:
    played = scenario_at(load_scenario("capacity"), 40.0, 2.0, None)
    assert played.workload.arrivals.process == "constant"
    assert played.workload.arrivals.count == 80
    assert played.latency_profile == "instant"


def test_moto_process_drops_the_routes_that_need_moto_in_this_process() -> None:
    played = scenario_at(load_scenario("capacity"), 40.0, 2.0, "moto-process")
    assert {s.kind for s in played.strategies} == {"poll", "s3-sqs-lambda"}


def test_a_scenario_refuses_s3_lambda_on_moto_process() -> None:
    data = {
        "name": "x",
        "backend": "moto-process",
        "workload": {"arrivals": {"process": "constant", "rate_per_s": 1.0, "count": 2}},
        "strategies": [{"name": "e", "kind": "s3-lambda"}],
    }
    with pytest.raises(ScenarioError, match="needs moto in this process"):
        parse_scenario(data, "test")


def test_the_floor_is_a_put_get_put_loop_on_moto_in_process() -> None:
    floor = measure_floor("moto", files=20)
    assert floor.files == 20
    assert floor.files_per_s == pytest.approx(20 / floor.seconds)


def test_the_floor_runs_on_moto_in_its_own_process() -> None:
    floor = measure_floor("moto-process", files=10)
    assert floor.backend == "moto-process"
    assert floor.seconds > 0


def test_pve_capacity_writes_capacity_json_and_png(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'name = "cap"\n[workload.arrivals]\nprocess = "constant"\nrate_per_s = 5.0\ncount = 10\n'
        '[[strategies]]\nname = "poll"\nkind = "poll"\ninterval_s = 0.3\ncursor = "start-after"\n'
    )
    code = main(
        [
            "capacity",
            str(scenario),
            "--rates",
            "10",
            "--seconds",
            "1",
            "--floor-files",
            "10",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
            "--note",
            "a test",
        ]
    )
    assert code == 0
    document = json.loads((tmp_path / "out" / "capacity.json").read_text())
    assert document["floor"]["files_per_s"] > 0
    assert document["note"] == "a test"
    points = document["strategies"]["poll"]["points"]
    assert [p["rate_per_s"] for p in points] == [10.0]
    assert (tmp_path / "out" / "capacity.png").stat().st_size > 0


@pytest.mark.parametrize("flag", [["--seconds", "0"], ["--rates", "-5"], ["--floor-files", "0"]])
def test_pve_capacity_bad_flag_exits_2_naming_it(
    flag: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["capacity", "capacity", "--out", str(tmp_path), *flag]) == 2
    assert flag[0] in capsys.readouterr().err


def test_the_moto_speedup_keeps_sqs_retention_as_it_was() -> None:
    from moto.sqs.models import sqs_backends

    from bench.live import moto_speedups

    with fresh_backend("moto") as env:
        sqs = env.client("sqs", "setup")
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="old")
        sqs.send_message(QueueUrl=url, MessageBody="new")
        backend = sqs_backends[env.account_id][env.region]
        old, new = backend.get_queue("q")._messages
        old.sent_timestamp = int(old.sent_timestamp or 0) - 61_000  # type: ignore[assignment]  # 61 s ago
        for message, valid in ((old, False), (new, True)):
            assert backend.is_message_valid_based_on_retention_period("q", message) is valid
            original = moto_speedups.originals["SQSBackend.is_message_valid_based_on_retention_period"]
            assert original(backend, "q", message) is valid


def test_the_moto_speedup_keeps_s3s_url_table_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cached URL module gives the table moto's re-import gives, and follows the variable."""
    from moto.s3.models import S3Backend

    from bench.live import moto_speedups

    moto_speedups.install()
    backend = S3Backend("us-east-1", "123456789012")

    def table() -> tuple[list[str], dict[str, Any]]:
        return list(backend.url_bases), dict(backend.urls)

    for endpoints in (None, "https://custom.example:4566,http://other.example", None):
        if endpoints is None:
            monkeypatch.delenv("MOTO_S3_CUSTOM_ENDPOINTS", raising=False)
        else:
            monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", endpoints)
        patched = table()
        with monkeypatch.context() as moto_own:
            moto_own.setattr(S3Backend, "_url_module", moto_speedups.originals["S3Backend._url_module"])
            expected = table()
        assert patched == expected
        assert ("https://custom.example:4566" in patched[0]) is (endpoints is not None)


def test_a_long_poll_lets_the_strategys_other_requests_through_while_it_waits() -> None:
    """In-process, the strategy's requests take turns (RequestGate); a long poll waiting for a
    message must not hold the others up, and still gets the message when it comes."""
    import threading
    import time

    with fresh_backend("moto") as env:
        url = env.client("sqs", "setup").create_queue(QueueName="q")["QueueUrl"]
        got: list[Any] = []
        poll = threading.Thread(
            target=lambda: got.extend(
                env.client("sqs", "runtime")
                .receive_message(QueueUrl=url, WaitTimeSeconds=5)
                .get("Messages", [])
            )
        )
        poll.start()
        time.sleep(0.3)  # the poll is now waiting inside moto
        env.client("s3", "handler").list_objects_v2(Bucket=env.bucket)  # a gated request
        assert poll.is_alive()  # it went through while the poll still waited
        env.client("sqs", "setup").send_message(QueueUrl=url, MessageBody="hello")
        poll.join(10)
        assert [m["Body"] for m in got] == ["hello"]
