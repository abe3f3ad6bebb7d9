"""S3 server access logs: the space-separated format with quoted fields of the S3 User Guide,
"Amazon S3 server access log format" (read 2026-12-07).

Fields, in order: bucket owner, bucket, ``[time]`` (``[%d/%b/%Y:%H:%M:%S %z]``), remote IP,
requester, request ID, operation (``REST.PUT.OBJECT`` ...), key (URL-encoded, ``-`` when the
operation takes none), ``"Request-URI"``, HTTP status, error code, bytes sent, object size, then
fields this reader does not need. "Any field can be set to ``-``"; AWS may add fields at the end of
a record, so trailing fields are never an error. A copy is logged twice (``REST.COPY.OBJECT_GET``
for the source, ``REST.COPY.OBJECT`` for the new object); only the second is a creation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, unquote_plus

from bench.traffic.model import Access, Checks, Op, ReadNotes, TrafficError
from bench.traffic.textio import open_text

RECORD = re.compile(
    r'(\S+) (\S+) \[([^\]]+)\] (\S+) (\S+) (\S+) (\S+) (\S+) (?:"([^"]*)"|-) (\S+) (\S+) (\S+) (\S+)'
)
CREATE = {"REST.PUT.OBJECT", "REST.POST.UPLOAD", "REST.COPY.OBJECT", "REST.POST.OBJECT"}
DELETE = {"REST.DELETE.OBJECT", "BATCH.DELETE.OBJECT", "S3.EXPIRE.OBJECT"}
LIST = {"REST.GET.BUCKET"}  # ListObjects and ListObjectsV2 (the Request-URI tells them apart)
PREFIX = re.compile(r"[?&]prefix=([^& ]*)")
TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


def looks_like(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    match = RECORD.match(first)
    return bool(match and "." in match.group(7))


class _Times:
    """``[06/Feb/2019:00:00:38 +0000]`` -> epoch seconds, remembered: a log repeats each second many times."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        value = self.seen.get(text)
        if value is None:
            value = datetime.strptime(text, TIME_FORMAT).timestamp()
            if len(self.seen) > 100_000:
                self.seen.clear()
            self.seen[text] = value
        return value


def _classify(operation: str, status: str, notes: ReadNotes) -> Op | None:
    """The kind of access, or None (counted) for another operation or a failed request."""
    op = (
        Op.CREATE
        if operation in CREATE
        else Op.DELETE
        if operation in DELETE
        else Op.LIST
        if operation in LIST
        else None
    )
    if op is None:
        notes.skip(f"other operation {operation}")
    elif not status.startswith("2"):
        notes.skip(f"failed request (HTTP {status})")
        return None
    return op


def read_access_log(path: Path, checks: Checks) -> Iterator[Access]:
    notes = checks.notes
    checks.start_file(path, ordered=False)  # AWS promises no order within a log file
    parse_time = _Times()
    with open_text(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            notes.records += 1
            match = RECORD.match(line)
            if match is None:
                raise TrafficError(
                    path,
                    number,
                    "not an S3 server access log record (see the S3 User Guide, "
                    "'Amazon S3 server access log format')",
                )
            _, bucket, when, _, _, _, operation, key, uri, status, _, _, size = match.groups()
            op = _classify(operation, status, notes)
            if op is None:
                continue
            try:
                t = parse_time(when)
            except ValueError:
                raise TrafficError(path, number, f"time [{when}] is not [%d/%b/%Y:%H:%M:%S %z]") from None
            if op is Op.LIST:
                found = PREFIX.search(uri or "")
                name = unquote_plus(found.group(1)) if found else ""
                yield checks.check(Access(t, op, name, None, bucket, None), path, number)
                continue
            if key == "-":
                notes.skip(f"{operation} with key '-'")
                continue
            nbytes: int | None = None
            if size == "-":
                if op is Op.CREATE:
                    notes.note("object size '-' (size unknown)")
            else:
                try:
                    nbytes = int(size)
                except ValueError:
                    raise TrafficError(path, number, f"object size {size!r} is not a number or '-'") from None
            name = unquote(key) if "%" in key else key
            yield checks.check(Access(t, op, name, nbytes, bucket, None), path, number)
