"""The idempotency ledger in DynamoDB: "processed once" across execution environments and pollers.

The design follows AWS Lambda Powertools' idempotency persistence layer
(``utilities/idempotency/persistence/dynamodb.py``): a claim is a *conditional* ``PutItem`` that
succeeds only if the item is absent, expired, or an in-progress claim whose holder's time is up;
the in-progress expiry is the invocation's remaining time; closed records carry a TTL attribute
(epoch seconds) so DynamoDB deletes them after ``record_ttl_s``. Conditional writes make the
claim atomic for any number of concurrent writers (DynamoDB Developer Guide, "Condition
expressions", read 2026-11-27).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from event_handlers.errors import LedgerError
from event_handlers.ledger import DEFAULT_HOLD_S, Claim, LedgerEntry, _LedgerBase

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

ONE_WEEK_S = 7 * 24 * 3600.0


class DynamoDBLedger(_LedgerBase):
    """A ledger in one DynamoDB table with a string hash key ``id``."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        in_progress_ttl_s: float = DEFAULT_HOLD_S,
        record_ttl_s: float = ONE_WEEK_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``record_ttl_s``: how long a closed record is kept; S3 redelivers within hours."""
        self.client, self.table_name = client, table_name
        self._ttl, self._record_ttl, self._clock = in_progress_ttl_s, record_ttl_s, clock

    def claim(self, key: str, hold_s: float | None = None) -> Claim:
        for _ in range(3):  # the holder may release between our two calls: ask again
            now = self._clock()
            try:
                self.client.put_item(
                    TableName=self.table_name,
                    Item={
                        "id": {"S": key},
                        "status": {"S": "in_progress"},
                        "in_progress_expiry": {"N": _n(now + (hold_s or self._ttl))},
                        "expiration": {"N": _n(now + self._record_ttl)},
                    },
                    ConditionExpression=(
                        "attribute_not_exists(id) OR #exp < :now OR "
                        "(#status = :in_progress AND in_progress_expiry < :now)"
                    ),
                    ExpressionAttributeNames={"#exp": "expiration", "#status": "status"},
                    ExpressionAttributeValues={":now": {"N": _n(now)}, ":in_progress": {"S": "in_progress"}},
                )
                return Claim.ACQUIRED
            except self.client.exceptions.ConditionalCheckFailedException:
                entry = self.lookup(key)
                if entry is not None:
                    return Claim(entry.status)
            except Exception as exc:
                raise LedgerError(f"DynamoDB ledger {self.table_name}: claim of {key} failed: {exc}") from exc
        return Claim.IN_PROGRESS

    def complete(self, key: str, detail: str = "") -> None:
        self._close(key, "completed", detail)

    def fail(self, key: str, reason: str) -> None:
        self._close(key, "failed", reason)

    def release(self, key: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key={"id": {"S": key}},
                ConditionExpression="#status = :in_progress",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":in_progress": {"S": "in_progress"}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # closed by someone else meanwhile: nothing to give back
        except Exception as exc:
            raise LedgerError(f"DynamoDB ledger {self.table_name}: release of {key} failed: {exc}") from exc

    def lookup(self, key: str) -> LedgerEntry | None:
        try:
            item = self.client.get_item(
                TableName=self.table_name, Key={"id": {"S": key}}, ConsistentRead=True
            ).get("Item")
        except Exception as exc:
            raise LedgerError(f"DynamoDB ledger {self.table_name}: read of {key} failed: {exc}") from exc
        if item is None or float(item["expiration"]["N"]) < self._clock():
            return None  # expired items linger until DynamoDB's TTL sweep deletes them
        status = item["status"]["S"]
        expires = float(item["in_progress_expiry"]["N"]) if status == "in_progress" else math.inf
        return LedgerEntry(status, expires, item.get("detail", {}).get("S", ""))

    def status(self, key: str) -> str | None:
        entry = self.lookup(key)
        return entry.status if entry else None

    def _close(self, key: str, status: str, detail: str) -> None:
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "id": {"S": key},
                    "status": {"S": status},
                    "detail": {"S": detail[:1000]},
                    "expiration": {"N": _n(self._clock() + self._record_ttl)},
                },
            )
        except Exception as exc:
            raise LedgerError(f"DynamoDB ledger {self.table_name}: {status} of {key} failed: {exc}") from exc


def create_ledger_table(client: DynamoDBClient, table_name: str) -> str:
    """Create the ledger's table (on-demand, TTL on ``expiration``); returns its ARN."""
    arn: str = client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    return arn


def _n(value: float) -> str:
    return f"{value:.3f}"
