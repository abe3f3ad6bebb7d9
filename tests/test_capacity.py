"""pve capacity: the floor, each strategy's knee, and the two-core (moto-process) mode."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench.cli import main
from bench.live import capacity
from bench.live.backends import fresh_backend
from bench.live.capacity import (
    CapacityPoint,
    SweepOptions,
    bracket,
    judge_point,
    knee,
    measure_floor,
    next_refine_rate,
    scenario_at,
    strategy_entry,
    sweep_capacity,
    verdict,
)
from bench.live.route_floor import RouteFloor
from bench.results.model import StrategyResult
from bench.scenario.spec import ScenarioError, load_scenario, parse_scenario


def strategy(
    *,
    files: int = 100,
    processed: int = 100,
    p95: float | None = 0.02,
    lag: float = 0.01,
    invocations: int = 0,
    interval_s: float | None = None,
) -> StrategyResult:
    return StrategyResult.model_validate(
        {
            "kind": "poll",
            "backend": "moto",
            "parameters": {} if interval_s is None else {"interval_s": interval_s},
            "files": files,
            "processed": processed,
            "invocations": invocations,
            "latency_s": {"p50": p95, "p95": p95},
            "harness": {
                "writer_lag_p95_s": lag,
                "writer_lag_max_s": lag,
                "bound": False,
            },
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
        ("poll", {"p95": 3.27, "interval_s": 1.0}, "p95 3.27 s > 2 x the 1 s interval: cycles ran behind"),
    ],
)
def test_a_point_fails_with_the_criterion_named(kind: str, changes: dict[str, Any], why: str) -> None:
    point = judge_point(kind, 50.0, strategy(**changes), floor_per_file_s=0.009)
    assert not point.ok
    assert why in point.why_not[0]


def test_a_polls_latency_is_its_interval_not_a_failure() -> None:
    assert judge_point("poll", 50.0, strategy(p95=0.9), floor_per_file_s=0.009).ok


def test_a_poll_within_two_intervals_kept_up() -> None:
    assert judge_point("poll", 50.0, strategy(p95=1.9, interval_s=1.0), floor_per_file_s=0.009).ok
    assert not judge_point("poll", 50.0, strategy(p95=2.1, interval_s=1.0), floor_per_file_s=0.009).ok


def test_mean_batch_size_is_files_per_invocation_on_the_sqs_route() -> None:
    point = judge_point("s3-sqs-lambda", 50.0, strategy(invocations=25), floor_per_file_s=0.009)
    assert point.mean_batch_size == 4.0


def test_mean_batch_size_prefers_the_mappings_own_counts() -> None:
    entry = strategy(invocations=25).model_copy(update={"counters": {"batches": 20, "records": 101}})
    assert judge_point("s3-sqs-lambda", 50.0, entry, floor_per_file_s=0.009).mean_batch_size == 5.05


def _point(rate: float, ok: bool, stage: str = "grid") -> CapacityPoint:
    return CapacityPoint(
        rate, 10, 10, 0.01, 0.02, 0.01, 0.01, None, 0.5, False, ok, [] if ok else ["x"], stage
    )


def test_the_knee_is_the_last_rate_before_the_first_failure() -> None:
    assert knee([_point(10, True), _point(20, True), _point(40, False), _point(80, True)]) == 20
    assert knee([_point(10, False)]) is None


def test_the_bracket_is_the_knee_and_the_first_failure_above_it() -> None:
    assert bracket([_point(10, True), _point(20, True), _point(40, False), _point(80, False)]) == (20, 40)
    assert bracket([_point(10, True), _point(20, True)]) is None  # nothing failed: nothing to bisect
    assert bracket([_point(10, False), _point(20, True)]) is None  # nothing held


def test_bisection_halves_the_bracket_until_it_is_narrow() -> None:
    points = [_point(50, True), _point(65, True), _point(80, False)]
    assert next_refine_rate(points, floor_files_per_s=100) == 72.5
    points.append(_point(72.5, False, "refine"))
    assert next_refine_rate(points, floor_files_per_s=100) == 68.8  # to 0.1 files/s
    assert next_refine_rate([_point(65, True), _point(65.9, False)], floor_files_per_s=100) is None
    assert next_refine_rate([_point(65, True)], floor_files_per_s=100) is None


def test_when_no_rate_held_the_bisection_searches_below_the_lowest() -> None:
    points = [_point(30, False), _point(60, False)]
    assert next_refine_rate(points, 100.0) == 15.0
    points.append(_point(15, True, "refine"))
    assert next_refine_rate(points, 100.0) == 22.5  # then between what held and what failed
    points = [_point(30, False), _point(15, False, "refine")]
    assert next_refine_rate(points, 100.0) == 7.5
    assert next_refine_rate([_point(0.5, False)], 100.0) is None  # narrower than 1% of the floor
    assert next_refine_rate([], 100.0) is None


def test_a_refined_knee_counts_bisection_points_like_grid_points() -> None:
    points = [_point(50, True), _point(80, False), _point(65, True), _point(72.5, True, "refine")]
    entry = strategy_entry("poll", points, floor_files_per_s=100.0)
    assert entry["knee_files_per_s"] == 72.5
    assert entry["knee_vs_floor"] == 0.725
    assert entry["knee_bracket_files_per_s"] == [72.5, 80]
    assert entry["refine_points"] == 1
    assert [p["rate_per_s"] for p in entry["points"]] == [50, 65, 72.5, 80]
    assert strategy_entry("poll", [_point(50, False)], 100.0)["knee_bracket_files_per_s"] is None
    assert strategy_entry("poll", [_point(50, True)], 100.0)["knee_bracket_files_per_s"] == [50, None]


def _fake_route_floors(kind: str, backend: str, files: int) -> list[RouteFloor]:
    """No moto: the SQS route's own floor at 60 files/s (batch 1) and 90 (batch 10)."""
    if kind != "s3-sqs-lambda":
        return []
    return [
        RouteFloor(kind, f"one thread, batch {batch}", backend, rate, 1.0, batch)
        for batch, rate in ((1, 60), (10, 90))
    ]


