"""The corrected handler: isolation per record, batchItemFailures, DLQ, idempotency, tasks."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from event_handlers.dlq import MemoryDeadLetters, SqsDeadLetterQueue
from event_handlers.errors import CorruptInputError, EmptyInputError, PathRefusedError, RecursionGuardError
from event_handlers.failures import classify
from event_handlers.filters import KeyFilter
from event_handlers.handler import (
    RecordStatus,
    RetryableBatchError,
    S3EventHandler,
    handler_from_environment,
    parse_filters,
)
from event_handlers.ledger import Claim, MemoryLedger, SQLiteLedger
from event_handlers.storage import LocalFolderStore, S3ObjectStore
from event_handlers.tasks import CsvSummaryTask, NoopTask, ThumbnailTask, make_task, summarize_csv

CSV = b"id,name,amount,score\n1,a,10.5,3\n2,b,20,4\n3,c,,5\n"


def s3_record(bucket: str, key: str, etag: str = "etag-1", size: int = 10) -> dict[str, Any]:
    """A record shaped as S3 sends it (key form-URL-encoded)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2024-01-15T10:30:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key), "size": size, "eTag": etag}},
    }


def sqs_batch(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:sqs",
                "messageId": f"m{i}",
                "body": b if isinstance(b, str) else json.dumps(b),
            }
            for i, b in enumerate(bodies)
        ]
    }


def put(s3: Any, key: str, body: bytes) -> str:
    return s3.put_object(Bucket="bucket", Key=key, Body=body)["ETag"].strip('"')


def summary(s3: Any, key: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket="bucket", Key=f"summaries/{key}.summary.json")["Body"].read())


def test_summarize_csv_counts_rows_columns_and_numeric_sums() -> None:
    result = summarize_csv(io.BytesIO(CSV))
    assert (result.rows, result.columns) == (3, 4)
    assert result.numeric_sums == {"id": 6.0, "amount": 30.5, "score": 12.0}
    assert result.ragged_rows == 0


def test_summarize_csv_handles_quotes_bom_and_ragged_rows() -> None:
    data = '\ufeffa,b\n"x, with comma",1\n"multi\nline",2\nonly-one\n'.encode()
    result = summarize_csv(io.BytesIO(data))
    assert result.header == ["a", "b"]
    assert (result.rows, result.ragged_rows) == (3, 1)
    assert result.numeric_sums == {"b": 3.0}


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"", EmptyInputError, "empty file"),
        (b"a,b\n\xff\xfe,1\n", CorruptInputError, "not UTF-8"),
    ],
)
def test_bad_csv_is_a_permanent_error_with_a_reason(data: bytes, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        summarize_csv(io.BytesIO(data))


def test_direct_event_with_odd_key_is_processed(s3: Any) -> None:
    key = "uploads/my file+1 %ü😀.csv"
    etag = put(s3, key, CSV)
    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3)
    response = handler({"Records": [s3_record("bucket", key, etag)]}, None)
    assert response["counts"]["processed"] == 1
    assert summary(s3, key)["rows"] == 3


def test_sqs_batch_reports_only_transient_failures_and_dead_letters_the_rest(s3: Any) -> None:
    good = put(s3, "in/good.csv", CSV)
    corrupt = put(s3, "in/corrupt.csv", b"\xff\xfe\x00 not text")
    flaky = put(s3, "in/flaky.csv", CSV)
    task = CsvSummaryTask()
    calls = {"n": 0}

    def sometimes_failing(store: Any, key: str) -> Any:
        if key == "in/flaky.csv" and calls["n"] == 0:
            calls["n"] += 1
            raise ConnectionError("connection reset")
        return task(store, key)

    sometimes_failing.name = "csv-summary"  # type: ignore[attr-defined]
    dead = MemoryDeadLetters()
    handler = S3EventHandler(sometimes_failing, s3_client=s3, dead_letters=dead)  # type: ignore[arg-type]
    batch = sqs_batch(
        {"Records": [s3_record("bucket", "in/good.csv", good)]},
        {"Records": [s3_record("bucket", "in/corrupt.csv", corrupt)]},
        {"Records": [s3_record("bucket", "in/missing.csv", "nope")]},
        "{this is not json",
        {"Records": [s3_record("bucket", "in/flaky.csv", flaky)]},
        {"Service": "Amazon S3", "Event": "s3:TestEvent"},
    )
    response = handler(batch, None)
    assert response["batchItemFailures"] == [{"itemIdentifier": "m4"}]
    assert response["counts"] == {"processed": 1, "duplicate": 0, "ignored": 0, "failed": 3, "retry": 1}
    reasons = {(d.key, d.error_type) for d in dead.letters}
    assert reasons == {
        ("in/corrupt.csv", "CorruptInputError"),
        ("in/missing.csv", "ObjectMissingError"),
        (None, "EventParseError"),
    }
    assert all(d.reason for d in dead.letters)
    # the retried message succeeds, and the good one is not processed twice
    again = handler(
        sqs_batch(
            {"Records": [s3_record("bucket", "in/good.csv", good)]},
            {"Records": [s3_record("bucket", "in/flaky.csv", flaky)]},
        ),
        None,
    )
    assert again["counts"]["duplicate"] == 1
    assert again["counts"]["processed"] == 1
    assert again["batchItemFailures"] == []


