"""The local runtime: environments, billing, timeouts, concurrency, async retries, SQS mapping."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from event_handlers.runtime import moto_bridge
from event_handlers.runtime.async_invoke import AsyncConfig, AsyncInvoker, sqs_failure_sink
from event_handlers.runtime.context import LambdaContext
from event_handlers.runtime.function import (
    FunctionConfig,
    FunctionError,
    LocalFunction,
    ThrottledError,
    billed_milliseconds,
    gb_seconds,
)
from event_handlers.runtime.latency import ProfileError, bundled_profiles, load_profile, parse_profile
from event_handlers.runtime.sqs_mapping import SqsEventSourceMapping, SqsMappingConfig
from event_handlers.trigger import NotificationRule, configure_notifications


def echo(event: Any, context: LambdaContext) -> Any:
    return {"event": event, "request": context.aws_request_id}


def test_billing_rounds_up_to_the_millisecond_and_includes_init() -> None:
    assert billed_milliseconds(0.2) == 1
    assert billed_milliseconds(10.0) == 10
    assert billed_milliseconds(10.01) == 11
    assert billed_milliseconds(10.5, init_ms=200.2) == 211
    assert gb_seconds(1000, 128) == pytest.approx(0.125)
    assert gb_seconds(1, 1024) == pytest.approx(0.001)


def test_first_invocation_is_cold_then_warm() -> None:
    inits = []

    def factory() -> Any:
        inits.append(1)
        return echo

    fn = LocalFunction(FunctionConfig(memory_mb=256), factory, init_delay=lambda: 0.05)
    fn.invoke({"n": 1})
    fn.invoke({"n": 2})
    first, second = fn.records
    assert (first.cold_start, second.cold_start) == (True, False)
    assert first.init_ms >= 50
    assert first.billed_ms >= 50  # INIT is billed since August 2025
    counters = fn.counters.snapshot()
    assert counters["invocations"] == 2
    assert counters["cold_starts"] == 1
    assert counters["gb_s"] == pytest.approx(sum(r.billed_ms for r in fn.records) / 1000 * 0.25)
    assert len(inits) == 1


def test_context_has_lambda_attributes_and_a_real_deadline() -> None:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: LambdaContext) -> None:
        seen["name"], seen["memory"] = context.function_name, context.memory_limit_in_mb
        seen["arn"], seen["left"] = context.invoked_function_arn, context.get_remaining_time_in_millis()

    LocalFunction(FunctionConfig(name="fn", memory_mb=512, timeout_s=3), lambda: handler).invoke({})
    assert (seen["name"], seen["memory"]) == ("fn", 512)
    assert seen["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert 2500 < seen["left"] <= 3000


def test_timeout_fails_the_invocation_and_discards_the_environment() -> None:
    release = threading.Event()

    def slow(event: Any, context: LambdaContext) -> None:
        if event.get("slow"):
            release.wait(5)

    fn = LocalFunction(FunctionConfig(timeout_s=0.2), lambda: slow)
    with pytest.raises(FunctionError, match=r"Task timed out after 0\.20 seconds"):
        fn.invoke({"slow": True})
    release.set()
    fn.invoke({})
    assert [r.cold_start for r in fn.records] == [True, True]  # a new environment after a timeout
    assert fn.counters.snapshot()["timeouts"] == 1


def test_handler_errors_are_function_errors_with_the_type() -> None:
    def broken(event: Any, context: LambdaContext) -> None:
        raise KeyError("Records")

    with pytest.raises(FunctionError, match="KeyError"):
        LocalFunction(FunctionConfig(), lambda: broken).invoke({})


def test_reserved_concurrency_throttles() -> None:
    release, started = threading.Event(), threading.Event()

    def hold(event: Any, context: LambdaContext) -> None:
        started.set()
        release.wait(5)

    fn = LocalFunction(FunctionConfig(reserved_concurrency=1), lambda: hold)
    thread = threading.Thread(target=fn.invoke, args=({},))
    thread.start()
    assert started.wait(5)
    with pytest.raises(ThrottledError):
        fn.invoke({})
    release.set()
    thread.join()
    assert fn.counters.snapshot()["throttles"] == 1


def test_handler_path_is_imported_fresh_per_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each execution environment runs the module's top-level code again, as Lambda's do."""
    (tmp_path / "pve_fresh_mod.py").write_text(
        "STATE = object()\ndef handler(event, context):\n    return id(STATE)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fn = LocalFunction(FunctionConfig(timeout_s=5), "pve_fresh_mod:handler")
    warm = fn.invoke({}), fn.invoke({})
    other = LocalFunction(FunctionConfig(timeout_s=5), "pve_fresh_mod.handler").invoke({})
    assert warm[0] == warm[1]  # one environment, one module copy
    assert other != warm[0]  # a new environment imports anew


# -- async invoke --------------------------------------------------------------------------------
def flaky(fail_times: int) -> Any:
    calls = {"n": 0}

    def handler(event: Any, context: LambdaContext) -> str:
        calls["n"] += 1
        if calls["n"] <= fail_times:
            raise RuntimeError(f"failure {calls['n']}")
        return "ok"

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


def test_async_retries_twice_then_sends_to_the_dlq_queue(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    fn = LocalFunction(FunctionConfig(name="f"), lambda: flaky(10))
    invoker = AsyncInvoker(
        fn, AsyncConfig(retry_delays_s=(0.05, 0.1)), on_failure=sqs_failure_sink(sqs, url)
    ).start()
    invoker.submit({"Records": []})
    assert invoker.wait_idle(5)
    invoker.stop()
    [message] = sqs.receive_message(QueueUrl=url)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"Records": []}
    assert record["responsePayload"]["errorMessage"].endswith("failure 3")
    counters = fn.counters.snapshot()
    assert (counters["invocations"], counters["retries"], counters["dlq_sends"]) == (3, 2, 1)


def test_async_retry_succeeds_after_one_failure() -> None:
    handler = flaky(1)
    fn = LocalFunction(FunctionConfig(), lambda: handler)
    invoker = AsyncInvoker(fn, AsyncConfig(retry_delays_s=(0.05, 0.1))).start()
    invoker.submit({})
    assert invoker.wait_idle(5)
    invoker.stop()
    assert handler.calls["n"] == 2
    assert fn.counters.snapshot()["dropped"] == 0


def test_async_without_destination_drops_and_counts() -> None:
    fn = LocalFunction(FunctionConfig(), lambda: flaky(10))
    invoker = AsyncInvoker(fn, AsyncConfig(max_retries=0)).start()
    invoker.submit({})
    assert invoker.wait_idle(5)
    invoker.stop()
    assert fn.counters.snapshot()["dropped"] == 1


def test_event_older_than_max_age_is_not_invoked() -> None:
    failures: list[dict[str, Any]] = []
    fn = LocalFunction(FunctionConfig(), lambda: echo)
    invoker = AsyncInvoker(
        fn, AsyncConfig(max_event_age_s=0.05), on_failure=failures.append, delivery_delay=lambda: 0.2
    ).start()
    invoker.submit({})
    assert invoker.wait_idle(5)
    invoker.stop()
    assert failures[0]["requestContext"]["condition"] == "EventAgeExceeded"
    assert fn.counters.snapshot()["invocations"] == 0


def test_throttled_events_go_back_to_the_queue_and_all_run() -> None:
    done: list[int] = []
    lock = threading.Lock()

    def slowish(event: Any, context: LambdaContext) -> None:
        time.sleep(0.02)
        with lock:
            done.append(event["n"])

    fn = LocalFunction(FunctionConfig(reserved_concurrency=1), lambda: slowish)
    invoker = AsyncInvoker(
        fn, AsyncConfig(workers=4, throttle_backoff_s=0.01, throttle_backoff_cap_s=0.05)
    ).start()
    for n in range(12):
        invoker.submit({"n": n})
    assert invoker.wait_idle(10)
    invoker.stop()
    assert sorted(done) == list(range(12))
    assert fn.counters.snapshot()["throttles"] > 0


def test_an_event_wakes_one_idle_worker_and_a_finished_one_wakes_none() -> None:
    """Eight idle invoker threads, events one after another: each event wakes one thread. Before,
    every finished event woke every idle thread (notify_all), and each took the GIL for nothing."""
    fn = LocalFunction(FunctionConfig(), lambda: echo)
    invoker = AsyncInvoker(fn, AsyncConfig(workers=8))
    wakes: list[bool] = []
    wait = invoker._cond.wait

    def counted(timeout: float | None = None) -> bool:
        notified = wait(timeout)
        wakes.append(notified)
        return notified

    invoker._cond.wait = counted  # type: ignore[method-assign]
    invoker.start()
    time.sleep(0.2)  # all eight are waiting for work
    for n in range(20):
        invoker.submit({"n": n})
        assert invoker.wait_idle(5)
    invoker.stop()
    assert fn.counters.snapshot()["invocations"] == 20
    assert wakes.count(True) <= 20 + 8  # one per event, and stop() wakes each thread once


def test_delivery_delay_is_applied() -> None:
    stamps: list[float] = []
    fn = LocalFunction(FunctionConfig(), lambda: lambda e, c: stamps.append(time.monotonic()))
    invoker = AsyncInvoker(fn, delivery_delay=lambda: 0.3).start()
    submitted = time.monotonic()
    invoker.submit({})
    assert invoker.wait_idle(5)
    invoker.stop()
    assert stamps[0] - submitted >= 0.29


def test_moto_bridge_routes_s3_notifications_to_the_local_function(s3: Any) -> None:
    received: list[Any] = []
    arn = "arn:aws:lambda:us-east-1:123456789012:function:bridge-test"
    moto_bridge.register_function(arn, received.append)
    try:
        configure_notifications("bucket", [NotificationRule(arn)], s3_client=s3)
        s3.put_object(Bucket="bucket", Key="a b+c.csv", Body=b"x")
    finally:
        moto_bridge.unregister_function(arn)
    [event] = received
    assert event["Records"][0]["s3"]["object"]["key"] == "a+b%2Bc.csv"
    s3.put_object(Bucket="bucket", Key="after.csv", Body=b"x")  # unregistered: moto's own path, no error
    assert len(received) == 1


# -- SQS event source mapping ------------------------------------------------------------------------
def _queue_with_dlq(sqs: Any, visibility: int = 1, max_receive: int = 2) -> tuple[str, str]:
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="q",
        Attributes={
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}
            ),
        },
    )["QueueUrl"]
    return url, dlq