def test_the_sweep_bisects_each_strategy_alone_towards_its_knee(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No moto: a fake floor of 100 files/s and fake runs where each strategy holds up to its own
    rate. After the grid, three bisection steps per strategy, each playing that strategy alone."""
    holds = {"poll-1s": 77.0, "s3-lambda": 95.0, "s3-sqs-lambda": 30.0}
    played: list[tuple[float, list[str]]] = []

    def fake_run(scenario: Any, out_dir: Path, **_: Any) -> Any:
        rate = scenario.workload.arrivals.rate_per_s
        names = [s.name for s in scenario.strategies]
        played.append((rate, names))
        return SimpleNamespace(
            strategies={n: strategy(processed=100 if rate <= holds[n] else 90) for n in names}
        )

    monkeypatch.setattr(capacity, "measure_floor", lambda backend, files: capacity.Floor(backend, 100, 1.0))
    monkeypatch.setattr(capacity, "run_scenario", fake_run)
    monkeypatch.setattr(capacity, "route_floors", _fake_route_floors)
    document = sweep_capacity(load_scenario("capacity"), tmp_path, SweepOptions(refine_steps=3))
    grid = [rate for rate, names in played if len(names) == 3]
    assert grid == [25.0, 50.0, 65.0, 80.0, 90.0, 100.0, 120.0]
    assert all(len(names) == 1 for _, names in played[len(grid) :])
    poll = document["strategies"]["poll-1s"]
    assert [p["rate_per_s"] for p in poll["points"] if p["stage"] == "refine"] == [72.5, 76.2, 78.1]
    assert poll["knee_files_per_s"] == 76.2
    assert poll["knee_bracket_files_per_s"] == [76.2, 78.1]
    assert document["strategies"]["s3-lambda"]["knee_bracket_files_per_s"] == [95.0, 96.2]
    assert document["strategies"]["s3-sqs-lambda"]["knee_vs_floor"] == 0.281
    assert document["refine_steps"] == 3
    # each route's knee against its own floors (fakes: 60/s at batch 1, 90/s at batch 10)
    assert document["route_floors"]["s3-sqs-lambda"][0]["vs_floor"] == 0.6
    assert document["strategies"]["s3-sqs-lambda"]["knee_vs_route_floors"] == {
        "one thread, batch 1": 0.468,
        "one thread, batch 10": 0.312,
    }
    assert document["strategies"]["poll-1s"]["knee_vs_route_floors"] == {}
    assert "poll" not in document["route_floors"]


def test_knees_are_ratioed_to_the_faster_of_the_floors_before_and_after(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A slow moment at the start never flatters the knees: the floor is measured again at the end."""
    floors = iter([capacity.Floor("moto", 100, 1.0), capacity.Floor("moto", 125, 1.0)])

    def fake_run(scenario: Any, out_dir: Path, **_: Any) -> Any:
        rate = scenario.workload.arrivals.rate_per_s
        return SimpleNamespace(
            strategies={s.name: strategy(processed=100 if rate <= 50 else 90) for s in scenario.strategies}
        )

    monkeypatch.setattr(capacity, "measure_floor", lambda backend, files: next(floors))
    monkeypatch.setattr(capacity, "run_scenario", fake_run)
    monkeypatch.setattr(capacity, "route_floors", _fake_route_floors)
    document = sweep_capacity(load_scenario("capacity"), tmp_path, SweepOptions(refine_steps=0))
    assert document["floor_samples_files_per_s"] == [100.0, 125.0]
    assert document["floor"]["files_per_s"] == 125.0
    assert document["strategies"]["poll-1s"]["knee_files_per_s"] == 50.0
    assert document["strategies"]["poll-1s"]["knee_vs_floor"] == 0.4  # 50 / 125, not 50 / 100
    assert document["criteria"]["event_p95_s_at_most"] == 0.06  # judged with the floor measured before
    assert document["floor_drift"] == 0.2  # 25 of 125: at the limit
    assert document["floor_stable"]


def test_over_http_the_grid_and_p95_follow_that_backends_own_floor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each request over HTTP costs the round trip: rates start from the server's one-thread floor."""
    floors = {
        "moto": capacity.Floor("moto", 100, 1.0),
        "moto-process": capacity.Floor("moto-process", 40, 1.0),
    }
    played: list[float] = []

    def fake_run(scenario: Any, out_dir: Path, **_: Any) -> Any:
        rate = scenario.workload.arrivals.rate_per_s
        played.append(rate)
        return SimpleNamespace(
            strategies={s.name: strategy(processed=100 if rate <= 30 else 90) for s in scenario.strategies}
        )

    monkeypatch.setattr(capacity, "measure_floor", lambda backend, files: floors[backend])
    monkeypatch.setattr(capacity, "run_scenario", fake_run)
    monkeypatch.setattr(capacity, "route_floors", _fake_route_floors)
    document = sweep_capacity(
        load_scenario("capacity"), tmp_path, SweepOptions(backend="moto-process", refine_steps=0)
    )
    assert played == [10.0, 20.0, 26.0, 32.0, 36.0, 40.0, 48.0]  # 0.25x to 1.2x of 40/s
    assert document["criteria"]["event_p95_s_at_most"] == 0.075  # 25 ms per file + 50 ms
    poll = document["strategies"]["poll-1s"]
    assert poll["knee_files_per_s"] == 26.0
    assert poll["knee_vs_floor"] == 0.26  # the in-process floor, as issue 14 asks
    assert poll["knee_vs_backend_floor"] == 0.65


def test_a_floor_that_moves_more_than_a_fifth_marks_the_sweep_unreliable() -> None:
    assert capacity.floor_drift(capacity.Floor("moto", 100, 1.0), capacity.Floor("moto", 60, 1.0)) == 0.4
    assert capacity.floor_drift(capacity.Floor("moto", 60, 1.0), capacity.Floor("moto", 100, 1.0)) == 0.4
    assert capacity.floor_drift(capacity.Floor("moto", 100, 1.0), capacity.Floor("moto", 100, 2.0)) == 0.5


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


@pytest.mark.parametrize(
    "flag", [["--seconds", "0"], ["--rates", "-5"], ["--floor-files", "0"], ["--refine-steps", "-1"]]
)
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


def test_a_message_wakes_one_waiting_long_poll_not_every_one() -> None:
    """moto woke every receive waiting on a queue for each message (each took the GIL to find
    the queue empty again); patched, one wakes per message, and every message is still received."""
    import threading
    import time

    from moto.sqs.models import sqs_backends

    with fresh_backend("moto") as env:
        url = env.client("sqs", "setup").create_queue(QueueName="q")["QueueUrl"]
        condition = sqs_backends[env.account_id][env.region].get_queue("q")._messages_lock
        woken: list[bool] = []
        wait = condition.wait

        def counted(timeout: float | None = None) -> bool:
            notified = wait(timeout)
            woken.append(notified)  # True: notified; False: moto's one-second re-check
            return notified

        condition.wait = counted  # type: ignore[method-assign]
        got: list[str] = []
        polls = [
            threading.Thread(
                target=lambda: got.extend(
                    m["Body"]
                    for m in env.client("sqs", "runtime")
                    .receive_message(QueueUrl=url, WaitTimeSeconds=5)
                    .get("Messages", [])
                )
            )
            for _ in range(6)
        ]
        for poll in polls:
            poll.start()
        time.sleep(0.5)  # every poll is now waiting inside moto
        env.client("sqs", "setup").send_message(QueueUrl=url, MessageBody="m0")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert got == ["m0"]
        assert woken.count(True) == 1  # moto's own condition: six
        for n in range(1, 6):
            env.client("sqs", "setup").send_message(QueueUrl=url, MessageBody=f"m{n}")
        for poll in polls:
            poll.join(10)
        assert sorted(got) == [f"m{n}" for n in range(6)]


def test_the_chart_labels_the_knee_its_ratio_and_its_bracket(tmp_path: Path) -> None:
    from bench.report.capacity import knee_label, save_capacity

    points = [_point(50, True), _point(80, False), _point(65, True), _point(72.5, True, "refine")]
    entry = strategy_entry("poll", points, floor_files_per_s=100.0)
    assert knee_label("poll-1s", entry) == "poll-1s (knee 72.5/s, 0.72x; < 80)"
    assert knee_label("x", strategy_entry("poll", [_point(50, False)], 100.0)) == "x (no rate held)"
    own = [RouteFloor("s3-sqs-lambda", f"batch {b}", "moto", r, 1.0, b) for b, r in ((1, 80), (10, 100))]
    sqs = strategy_entry("s3-sqs-lambda", points, 100.0, own_floors=own)
    assert sqs["knee_vs_route_floors"] == {"batch 1": 0.906, "batch 10": 0.725}
    assert knee_label("sqs", sqs) == "sqs (knee 72.5/s, 0.72x; < 80; 0.72-0.91x its route floors)"
    document = {
        "scenario": "capacity",
        "backend": "moto",
        "floor": {"files_per_s": 100.0, "per_file_s": 0.01},
        "criteria": {"event_p95_s_at_most": 0.06, "writer_lag_p95_s_at_most": 0.1},
        "strategies": {"poll-1s": entry, "sqs": sqs},
        "route_floors": {"s3-sqs-lambda": [f.as_dict(100.0) for f in own]},
    }
    written = save_capacity(document, tmp_path)
    assert json.loads(written[0].read_text())["strategies"]["poll-1s"]["knee_files_per_s"] == 72.5
    assert written[1].stat().st_size > 0


SEND_CASES: list[dict[str, Any]] = [
    {"message_body": "plain"},
    {"message_body": "later", "delay_seconds": 5},
    {"message_body": "now", "delay_seconds": 0},
    {"message_body": "tagged", "message_attributes": {"k": {"DataType": "String", "StringValue": "v"}}},
    {"message_body": "system", "system_attributes": {"AWSTraceHeader": {"string_value": "Root=1"}}},
    {"message_body": "grouped", "group_id": "g", "deduplication_id": "d"},
    {"message_body": "too late", "delay_seconds": 901},
    {"message_body": "x" * 262_145},
]


@pytest.mark.parametrize("case", SEND_CASES, ids=range(len(SEND_CASES)))
@pytest.mark.parametrize("queue_attributes", [{}, {"DelaySeconds": "3"}])
def test_the_moto_speedup_sends_to_a_standard_queue_as_moto_does(
    case: dict[str, Any], queue_attributes: dict[str, str]
) -> None:
    """moto's own send_message and the patch, on twin queues: the same message or the same error."""
    from moto.sqs.models import sqs_backends

    from bench.live import moto_speedups

    def outcome(backend: Any, queue: str, send: Any) -> Any:
        try:
            send(backend, queue, **case)
        except Exception as exc:
            return type(exc), str(exc)
        (message,) = backend.get_queue(queue)._messages
        return (
            message.body,
            message.message_attributes,
            message.system_attributes,
            message.deduplication_id,
            message.group_id,
            len(message.sequence_number or ""),
            round((message.delayed_until - message.sent_timestamp) / 1000) if message.delayed_until else 0,
            message.delayed,
        )

    with fresh_backend("moto") as env:
        sqs = env.client("sqs", "setup")
        for name in ("moto", "patched"):
            sqs.create_queue(QueueName=name, Attributes=queue_attributes)
        backend = sqs_backends[env.account_id][env.region]
        expected = outcome(backend, "moto", moto_speedups.originals["SQSBackend.send_message"])
        assert outcome(backend, "patched", type(backend).send_message) == expected


def test_the_moto_speedup_leaves_fifo_queues_to_moto() -> None:
    with fresh_backend("moto") as env:
        sqs = env.client("sqs", "setup")
        attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        url = sqs.create_queue(QueueName="q.fifo", Attributes=attributes)["QueueUrl"]
        for _ in range(2):
            sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in messages] == ["same"]  # the duplicate was dropped, as moto does


