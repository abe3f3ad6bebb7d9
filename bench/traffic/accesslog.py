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

import calendar
import re
from collections import Counter
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
OPS = {**dict.fromkeys(CREATE, Op.CREATE), **dict.fromkeys(DELETE, Op.DELETE), **dict.fromkeys(LIST, Op.LIST)}
FORMAT_PAGE = "see the S3 User Guide, 'Amazon S3 server access log format'"
PREFIX = re.compile(r"[?&]prefix=([^& ]*)")
TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


def looks_like(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    match = RECORD.match(first)
    return bool(match and "." in match.group(7))


MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


class _Times:
    """``06/Feb/2019:00:00:38 +0000`` -> epoch seconds: sliced by hand (``strptime`` costs more than the
    rest of a record), each day's midnight computed once; anything else goes to ``strptime``, whose
    error names the problem."""

    def __init__(self) -> None:
        self.days: dict[str, int] = {}

    def __call__(self, text: str) -> float:
        day = self.days.get(text[:11])
        if day is None or len(text) != 26 or text[11] != ":" or text[14] != ":" or text[17] != ":":
            return self._slow(text)
        try:
            hms = int(text[12:14]) * 3600 + int(text[15:17]) * 60 + int(text[18:20])
            offset = int(text[22:24]) * 3600 + int(text[24:26]) * 60
        except ValueError:
            return self._slow(text)
        return float(day + hms - (offset if text[21] == "+" else -offset))

    def _slow(self, text: str) -> float:
        value = datetime.strptime(text, TIME_FORMAT).timestamp()  # ValueError: the caller names the line
        if len(text) == 26 and text[3:6] in MONTHS:
            midnight = calendar.timegm((int(text[7:11]), MONTHS[text[3:6]], int(text[0:2]), 0, 0, 0))
            self.days[text[:11]] = midnight
        return value


def read_access_log(path: Path, checks: Checks) -> Iterator[Access]:
    notes = checks.notes
    checks.start_file(path, ordered=False)  # AWS promises no order within a log file
    parse_time = _Times()
    others: Counter[str] = Counter()  # operations not counted, merged into the notes at the end
    failed: Counter[str] = Counter()
    records = 0
    try:
        with open_text(path) as f:
            for number, line in enumerate(f, 1):
                if line == "\n" or not line.strip():
                    continue
                records += 1
                match = RECORD.match(line)
                if match is None:
                    raise TrafficError(path, number, f"not an S3 server access log record ({FORMAT_PAGE})")
                fields = match.groups()
                operation, status, when = fields[6], fields[9], fields[2]
                op = OPS.get(operation)
                if op is None:
                    others[operation] += 1
                    continue
                if status[0] != "2":
                    failed[status] += 1
                    continue
                try:
                    t = parse_time(when)
                except ValueError:
                    raise TrafficError(path, number, f"time [{when}] is not [{TIME_FORMAT}]") from None
                access = _access(op, t, fields, notes, path, number)
                if access is not None:
                    yield checks.check(access, path, number)
    finally:
        notes.records += records
        for operation, n in others.items():
            notes.skipped[f"other operation {operation}"] += n
        for status, n in failed.items():
            notes.skipped[f"failed request (HTTP {status})"] += n


def _access(
    op: Op, t: float, fields: tuple[str, ...], notes: ReadNotes, path: Path, number: int
) -> Access | None:
    """The access a counted record stands for (None, counted, for a key of '-')."""
    bucket, operation, key, uri, size = fields[1], fields[6], fields[7], fields[8], fields[12]
    if op is Op.LIST:
        found = PREFIX.search(uri or "")
        return Access(t, op, unquote_plus(found.group(1)) if found else "", None, bucket, None)
    if key == "-":
        notes.skip(f"{operation} with key '-'")
        return None
    nbytes: int | None = None
    if size == "-":
        if op is Op.CREATE:
            notes.note("object size '-' (size unknown)")
    else:
        try:
            nbytes = int(size)
        except ValueError:
            raise TrafficError(path, number, f"object size {size!r} is not a number or '-'") from None
    return Access(t, op, unquote(key) if "%" in key else key, nbytes, bucket, None)