def test_direct_invocation_raises_so_lambda_retries(s3: Any) -> None:
    def broken(store: Any, key: str) -> Any:
        raise TimeoutError("read timed out")

    handler = S3EventHandler(broken, s3_client=s3)  # type: ignore[arg-type]
    with pytest.raises(RetryableBatchError, match="read timed out"):
        handler({"Records": [s3_record("bucket", "in/x.csv")]}, None)


def test_duplicate_delivery_is_processed_once(s3: Any) -> None:
    etag = put(s3, "in/a.csv", CSV)
    runs = []
    task = CsvSummaryTask()

    def counting(store: Any, key: str) -> Any:
        runs.append(key)
        return task(store, key)

    handler = S3EventHandler(counting, s3_client=s3)  # type: ignore[arg-type]
    event = {"Records": [s3_record("bucket", "in/a.csv", etag)]}
    for _ in range(3):
        handler(event, None)
    assert runs == ["in/a.csv"]
    # a new version of the same key is new work
    etag2 = put(s3, "in/a.csv", CSV + b"4,d,1,1\n")
    handler({"Records": [s3_record("bucket", "in/a.csv", etag2)]}, None)
    assert runs == ["in/a.csv", "in/a.csv"]


def test_deletions_and_test_events_are_ignored_not_failed(s3: Any) -> None:
    record = s3_record("bucket", "in/a.csv")
    record["eventName"] = "ObjectRemoved:Delete"
    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3)
    assert handler({"Records": [record]}, None)["counts"]["ignored"] == 1
    assert handler({"Service": "Amazon S3", "Event": "s3:TestEvent"}, None)["counts"]["processed"] == 0


def test_records_left_when_time_runs_out_are_handed_back(s3: Any) -> None:
    class AlmostOut:
        def get_remaining_time_in_millis(self) -> int:
            return 100

    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3)
    response = handler(sqs_batch({"Records": [s3_record("bucket", "in/a.csv")]}), AlmostOut())
    assert response["batchItemFailures"] == [{"itemIdentifier": "m0"}]


def test_dead_letters_go_to_an_sqs_queue_with_the_reason(s3: Any, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3, dead_letters=SqsDeadLetterQueue(sqs, url))
    handler({"Records": [s3_record("bucket", "in/gone.csv")]}, None)
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    letter = json.loads(message["Body"])
    assert letter["key"] == "in/gone.csv"
    assert letter["error_type"] == "ObjectMissingError"
    assert message["MessageAttributes"]["error_type"]["StringValue"] == "ObjectMissingError"


# -- thumbnails ---------------------------------------------------------------------------------
def png(width: int = 640, height: int = 480) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 10, 10, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_thumbnail_is_a_jpeg_with_a_jpg_key_under_its_prefix(s3: Any) -> None:
    put(s3, "uploads/cat.png", png())
    result = ThumbnailTask(trigger_filters=[KeyFilter("uploads/")])(
        S3ObjectStore(s3, "bucket"), "uploads/cat.png"
    )
    assert result.output_key == "thumbnails/uploads/cat.jpg"
    image = Image.open(io.BytesIO(s3.get_object(Bucket="bucket", Key=result.output_key)["Body"].read()))
    assert image.format == "JPEG"
    assert max(image.size) == 200


@pytest.mark.parametrize(
    "trigger",
    [KeyFilter(), KeyFilter("", ".jpg"), KeyFilter("thumbnails/"), KeyFilter("thumb")],
)
def test_thumbnail_refuses_an_output_prefix_its_trigger_watches(trigger: KeyFilter) -> None:
    """The seed's example writes thumbnails/{key} into its own bucket: a loop without a filter."""
    with pytest.raises(RecursionGuardError, match="invoke this function again"):
        ThumbnailTask(trigger_filters=[trigger])


