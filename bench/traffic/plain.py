"""A plain CSV of your own: a header ``time,key`` or ``time,key,size``, then one object per line in
time order (ISO 8601 or epoch seconds; size in bytes). The simplest export of anything."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from bench.traffic.model import Access, Checks, Op, TrafficError
from bench.traffic.textio import open_text
from bench.traffic.times import parse_time

COLUMNS = ("time", "key", "size")


def looks_like(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip().lower()
    return first.startswith("time,key")


def read_plain(path: Path, checks: Checks) -> Iterator[Access]:
    checks.start_file(path, ordered=True)
    with open_text(path) as f:
        rows = csv.reader(f)
        header = [h.strip().lower() for h in next(rows, [])]
        header[:1] = [header[0].lstrip("\ufeff")] if header else []
        unknown = [h for h in header if h not in COLUMNS]
        if unknown or header[:2] != ["time", "key"]:
            raise TrafficError(
                path,
                1,
                f"header {','.join(header)!r}: expected time,key or time,key,size"
                + (f" (unknown column {unknown[0]!r})" if unknown else ""),
            )
        sized = len(header) == 3
        for row in rows:
            number = rows.line_num
            if not row or row == [""]:
                continue
            checks.notes.records += 1
            if len(row) != len(header):
                raise TrafficError(path, number, f"{len(row)} fields, the header has {len(header)}")
            try:
                t = parse_time(row[0])
            except ValueError:
                problem = f"time {row[0]!r} is neither ISO 8601 nor epoch seconds"
                raise TrafficError(path, number, problem) from None
            size = None
            if sized and row[2].strip() not in ("", "-"):
                try:
                    size = int(row[2])
                except ValueError:
                    problem = f"size {row[2]!r} is not a whole number of bytes"
                    raise TrafficError(path, number, problem) from None
            elif sized:
                checks.notes.note("no size (size unknown)")
            if not row[1]:
                raise TrafficError(path, number, "empty key")
            yield checks.check(Access(t, Op.CREATE, row[1], size, "", None), path, number)
