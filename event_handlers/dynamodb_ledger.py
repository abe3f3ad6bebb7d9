"""The idempotency ledger in DynamoDB: "processed once" across execution environments and pollers.

The rules are ``event_handlers.ledger.BaseLedger``'s; this module supplies its primitives, as
AWS Lambda Powertools' DynamoDB persistence layer does (``utilities/idempotency/persistence/
dynamodb.py``): a claim is a *conditional* ``PutItem`` that succeeds only if the item is absent
or past its record TTL, and taking over an expired (or dead holder's) claim is a ``PutItem``
conditioned on the very claim that was read; the in-progress expiry is the invocation's remaining
time; closed records carry a TTL attribute (epoch seconds) so DynamoDB deletes them after
``record_ttl_s``. Conditional writes make each step atomic for any number of concurrent writers
(DynamoDB Developer Guide, "Condition expressions", read 2026-11-27).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from event_handlers.errors import LedgerError
from event_handlers.ledger import DEFAULT_HOLD_S, BaseLedger, LedgerEntry, Status

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

ONE_WEEK_S = 7 * 24 * 3600.0


class DynamoDBLedger(BaseLedger):
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
        super().__init__(in_progress_ttl_s, clock)
        self.client, self.table_name = client, table_name
        self._record_ttl = record_ttl_s

    def _get(self, key: str) -> LedgerEntry | None:
        try:
            item = self.client.get_item(
                TableName=self.table_name, Key={"id": {"S": key}}, ConsistentRead=True
            ).get("Item")
        except Exception as exc:
            raise LedgerError(f"DynamoDB ledger {self.table_name}: read of {key} failed: {exc}") from exc
        if item is None or float(item["expiration"]["N"]) < self._clock():
            return None  # expired items linger until DynamoDB's TTL sweep deletes them
        status = Status(item["status"]["S"])
        expires = float(item["in_progress_expiry"]["N"]) if status is Status.IN_PROGRESS else math.inf
        text = {name: item.get(name, {}).get("S", "") for name in ("detail", "holder")}
        return LedgerEntry(status, expires, text["detail"], text["holder"])

    def _put_if(self, key: str, entry: LedgerEntry, expected: LedgerEntry | None) -> bool:
        if expected is None:
            condition: dict[str, Any] = {
                "ConditionExpression": "attribute_not_exists(id) OR #exp < :now",
                "ExpressionAttributeNames": {"#exp": "expiration"},
                "ExpressionAttributeValues": {":now": {"N": _n(self._clock())}},
            }
        else:
            condition = _still(expected)
        return self._write("claim", key, entry, condition)

    def _put(self, key: str, entry: LedgerEntry) -> None:
        self._write(entry.status.value, key, entry, {})

    def _delete_if(self, key: str, expected: LedgerEntry) -> bool:
        try:
            self.client.delete_item(TableName=self.table_name, Key={"id": {"S": key}}, **_still(expected))
        except self.client.exceptions.ConditionalCheckFailedException:
            return False  # closed or taken by someone else meanwhile: nothing to give back
        except Exception as exc:
            raise LedgerError(f"DynamoDB ledger {self.table_name}: release of {key} failed: {exc}") from exc
        return True

    def _write(self, action: str, key: str, entry: LedgerEntry, condition: dict[str, Any]) -> bool:
        item: dict[str, Any] = {
            "id": {"S": key},
            "status": {"S": entry.status.value},
            "expiration": {"N": _n(self._clock() + self._record_ttl)},
        }
        if entry.status is Status.IN_PROGRESS:
            item["in_progress_expiry"] = {"N": _n(entry.expires_at)}
            if entry.holder:
                item["holder"] = {"S": entry.holder}
        else:
            item["detail"] = {"S": entry.detail}
        try:
            self.client.put_item(TableName=self.table_name, Item=item, **condition)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        except Exception as exc:
            raise LedgerError(f"DynamoDB ledger {self.table_name}: {action} of {key} failed: {exc}") from exc
        return True


def _still(expected: LedgerEntry) -> dict[str, Any]:
    """The condition that the item is still the in-progress claim ``expected``."""
    holder = "#holder = :holder" if expected.holder else "attribute_not_exists(#holder)"
    values: dict[str, Any] = {
        ":status": {"S": expected.status.value},
        ":expiry": {"N": _n(expected.expires_at)},
    }
    if expected.holder:
        values[":holder"] = {"S": expected.holder}
    return {
        "ConditionExpression": f"#status = :status AND in_progress_expiry = :expiry AND {holder}",
        "ExpressionAttributeNames": {"#status": "status", "#holder": "holder"},
        "ExpressionAttributeValues": values,
    }


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
