"""parse_s3_event against AWS Lambda Powertools' S3Event data class, on 1, 10 and 10,000 records.

Both produce the same typed fields of every record (bucket, decoded key, size, ETag, event name,
event time as a datetime): Powertools' views are lazy and hand the time back as a string, so its
side reads every field and parses the time, or it would time less work. The ratio is our
fastest round over Powertools' fastest round, the two timed in turn within each round of the same
run (lower is better), each round a calibrated loop (``timing.compare``); the per-round ratios'
spread is stored with it and sets its regression allowance."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from timing import compare

from event_handlers.events import parse_s3_event

pytestmark = pytest.mark.slow
ROUNDS = 15
powertools = pytest.importorskip("aws_lambda_powertools.utilities.data_classes")

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "powertools-events" / "s3Event.json"


def event_of(n: int) -> dict[str, Any]:
    record = json.loads(SAMPLE.read_text())["Records"][0]
    records = []
    for i in range(n):
        r = copy.deepcopy(record)
        r["s3"]["object"]["key"] = f"incoming/file+{i:06d}%20a.csv"
        records.append(r)
    return {"Records": records}


def ours(event: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(e.bucket, e.key, e.size, e.etag, e.event_name, e.event_time) for e in parse_s3_event(event)]


def theirs(event: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            r.s3.bucket.name,
            unquote_plus(r.s3.get_object.key),
            r.s3.get_object.size,
            r.s3.get_object.etag,
            r.event_name,
            datetime.fromisoformat(r.event_time),
        )
        for r in powertools.S3Event(event).records
    ]


@pytest.mark.parametrize("records", [1, 10, 10_000])
def test_parse_s3_event_vs_powertools(benchmark, record_ratio, records: int) -> None:  # type: ignore[no-untyped-def]
    event = event_of(records)
    assert ours(event) == theirs(event)  # the same answers, typed the same
    # interleaved, round by round, in calibrated loops (see timing.py); pytest-benchmark's own
    # rounds go to its JSON
    result = compare(ROUNDS, lambda: ours(event), lambda: theirs(event))
    benchmark.pedantic(ours, args=(event,), rounds=3, iterations=max(1, 2000 // records))
    record_ratio(
        result.ratio,
        result.reference_s,
        means="parse_s3_event time / Powertools S3Event time, same fields read",
        spread=result.spread,
    )