def test_thumbnail_allows_disjoint_filters() -> None:
    ThumbnailTask(trigger_filters=[KeyFilter("uploads/"), KeyFilter("", ".png")])


def test_corrupt_and_empty_images_are_permanent_failures(s3: Any) -> None:
    put(s3, "uploads/bad.png", b"\x89PNG but not really")
    put(s3, "uploads/empty.png", b"")
    task = ThumbnailTask(trigger_filters=[KeyFilter("uploads/")])
    with pytest.raises(CorruptInputError, match="not a readable image"):
        task(S3ObjectStore(s3, "bucket"), "uploads/bad.png")
    with pytest.raises(EmptyInputError):
        task(S3ObjectStore(s3, "bucket"), "uploads/empty.png")


def test_noop_reads_everything_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "f.bin").write_bytes(b"z" * 3_000_000)
    result = NoopTask()(LocalFolderStore(tmp_path), "f.bin")
    assert (result.bytes_read, result.output_key) == (3_000_000, None)


def test_make_task_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="csv-summary, thumbnail, noop"):
        make_task("resize")


def test_local_store_refuses_keys_escaping_the_folder(tmp_path: Path) -> None:
    with pytest.raises(PathRefusedError, match="outside"):
        LocalFolderStore(tmp_path).put("../evil", b"x", "text/plain")
    assert classify(PathRefusedError("x")).permanent  # a refusal is for good, not retried


# -- ledgers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda p: MemoryLedger(), lambda p: SQLiteLedger(p / "l.sqlite")])
def test_ledger_claims_once_and_releases_on_transient_failure(tmp_path: Path, make: Any) -> None:
    ledger = make(tmp_path)
    assert ledger.claim("k") is Claim.ACQUIRED
    assert ledger.claim("k") is Claim.IN_PROGRESS
    ledger.release("k")
    assert ledger.claim("k") is Claim.ACQUIRED
    ledger.complete("k")
    assert ledger.claim("k") is Claim.COMPLETED
    assert ledger.claim("f") is Claim.ACQUIRED
    ledger.fail("f", "corrupt")
    assert ledger.claim("f") is Claim.FAILED


def test_expired_in_progress_claim_can_be_taken_over(tmp_path: Path) -> None:
    now = {"t": 0.0}
    ledger = SQLiteLedger(tmp_path / "l.sqlite", in_progress_ttl_s=10, clock=lambda: now["t"])
    assert ledger.claim("k") is Claim.ACQUIRED
    now["t"] = 11.0  # the first invocation crashed without releasing
    assert ledger.claim("k") is Claim.ACQUIRED


