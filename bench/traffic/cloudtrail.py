"""CloudTrail data events for S3: the JSON log files a trail delivers to S3 (gzip, one object with a
``Records`` array; AWS CloudTrail User Guide, "CloudTrail log file examples" and "CloudTrail record
contents", read 2026-12-07), and a CSV export of the same records (a CloudTrail Lake or Athena query
result: one column per record field, ``requestParameters`` as JSON or flattened to its fields).

"CloudTrail log files aren't an ordered stack trace of the public API calls": disorder is counted,
never an error. Creations are ``PutObject``, ``CompleteMultipartUpload``, ``CopyObject``; deletions
``DeleteObject``; listings ``ListObjects``/``ListObjectsV2``. A record with an ``errorCode`` failed
and is skipped (counted).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bench.traffic.model import Access, Checks, Op, TrafficError
from bench.traffic.textio import open_text
from bench.traffic.times import parse_time

OPS = {
    "PutObject": Op.CREATE,
    "CompleteMultipartUpload": Op.CREATE,
    "CopyObject": Op.CREATE,
    "DeleteObject": Op.DELETE,
    "ListObjects": Op.LIST,
    "ListObjectsV2": Op.LIST,
}
# the record's top-level fields (CloudTrail User Guide, "CloudTrail record contents"), lower case
RECORD_FIELDS = {
    "eventversion", "useridentity", "eventtime", "eventsource", "eventname", "awsregion", "sourceipaddress",
    "useragent", "errorcode", "errormessage", "requestparameters", "responseelements", "additionaleventdata",
    "requestid", "eventid", "eventtype", "apiversion", "managementevent", "readonly", "resources",
    "recipientaccountid", "serviceeventdetails", "sharedeventid", "vpcendpointid", "vpcendpointaccountid",
    "eventcategory", "addendum", "sessioncredentialfromconsole", "edgedevicedetails", "tlsdetails",
}  # fmt: skip
FLATTENED = ("requestparameters.", "additionaleventdata.", "useridentity.", "responseelements.")


def looks_like_json(text: str) -> bool:
    start = text.lstrip("\ufeff \n")[:4096]
    return start.startswith("{") and '"Records"' in start and "s3.amazonaws.com" in start


def looks_like_csv(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0].lower()
    return "eventtime" in first and "eventname" in first


def _access(record: Mapping[str, Any], checks: Checks, path: Path, where: str) -> Access | None:
    notes = checks.notes
    if record.get("eventSource", "s3.amazonaws.com") != "s3.amazonaws.com":
        notes.skip(f"not an S3 event ({record.get('eventSource')})")
        return None
    name = str(record.get("eventName", ""))
    op = OPS.get(name)
    if op is None:
        notes.skip(f"event {name or '(no eventName)'}")
        return None
    if record.get("errorCode"):
        notes.skip(f"failed request ({record['errorCode']})")
        return None
    params = record.get("requestParameters") or {}
    if not isinstance(params, Mapping):
        raise TrafficError(path, where, "requestParameters is not an object")
    try:
        t = parse_time(str(record["eventTime"]))
    except KeyError:
        raise TrafficError(path, where, "no eventTime") from None
    except ValueError:
        raise TrafficError(path, where, f"eventTime {record['eventTime']!r} is not ISO 8601") from None
    bucket = str(params.get("bucketName", ""))
    region = record.get("awsRegion")
    if op is Op.LIST:
        return Access(t, op, str(params.get("prefix") or ""), None, bucket, region)
    key = params.get("key")
    if not key:
        raise TrafficError(path, where, f"{name} without requestParameters.key")
    size = None
    extra = record.get("additionalEventData") or {}
    if name == "PutObject" and isinstance(extra, Mapping) and extra.get("bytesTransferredIn") is not None:
        try:
            size = int(extra["bytesTransferredIn"])
        except (TypeError, ValueError):
            raise TrafficError(path, where, f"bytesTransferredIn {extra['bytesTransferredIn']!r}") from None
    elif op is Op.CREATE:
        notes.note(f"{name} (size not in the record)")
    return Access(t, op, str(key), size, bucket, region)


def read_cloudtrail_json(path: Path, checks: Checks) -> Iterator[Access]:
    checks.start_file(path, ordered=False)
    with open_text(path) as f:
        try:
            document = json.load(f)
        except json.JSONDecodeError as exc:
            raise TrafficError(path, exc.lineno, f"not JSON: {exc.msg}") from None
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise TrafficError(path, 1, "a CloudTrail log file is an object with a 'Records' array")
    for i, record in enumerate(records):
        checks.notes.records += 1
        where = f"Records[{i}]"
        if not isinstance(record, Mapping):
            raise TrafficError(path, where, "not an object")
        access = _access(record, checks, path, where)
        if access is not None:
            yield checks.check(access, path, where)


def _nest(row: Mapping[str, str], path: Path, number: int) -> dict[str, Any]:
    """A CSV row as a record: JSON columns parsed, ``requestParameters.key`` columns nested."""
    record: dict[str, Any] = {}
    for column, value in row.items():
        lower = column.lower()
        if lower in ("requestparameters", "additionaleventdata"):
            try:
                record[column[0].lower() + column[1:]] = json.loads(value) if value else {}
            except json.JSONDecodeError:
                raise TrafficError(path, number, f"{column} is not JSON") from None
        elif "." in column:
            outer, inner = column.split(".", 1)
            record.setdefault(outer[0].lower() + outer[1:], {})[inner] = value
        else:
            record[_CANON.get(lower, column)] = value
    if "errorCode" in record and not record["errorCode"]:
        del record["errorCode"]
    return record


_CANON = {f.lower(): f for f in ("eventTime", "eventName", "eventSource", "awsRegion", "errorCode")}


def read_cloudtrail_csv(path: Path, checks: Checks) -> Iterator[Access]:
    checks.start_file(path, ordered=False)
    with open_text(path) as f:
        rows = csv.DictReader(f)
        columns = [c.lstrip("\ufeff") for c in rows.fieldnames or []]
        rows.fieldnames = columns
        unknown = [
            c for c in columns if c.lower() not in RECORD_FIELDS and not c.lower().startswith(FLATTENED)
        ]
        if unknown:
            raise TrafficError(path, 1, f"unknown column {unknown[0]!r}: not a CloudTrail record field")
        for row in rows:
            checks.notes.records += 1
            number = rows.line_num
            if None in row:
                raise TrafficError(path, number, "more fields than the header")
            access = _access(_nest(row, path, number), checks, path, f"line {number}")
            if access is not None:
                yield checks.check(access, path, number)