def test_pve_capacity_refines_as_many_times_as_the_library_by_default() -> None:
    from bench.cli import build_parser
    from bench.live.capacity import DEFAULT_REFINE_STEPS

    args = build_parser().parse_args(["capacity", "capacity"])
    assert args.refine_steps == DEFAULT_REFINE_STEPS


def test_the_route_floor_table_gives_each_floor_and_the_knee_against_it() -> None:
    from rich.console import Console

    from bench.cli.run import route_floor_table

    own = [
        RouteFloor("s3-sqs-lambda", f"one thread, batch {b}", "moto", r, 1.0, b)
        for b, r in ((1, 66), (10, 97))
    ]
    document = {
        "route_floors": {"s3-sqs-lambda": [f.as_dict(100.0) for f in own]},
        "strategies": {"sqs": strategy_entry("s3-sqs-lambda", [_point(33, True)], 100.0, own_floors=own)},
    }
    console = Console(width=200, record=True)
    console.print(route_floor_table(document))
    lines = [line for line in console.export_text().splitlines() if "batch" in line]
    cells = [[cell.strip() for cell in line.split("│") if cell.strip()] for line in lines]
    assert [row[-4:] for row in cells] == [
        ["66.0", "0.66", "sqs", "0.50"],
        ["97.0", "0.97", "sqs", "0.34"],
    ]