def test_sqlite_ledger_survives_a_restart_and_one_thread_wins(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    SQLiteLedger(path).complete("done")
    ledger = SQLiteLedger(path)
    assert ledger.claim("done") is Claim.COMPLETED
    claims: list[Claim] = []
    lock = threading.Lock()

    def claim() -> None:
        result = SQLiteLedger(path).claim("race")
        with lock:
            claims.append(result)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert claims.count(Claim.ACQUIRED) == 1


def test_handler_from_environment(monkeypatch: pytest.MonkeyPatch, s3: Any, tmp_path: Path) -> None:
    handler = handler_from_environment(
        {
            "PVE_TASK": "thumbnail",
            "PVE_OUTPUT_PREFIX": "thumbs/",
            "PVE_LEDGER_PATH": str(tmp_path / "l.sqlite"),
            "PVE_TRIGGER_FILTERS": "uploads/|.png",
        }
    )
    assert isinstance(handler.task, ThumbnailTask)
    assert handler.task.output_prefix == "thumbs/"
    assert parse_filters("a/|.png, b/|") == [KeyFilter("a/", ".png"), KeyFilter("b/", "")]
    with pytest.raises(RecursionGuardError):
        handler_from_environment(
            {
                "PVE_TASK": "thumbnail",
                "PVE_TRIGGER_FILTERS": "|",
                "PVE_LEDGER_PATH": str(tmp_path / "m.sqlite"),
            }
        )


_MEASURE = """
import resource, sys
from event_handlers.storage import LocalFolderStore
from event_handlers.tasks import CsvSummaryTask
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = CsvSummaryTask()(LocalFolderStore(sys.argv[1]), "big.csv")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(result.bytes_read, result.summary["rows"], before, after)
"""


@pytest.mark.slow
def test_large_csv_is_summarised_in_bounded_memory(tmp_path: Path) -> None:
    """A 300 MB CSV streamed through the task in a fresh process: its peak RSS grows by a few MB."""
    import subprocess
    import sys

    row = b"1,label,100.125,200.25,300.5,400.75\n"
    chunk = row * 100_000
    with (tmp_path / "big.csv").open("wb") as handle:
        handle.write(b"id,label,a,b,c,d\n")
        for _ in range(300_000_000 // len(chunk)):
            handle.write(chunk)
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()
    bytes_read, rows, before_kb, after_kb = map(int, out)
    assert bytes_read > 290_000_000
    assert rows == (300_000_000 // len(chunk)) * 100_000
    assert after_kb - before_kb < 32 * 1024  # < 32 MB for a 300 MB file


# -- issue 12: isolation, classification, reasons ---------------------------------------------------
class BrokenLedger(MemoryLedger):
    """A ledger whose claim fails for one key (a DynamoDB hiccup, a locked SQLite file)."""

    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad = bad

    def claim(self, key: str, hold_s: float | None = None) -> Claim:
        if self.bad in key:
            raise RuntimeError("database is locked")
        return super().claim(key, hold_s)


def test_a_ledger_error_on_one_record_does_not_stop_the_later_ones(s3: Any) -> None:
    etags = {k: put(s3, k, CSV) for k in ("in/a.csv", "in/b.csv", "in/c.csv")}
    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3, ledger=BrokenLedger("in/a.csv"))
    batch = sqs_batch(*({"Records": [s3_record("bucket", k, e)]} for k, e in etags.items()))
    response = handler(batch, None)
    assert response["batchItemFailures"] == [{"itemIdentifier": "m0"}]
    assert "LedgerError" in response["failureReasons"]["m0"]
    assert summary(s3, "in/b.csv")["rows"] == summary(s3, "in/c.csv")["rows"] == 3


def test_records_inside_one_sqs_message_are_isolated(s3: Any) -> None:
    """Three records in one body, one malformed: the two valid files are processed, the bad
    record is dead-lettered alone, and the message is not reported failed."""
    a, b = put(s3, "in/a.csv", CSV), put(s3, "in/b.csv", CSV)
    dead = MemoryDeadLetters()
    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3, dead_letters=dead)
    body = {
        "Records": [
            s3_record("bucket", "in/a.csv", a),
            {"eventSource": "aws:s3"},
            s3_record("bucket", "in/b.csv", b),
        ]
    }
    response = handler(sqs_batch(body), None)
    assert response["batchItemFailures"] == []
    assert response["counts"]["processed"] == 2
    [letter] = dead.letters
    assert letter.where == "Records[0].body.Records[1]"
    assert "missing field 's3'" in letter.reason


def test_a_message_fails_only_if_one_of_its_records_does_and_reruns_are_no_ops(s3: Any) -> None:
    a, b = put(s3, "in/a.csv", CSV), put(s3, "in/b.csv", CSV)
    task = CsvSummaryTask()
    runs: list[str] = []
    throttle = {"left": 1}

    def counting(store: Any, key: str) -> Any:
        runs.append(key)
        if key == "in/b.csv" and throttle["left"]:
            throttle["left"] -= 1
            raise ClientError({"Error": {"Code": "SlowDown"}}, "GetObject")
        return task(store, key)

    counting.name = "csv-summary"  # type: ignore[attr-defined]
    handler = S3EventHandler(counting, s3_client=s3)  # type: ignore[arg-type]
    body = {"Records": [s3_record("bucket", "in/a.csv", a), s3_record("bucket", "in/b.csv", b)]}
    first = handler(sqs_batch(body), None)
    assert first["batchItemFailures"] == [{"itemIdentifier": "m0"}]
    second = handler(sqs_batch(body), None)  # SQS redelivers the whole message
    assert second["batchItemFailures"] == []
    assert (second["counts"]["duplicate"], second["counts"]["processed"]) == (1, 1)
    assert runs == ["in/a.csv", "in/b.csv", "in/b.csv"]  # a was not run again


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("in/nul\x00.csv", "NUL"),
        ("in/" + "k" * 1010 + ".csv", "bytes in UTF-8"),  # 1,017 bytes: the input fits, the output does not
    ],
)
def test_invalid_keys_are_dead_lettered_at_once_with_the_reason(s3: Any, key: str, reason: str) -> None:
    dead = MemoryDeadLetters()
    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3, dead_letters=dead)
    if len(key) > 100:
        put(s3, key, CSV)
    response = handler(sqs_batch({"Records": [s3_record("bucket", key, "e")]}), None)
    assert response["batchItemFailures"] == []
    assert response["counts"]["failed"] == 1
    [letter] = dead.letters
    assert letter.error_type == "InvalidKeyError"
    assert reason in letter.reason


