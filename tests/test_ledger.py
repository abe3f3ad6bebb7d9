"""The idempotency protocol: one key recipe, and ledgers in memory, SQLite and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from event_handlers.dynamodb_ledger import DynamoDBLedger, create_ledger_table
from event_handlers.errors import LedgerError
from event_handlers.events import S3ObjectEvent
from event_handlers.idempotency import NoIdentityError, ObjectVersion, idempotency_key
from event_handlers.ledger import Claim, Ledger, MemoryLedger, SQLiteLedger, hold_for
from tests.conftest import FakeClock


# -- the key recipe --------------------------------------------------------------------------------
def _event(**fields: Any) -> S3ObjectEvent:
    base: dict[str, Any] = {
        "bucket": "b",
        "key": "in/a.csv",
        "size": 10,
        "etag": None,
        "event_name": "ObjectCreated:Put",
        "event_time": datetime(2026, 11, 27, tzinfo=UTC),
        "sequencer": None,
        "version_id": None,
        "raw_key": "in/a.csv",
    }
    return S3ObjectEvent(**{**base, **fields})


def test_version_id_wins_then_etag_and_size_then_sequencer() -> None:
    assert _event(version_id="v1", etag="e").idempotency_key == "b/in/a.csv#v=v1"
    assert _event(etag="E", sequencer="0A").idempotency_key == "b/in/a.csv#etag=e;size=10"
    assert _event(sequencer="0a").idempotency_key == "b/in/a.csv#seq=0A;size=10"


def test_event_time_alone_is_never_an_identity() -> None:
    """The same record redelivered 1 ms later must not look like a new object version."""
    with pytest.raises(NoIdentityError, match="event time alone"):
        _ = _event().idempotency_key


def test_event_and_listing_agree_on_one_key() -> None:
    """The handler reads the event's eTag, the sweep the listing's quoted ETag: one key."""
    from_event = _event(etag="d41d8cd98f00b204e9800998ecf8427e", sequencer="0055AED6DCD90281E5")
    from_listing = ObjectVersion("b", "in/a.csv", etag='"D41D8CD98F00B204E9800998ECF8427E"', size=10)
    assert from_event.idempotency_key == from_listing.ledger_key


def test_unversioned_null_version_is_no_version() -> None:
    assert idempotency_key("b", "k", version_id="null", etag="e", size=1) == "b/k#etag=e;size=1"


def test_hold_follows_the_remaining_time() -> None:
    assert hold_for(2500) == 2.5
    assert hold_for(float("inf")) == 900.0
    assert hold_for(None) == 900.0
    assert hold_for(0) == 900.0  # nothing left: the caller hands the record back, not claims it


# -- one contract, three stores ----------------------------------------------------------------
@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_ledger_table(client, "ledger")
    return client


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def make_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[FakeClock], Ledger]:
    if request.param == "memory":
        return lambda clock: MemoryLedger(clock=clock)
    if request.param == "sqlite":
        return lambda clock: SQLiteLedger(tmp_path / "l.sqlite", clock=clock)
    client = request.getfixturevalue("dynamodb")
    return lambda clock: DynamoDBLedger(client, "ledger", clock=clock)


def test_claim_complete_fail_release(make_ledger: Callable[[FakeClock], Ledger]) -> None:
    ledger = make_ledger(FakeClock())
    assert ledger.claim("a") is Claim.ACQUIRED
    assert ledger.claim("a") is Claim.IN_PROGRESS
    ledger.complete("a", "out/a.json")
    assert ledger.claim("a") is Claim.COMPLETED
    assert ledger.claim("f") is Claim.ACQUIRED
    ledger.fail("f", "corrupt")
    assert ledger.claim("f") is Claim.FAILED
    assert ledger.claim("t") is Claim.ACQUIRED
    ledger.release("t")
    assert ledger.claim("t") is Claim.ACQUIRED
    ledger.release("a")  # releasing a closed record changes nothing
    assert ledger.claim("a") is Claim.COMPLETED


def test_an_in_progress_claim_lasts_the_holders_remaining_time(
    make_ledger: Callable[[FakeClock], Ledger],
) -> None:
    """A claim by an invocation with 3 s left frees itself 3 s later, not 15 minutes later."""
    clock = FakeClock()
    ledger = make_ledger(clock)
    assert ledger.claim("k", hold_for(3000)) is Claim.ACQUIRED
    clock.now += 2.9
    assert ledger.claim("k") is Claim.IN_PROGRESS
    clock.now += 0.2
    assert ledger.claim("k") is Claim.ACQUIRED  # the timed-out holder cannot be running any more


def test_dynamodb_ledger_is_one_truth_for_concurrent_environments(dynamodb: Any) -> None:
    """Eight execution environments (each its own client and ledger) claim one key: one wins, and
    the win rests on DynamoDB's conditional write, not on anything in this process.

    The environments claim one after another: moto evaluates a condition correctly but does not
    make two simultaneous PutItem calls atomic (real DynamoDB does), so a thread race against moto
    would test moto's locking, not the ledger. What makes the race safe on AWS is checked instead:
    every claim is a PutItem with a condition on the key's absence (or expiry)."""
    conditions: list[str] = []
    clients = [boto3.client("dynamodb", region_name="us-east-1") for _ in range(8)]
    for client in clients:
        client.meta.events.register(
            "provide-client-params.dynamodb.PutItem",
            lambda params, **_: conditions.append(params.get("ConditionExpression", "")),
        )
    results = [DynamoDBLedger(client, "ledger").claim("b/k#etag=e;size=1") for client in clients]
    assert sorted(r.value for r in results) == ["acquired"] + ["in_progress"] * 7
    assert len(conditions) == 8
    assert all("attribute_not_exists" in c for c in conditions)