def test_route_floors_are_the_faster_of_before_and_after_the_sweep(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As with the floor, a slow moment never understates a route's own floor."""
    rates = iter([70, 50])  # s3-lambda's own floor before the sweep, then after

    def floors(kind: str, backend: str, files: int) -> list[RouteFloor]:
        return [RouteFloor(kind, "one thread", backend, next(rates), 1.0)] if kind == "s3-lambda" else []

    def fake_run(scenario: Any, out_dir: Path, **_: Any) -> Any:
        rate = scenario.workload.arrivals.rate_per_s
        return SimpleNamespace(
            strategies={s.name: strategy(processed=100 if rate <= 35 else 90) for s in scenario.strategies}
        )

    monkeypatch.setattr(capacity, "measure_floor", lambda backend, files: capacity.Floor(backend, 100, 1.0))
    monkeypatch.setattr(capacity, "run_scenario", fake_run)
    monkeypatch.setattr(capacity, "route_floors", floors)
    document = sweep_capacity(load_scenario("capacity"), tmp_path, SweepOptions(refine_steps=0))
    assert [f["files_per_s"] for f in document["route_floors"]["s3-lambda"]] == [70.0]
    assert document["strategies"]["s3-lambda"]["knee_vs_route_floors"] == {"one thread": 0.357}  # 25 / 70


def test_an_event_routes_point_keeps_its_cold_starts_and_peak_concurrency() -> None:
    result = strategy().model_copy(update={"cold_starts": 11, "counters": {"peak_invokers": 12.0}})
    point = judge_point("s3-lambda", 40.0, result, 0.006)
    assert (point.cold_starts, point.peak_concurrency) == (11, 12)
    assert verdict(point).endswith("(11 cold starts, up to 12 at once)")
    poll = judge_point("poll", 40.0, result, 0.006)
    assert (poll.cold_starts, poll.peak_concurrency) == (None, None)
    assert "cold" not in verdict(poll)


def test_a_failure_under_a_rate_that_held_is_named_beside_the_knee() -> None:
    from bench.cli.run import _knee_text

    points = [_point(20, True), _point(25, False), _point(50, True), _point(65, True), _point(80, False)]
    entry = strategy_entry("s3-lambda", points, 100.0)
    assert entry["knee_files_per_s"] == 20  # conservative: every lower rate held
    assert entry["highest_held_files_per_s"] == 65
    assert entry["failed_below_highest_held"] == [25]
    assert _knee_text(entry) == "20 (65 held)"
    plain = strategy_entry("poll", [_point(20, True), _point(40, False)], 100.0)
    assert (plain["failed_below_highest_held"], _knee_text(plain)) == ([], "20")
    assert _knee_text(strategy_entry("poll", [_point(20, False)], 100.0)) == "-"