def test_a_404_on_get_is_permanent(s3: Any) -> None:
    dead = MemoryDeadLetters()
    handler = S3EventHandler(NoopTask(), s3_client=s3, dead_letters=dead)
    response = handler({"Records": [s3_record("bucket", "in/gone.csv", "e")]}, None)
    assert response["counts"]["failed"] == 1
    assert dead.letters[0].error_type == "ObjectMissingError"


def test_path_refusals_are_permanent(tmp_path: Path) -> None:
    dead = MemoryDeadLetters()
    store = LocalFolderStore(tmp_path)
    handler = S3EventHandler(NoopTask(), store_for=lambda bucket: store, dead_letters=dead)
    response = handler({"Records": [s3_record("local", "../../etc/passwd", "e")]}, None)
    assert response["counts"]["failed"] == 1
    assert dead.letters[0].error_type == "PathRefusedError"


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        ("NoSuchKey", 404, True),
        ("SlowDown", 503, False),
        ("InternalError", 500, False),
        ("Weird", 502, False),
        ("RequestTimeout", 400, False),
        ("AccessDenied", 403, False),  # unknown to the table: retried, never acknowledged on a guess
    ],
)
def test_the_failure_table_for_aws_errors(code: str, status: int, permanent: bool) -> None:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    error = ClientError(response, "GetObject")
    assert classify(error).permanent is permanent


def test_timeouts_and_connection_errors_are_transient() -> None:
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    assert not classify(ReadTimeoutError(endpoint_url="http://x")).permanent
    assert not classify(ConnectTimeoutError(endpoint_url="http://x")).permanent
    assert not classify(TimeoutError()).permanent


class FailingSink:
    def send(self, letter: Any) -> None:
        raise RuntimeError("AWS.SimpleQueueService.NonExistentQueue")


def test_a_missing_dlq_never_acknowledges_a_permanent_failure(s3: Any) -> None:
    etag = put(s3, "in/bad.csv", b"a,b\n\xff\xfe\n")
    ledger = MemoryLedger()
    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3, dead_letters=FailingSink(), ledger=ledger)
    response = handler(sqs_batch({"Records": [s3_record("bucket", "in/bad.csv", etag)]}), None)
    assert response["batchItemFailures"] == [{"itemIdentifier": "m0"}]  # SQS keeps it, redrives it
    assert "dead letter not sent" in response["failureReasons"]["m0"]
    assert ledger.status(f"bucket/in/bad.csv#etag={etag};size=10") is None  # not closed: a retry may try
    with pytest.raises(RetryableBatchError, match="dead letter not sent"):  # direct: Lambda retries
        handler({"Records": [s3_record("bucket", "in/bad.csv", etag)]}, None)


def test_an_unterminated_csv_quote_is_corrupt_not_processed() -> None:
    with pytest.raises(CorruptInputError, match="malformed CSV"):
        summarize_csv(io.BytesIO(b'a,b\n1,"never closed\n2,3\n'))


def test_csv_summary_has_a_recursion_guard_at_start_and_per_write() -> None:
    with pytest.raises(RecursionGuardError, match="csv-summary outputs"):
        CsvSummaryTask(output_prefix="in/out/", trigger_filters=[KeyFilter("in/")])
    task = CsvSummaryTask(output_prefix="summaries/")
    task.trigger_filters = [KeyFilter("", ".json")]  # a rule added after the function started
    with pytest.raises(RecursionGuardError, match="matches trigger filter"):
        task(LocalFolderStore("/nonexistent"), "in/a.csv")


def test_a_record_without_identity_is_identified_by_describing_the_object(s3: Any) -> None:
    """No eTag, sequencer or version id: redelivered with another eventTime it is still a duplicate."""
    put(s3, "in/a.csv", CSV)
    record = s3_record("bucket", "in/a.csv")
    del record["s3"]["object"]["eTag"]
    later = json.loads(json.dumps(record))
    later["eventTime"] = "2024-01-15T10:30:00.001Z"
    handler = S3EventHandler(CsvSummaryTask(), s3_client=s3)
    assert handler({"Records": [record]}, None)["counts"]["processed"] == 1
    assert handler({"Records": [later]}, None)["counts"]["duplicate"] == 1