def test_partial_batch_failure_redelivers_then_redrives_to_the_dlq(sqs: Any) -> None:
    url, dlq = _queue_with_dlq(sqs)
    seen: list[str] = []
    lock = threading.Lock()

    def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            with lock:
                seen.append(record["body"])
            if record["body"] == "poison":
                failures.append({"itemIdentifier": record["messageId"]})
            assert record["eventSource"] == "aws:sqs"
            assert record["attributes"]["ApproximateReceiveCount"]
        return {"batchItemFailures": failures}

    fn = LocalFunction(FunctionConfig(), lambda: handler)
    for body in ("a", "poison", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    mapping = SqsEventSourceMapping(fn, sqs, url, SqsMappingConfig(wait_time_s=1)).start()
    deadline = time.monotonic() + 10
    redriven: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not redriven:
        time.sleep(0.3)
        redriven = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    mapping.stop()
    assert [m["Body"] for m in redriven] == ["poison"]
    assert (seen.count("a"), seen.count("b")) == (1, 1)  # the good ones were deleted once
    assert seen.count("poison") == 2  # maxReceiveCount
    assert mapping.receives >= 2


def test_function_error_deletes_nothing(sqs: Any) -> None:
    url, _ = _queue_with_dlq(sqs, visibility=30)
    fn = LocalFunction(FunctionConfig(), lambda: flaky(100))
    sqs.send_message(QueueUrl=url, MessageBody="x")
    mapping = SqsEventSourceMapping(fn, sqs, url, SqsMappingConfig(wait_time_s=1)).start()
    deadline = time.monotonic() + 5
    while fn.counters.snapshot()["invocations"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    mapping.stop()
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_batching_window_gathers_a_batch(sqs: Any) -> None:
    url, _ = _queue_with_dlq(sqs, visibility=30)
    sizes: list[int] = []
    fn = LocalFunction(FunctionConfig(), lambda: lambda e, c: sizes.append(len(e["Records"])))
    mapping = SqsEventSourceMapping(
        fn, sqs, url, SqsMappingConfig(batch_size=10, batching_window_s=1.0, wait_time_s=1, pollers=1)
    ).start()  # one poller: five would each gather a batch of their own, as on AWS
    for i in range(10):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
        time.sleep(0.02)
    deadline = time.monotonic() + 5
    while sum(sizes) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    mapping.stop()
    assert sum(sizes) == 10
    assert len(sizes) <= 2


def test_mapping_config_validates_like_aws() -> None:
    with pytest.raises(ValueError, match="batching window"):
        SqsMappingConfig(batch_size=100)
    with pytest.raises(ValueError, match="0-20"):
        SqsMappingConfig(wait_time_s=21)


# -- latency profiles ---------------------------------------------------------------------------------
def test_bundled_profiles_and_aws_fit_matches_triggerbench() -> None:
    assert {"instant", "aws"} <= set(bundled_profiles())
    aws = load_profile("aws")
    s3 = aws.distribution("s3_to_lambda").without_tail()  # the fitted body; the tail is an assumption
    assert s3.quantile(0.5) == pytest.approx(1.345)
    assert s3.quantile(0.99) == pytest.approx(2.216)
    assert s3.mean() == pytest.approx(1.380, abs=0.01)  # TriggerBench's published mean
    assert aws.distribution("sqs_to_lambda").quantile(0.5) == pytest.approx(0.111)
    assert not load_profile("instant").adds_delay
    draws = [aws.sampler("s3_to_lambda", seed=1)() for _ in range(2000)]
    assert 1.2 < sorted(draws)[1000] < 1.5


def test_profile_errors_name_the_field() -> None:
    with pytest.raises(ProfileError, match=r"routes\.s3_to_lambda needs 'p99_s' or 'sigma'"):
        parse_profile(
            'name = "x"\n[routes.s3_to_lambda]\ndistribution = "lognormal"\nmedian_s = 1\n', "x.toml"
        )
    with pytest.raises(ProfileError, match=r"routes\.nowhere is not a route"):
        parse_profile('name = "x"\n[routes.nowhere]\ndistribution = "constant"\nvalue_s = 0\n', "x.toml")
    with pytest.raises(ProfileError, match="unknown latency profile"):
        load_profile("mars")


def test_a_modelled_delivery_delay_does_not_hold_up_the_poller(sqs: Any) -> None:
    """S3's and SQS's delays are in the pipeline, not in the consumer: 10 messages, each delayed
    0.5 s, are all handled about 0.5 s after they land, not one after another."""
    url, _ = _queue_with_dlq(sqs, visibility=30)
    handled: list[float] = []
    fn = LocalFunction(
        FunctionConfig(), lambda: lambda e, c: handled.extend([time.monotonic()] * len(e["Records"]))
    )
    mapping = SqsEventSourceMapping(
        fn, sqs, url, SqsMappingConfig(batch_size=1, wait_time_s=1), delivery_delay=lambda: 0.5
    ).start()
    sent = time.monotonic()
    for i in range(10):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    deadline = time.monotonic() + 10
    while len(handled) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    mapping.stop()
    assert len(handled) == 10
    assert max(handled) - sent < 4.0  # one after another would take at least 10 x 0.5 s = 5 s


# -- issue 11/12: named counters, injected clocks, reasons kept, timeouts obeyed ------------------------
def test_counter_names_are_an_enum_and_a_typo_is_a_bug() -> None:
    from event_handlers.runtime.counters import Counter, RuntimeCounters

    counters = RuntimeCounters()
    counters.add(invocations=2, gb_s=0.5)
    assert counters.get(Counter.INVOCATIONS) == 2
    assert set(counters.snapshot()) == {c.value for c in Counter}
    with pytest.raises(ValueError, match="invocation"):
        counters.add(invocation=1)


def test_idle_environments_are_reclaimed_on_the_injected_clock() -> None:
    from tests.conftest import FakeClock

    clock = FakeClock()
    sleeps: list[float] = []
    fn = LocalFunction(
        FunctionConfig(idle_timeout_s=600, init_delay_s=0.25), lambda: echo, clock=clock, sleep=sleeps.append
    )
    fn.invoke({})
    clock.now += 599
    fn.invoke({})
    clock.now += 601
    fn.invoke({})
    assert [r.cold_start for r in fn.records] == [True, False, True]
    assert sleeps == [0.25, 0.25]  # the modelled INIT delay went through the injected sleep


def test_an_init_failure_is_recorded_with_its_reason() -> None:
    from event_handlers.filters import KeyFilter
    from event_handlers.tasks import ThumbnailTask

    def factory() -> Any:
        ThumbnailTask(output_prefix="in/thumbs/", trigger_filters=[KeyFilter("in/")])
        return echo

    fn = LocalFunction(FunctionConfig(), factory)
    with pytest.raises(FunctionError, match=r"Runtime\.InitError: RecursionGuardError"):
        fn.invoke({})
    [record] = fn.records
    assert (record.ok, record.cold_start) == (False, True)
    assert "would match the trigger filter" in record.error
    assert fn.counters.snapshot()["errors"] == 1


def test_an_on_failure_destination_that_fails_keeps_the_record() -> None:
    def refuse(record: dict[str, Any]) -> None:
        raise RuntimeError("AWS.SimpleQueueService.NonExistentQueue")

    fn = LocalFunction(FunctionConfig(), lambda: flaky(10))
    invoker = AsyncInvoker(fn, AsyncConfig(max_retries=0), on_failure=refuse).start()
    invoker.submit({"n": 1})
    assert invoker.wait_idle(5)
    invoker.stop()
    [kept] = invoker.undelivered
    assert kept["requestPayload"] == {"n": 1}
    assert "NonExistentQueue" in kept["undelivered"]
    assert fn.counters.snapshot()["dropped"] == 1


def test_a_redriven_message_keeps_its_last_failure_reason(sqs: Any) -> None:
    url, dlq = _queue_with_dlq(sqs, visibility=1, max_receive=1)

    def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
        ids = [r["messageId"] for r in event["Records"]]
        return {
            "batchItemFailures": [{"itemIdentifier": i} for i in ids],
            "failureReasons": {i: "SlowDown: reduce your request rate" for i in ids},
        }

    fn = LocalFunction(FunctionConfig(), lambda: handler)
    sent = sqs.send_message(QueueUrl=url, MessageBody="x")["MessageId"]
    mapping = SqsEventSourceMapping(fn, sqs, url, SqsMappingConfig(wait_time_s=1)).start()
    deadline = time.monotonic() + 10
    redriven: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not redriven:
        time.sleep(0.2)
        redriven = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    mapping.stop()
    [message] = redriven
    assert message["MessageId"] == sent
    assert mapping.failure_reason(sent) == "SlowDown: reduce your request rate"


def test_a_timed_out_invocation_writes_nothing_late_and_is_not_both_done_and_dead(tmp_path: Path) -> None:
    """Async invoke, a task slower than the timeout: every attempt times out, no output is
    written after a deadline, the ledger never says completed, and the DLQ says why."""
    from event_handlers.handler import S3EventHandler
    from event_handlers.ledger import MemoryLedger
    from event_handlers.storage import LocalFolderStore
    from event_handlers.tasks import CsvSummaryTask

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(b"a\n1\n")
    finished = threading.Condition()
    runs: list[int] = []
    task = CsvSummaryTask()

    def slow(store: Any, key: str) -> Any:
        time.sleep(0.4)
        try:
            return task(store, key)
        finally:
            with finished:
                runs.append(1)
                finished.notify_all()

    slow.name = "csv-summary"  # type: ignore[attr-defined]
    ledger = MemoryLedger()
    store = LocalFolderStore(tmp_path)
    failures: list[dict[str, Any]] = []
    fn = LocalFunction(
        FunctionConfig(timeout_s=0.2),
        lambda: S3EventHandler(slow, store_for=lambda b: store, ledger=ledger, reserve_ms=0),  # type: ignore[arg-type]
    )
    invoker = AsyncInvoker(fn, AsyncConfig(max_retries=1, retry_delays_s=(0.01,)), on_failure=failures.append)
    invoker.start()
    invoker.submit(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "eventTime": "2026-11-27T00:00:00Z",
                    "s3": {
                        "bucket": {"name": "local"},
                        "object": {"key": "in/a.csv", "eTag": "e", "size": 4},
                    },
                }
            ]
        }
    )
    assert invoker.wait_idle(10)
    invoker.stop()
    with finished:  # a barrier, not a sleep: both abandoned attempts have run to their end
        assert finished.wait_for(lambda: len(runs) == 2, timeout=5)
    [failure] = failures
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert "timed out" in failure["responsePayload"]["errorMessage"]
    assert not (tmp_path / "summaries").exists()  # no late output
    assert ledger.status("local/in/a.csv#etag=e;size=4") != "completed"


def test_an_sqs_record_carries_binary_attributes_as_base64_text_as_lambda_does() -> None:
    from event_handlers.runtime.sqs_mapping import lambda_sqs_record

    message: Any = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": "{}",
        "MessageAttributes": {
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffpve"},
            "text": {"DataType": "String", "StringValue": "hello"},
        },
    }
    record = lambda_sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AP9wdmU="
    assert record["messageAttributes"]["text"] == {
        "stringValue": "hello",
        "binaryValue": None,
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    json.dumps(record)  # an event Lambda could have sent: plain JSON