def test_dynamodb_records_carry_a_ttl_and_the_table_has_ttl_on(dynamodb: Any) -> None:
    clock = FakeClock(1_000_000.0)
    ledger = DynamoDBLedger(dynamodb, "ledger", clock=clock, record_ttl_s=3600)
    ledger.claim("k")
    ledger.complete("k", "out/k")
    item = dynamodb.get_item(TableName="ledger", Key={"id": {"S": "k"}})["Item"]
    assert float(item["expiration"]["N"]) == 1_003_600.0
    assert (item["status"]["S"], item["detail"]["S"]) == ("completed", "out/k")
    ttl = dynamodb.describe_time_to_live(TableName="ledger")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiration")
    clock.now += 3601  # past its TTL (DynamoDB deletes it later): a new claim may take it
    assert ledger.claim("k") is Claim.ACQUIRED


def test_dynamodb_errors_are_ledger_errors(aws: None) -> None:
    ledger = DynamoDBLedger(boto3.client("dynamodb", region_name="us-east-1"), "no-such-table")
    with pytest.raises(LedgerError, match="no-such-table"):
        ledger.claim("k")


def test_a_poller_can_take_a_ledger_by_duck_typing() -> None:
    """The protocol is structural: pollers need not import event_handlers to accept one."""
    assert isinstance(MemoryLedger(), Ledger)

    class Minimal:
        def claim(self, key: str, hold_s: float | None = None) -> Claim:
            return Claim.ACQUIRED

        def complete(self, key: str, detail: str = "") -> None: ...

        def fail(self, key: str, reason: str) -> None: ...

        def release(self, key: str) -> None: ...

    assert isinstance(Minimal(), Ledger)


def test_begin_is_gone_claim_replaces_it() -> None:
    ledger = MemoryLedger()
    assert not hasattr(ledger, "begin")
    assert ledger.claim("k") is Claim.ACQUIRED


def test_a_deployed_function_uses_the_dynamodb_ledger_when_given_a_table(dynamodb: Any) -> None:
    from event_handlers.handler import handler_from_environment

    handler = handler_from_environment({"PVE_TASK": "noop", "PVE_LEDGER_TABLE": "ledger"})
    assert isinstance(handler.ledger, DynamoDBLedger)
    assert handler.ledger.claim("k") is Claim.ACQUIRED
    assert DynamoDBLedger(dynamodb, "ledger").claim("k") is Claim.IN_PROGRESS  # one truth


def test_on_a_versioned_bucket_describing_the_object_gives_the_handlers_key(s3: Any) -> None:
    """The sweep sees no version id in a listing; HeadObject gives the one the event carries."""
    from event_handlers.storage import S3ObjectStore

    s3.put_bucket_versioning(Bucket="bucket", VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket="bucket", Key="in/a.csv", Body=b"a\n1\n")
    from_event = _event(bucket="bucket", version_id=put["VersionId"], etag=put["ETag"].strip('"'))
    assert S3ObjectStore(s3, "bucket").describe("in/a.csv").ledger_key == from_event.idempotency_key