class Clock:
    def __init__(self) -> None:
        self.left_ms = 5000.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.left_ms)


def test_work_after_the_deadline_is_not_written_nor_counted(s3: Any) -> None:
    """A task still running when the invocation times out: its write is refused, the record is
    handed back (not processed), and its claim is released for the retry."""
    etag = put(s3, "in/slow.csv", CSV)
    context = Clock()
    task = CsvSummaryTask()

    def slow(store: Any, key: str) -> Any:
        context.left_ms = 0  # the timeout strikes mid-task
        return task(store, key)

    slow.name = "csv-summary"  # type: ignore[attr-defined]
    ledger = MemoryLedger()
    handler = S3EventHandler(slow, s3_client=s3, ledger=ledger)  # type: ignore[arg-type]
    [outcome] = handler.handle({"Records": [s3_record("bucket", "in/slow.csv", etag)]}, context)
    assert outcome.status == "retry"
    assert "timed out" in outcome.reason
    assert "Contents" not in s3.list_objects_v2(Bucket="bucket", Prefix="summaries/")
    assert ledger.claim(f"bucket/in/slow.csv#etag={etag};size=10") is Claim.ACQUIRED


def test_late_finish_is_not_counted_even_if_the_write_slipped_in(s3: Any) -> None:
    etag = put(s3, "in/late.csv", CSV)
    context = Clock()
    task = CsvSummaryTask()

    def late(store: Any, key: str) -> Any:
        result = task(store, key)
        context.left_ms = 0
        return result

    late.name = "csv-summary"  # type: ignore[attr-defined]
    handler = S3EventHandler(late, s3_client=s3)  # type: ignore[arg-type]
    [outcome] = handler.handle({"Records": [s3_record("bucket", "in/late.csv", etag)]}, context)
    assert outcome.status == "retry"
    assert "not counted as processed" in outcome.reason


def test_the_claim_lasts_the_invocations_remaining_time(s3: Any) -> None:
    etag = put(s3, "in/a.csv", CSV)
    holds: list[float | None] = []

    class Recording(MemoryLedger):
        def claim(self, key: str, hold_s: float | None = None) -> Claim:
            holds.append(hold_s)
            return super().claim(key, hold_s)

    S3EventHandler(CsvSummaryTask(), s3_client=s3, ledger=Recording()).handle(
        {"Records": [s3_record("bucket", "in/a.csv", etag)]}, Clock()
    )
    assert holds == [5.0]


def test_statuses_are_an_enum_with_the_old_string_values() -> None:
    assert [s.value for s in RecordStatus] == ["processed", "duplicate", "ignored", "failed", "retry"]
    assert json.dumps({RecordStatus.RETRY: 1}) == '{"retry": 1}'  # JSON keeps the old strings


def test_every_error_event_handlers_raises_on_purpose_has_one_base() -> None:
    import importlib
    import inspect
    import pkgutil

    import event_handlers
    from event_handlers.errors import EventHandlersError

    errors = []
    for info in pkgutil.walk_packages(event_handlers.__path__, "event_handlers."):
        module = importlib.import_module(info.name)
        errors += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, BaseException) and cls.__module__ == info.name
        ]
    assert len(errors) > 15
    assert [e.__name__ for e in errors if not issubclass(e, EventHandlersError)] == []


def test_a_ledger_opened_while_another_environment_locks_it_waits_and_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switching to WAL can answer "database is locked" at once (no busy wait) when several cold
    starts open one new ledger together: the ledger retries instead of failing the init."""
    import sqlite3

    real_connect = sqlite3.connect
    refusals = {"left": 2}

    class Busy:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def execute(self, sql: str, *args: Any) -> Any:
            if sql.startswith("PRAGMA journal_mode") and refusals["left"]:
                refusals["left"] -= 1
                raise sqlite3.OperationalError("database is locked")
            return self.db.execute(sql, *args)

    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: Busy(real_connect(*a, **k)))
    ledger = SQLiteLedger(tmp_path / "l.sqlite")
    assert refusals["left"] == 0
    assert ledger.claim("k") is Claim.ACQUIRED
