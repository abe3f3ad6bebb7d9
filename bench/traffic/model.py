"""What every traffic reader yields: one :class:`Access` per object creation, deletion or listing,
and the notes of a read (what was skipped and why, what arrived out of time order)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from bench.errors import InputError

FUTURE_SLACK_S = 300.0  # clocks differ: a record up to five minutes ahead of this machine is not "future"


class Op(StrEnum):
    CREATE = "create"  # PutObject, POST upload, CopyObject, CompleteMultipartUpload
    DELETE = "delete"
    LIST = "list"  # a ListObjects(V2) request: what a poller pays for today


class Access(NamedTuple):
    """One request on one key (a NamedTuple: a million of them are read per second or so)."""

    time: float  # seconds since the epoch, UTC
    op: Op
    key: str  # decoded; for a LIST, the listed prefix ("" for the whole bucket)
    size: int | None  # bytes, when the source says
    bucket: str
    region: str | None


class TrafficError(InputError):
    """A record that cannot be read as its format documents: the message names file and line."""

    def __init__(self, path: Path | str, where: int | str, problem: str) -> None:
        place = f"line {where}" if isinstance(where, int) else where
        super().__init__(f"{path}: {place}: {problem}")
        self.path = str(path)
        self.where = where


@dataclass
class ReadNotes:
    """What a read skipped (reason -> count) and noticed, reported with every profile."""

    records: int = 0  # records read (every line or JSON record, kept or not)
    skipped: Counter[str] = field(default_factory=Counter)
    noted: Counter[str] = field(default_factory=Counter)  # kept, with something unknown (a '-' size)
    out_of_order: int = 0  # records earlier than the one before (documented for CloudTrail, counted)
    files: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def note(self, what: str) -> None:
        self.noted[what] += 1

    def lines(self) -> list[str]:
        out = [f"read {self.records:,} records from {len(self.files)} file(s)"]
        out += [f"skipped {n:,}: {reason}" for reason, n in sorted(self.skipped.items())]
        out += [f"kept {n:,} with {what}" for what, n in sorted(self.noted.items())]
        if self.out_of_order:
            out.append(f"{self.out_of_order:,} records earlier than the record before them (sorted for you)")
        return out


class Checks:
    """The checks every reader applies to every record: the time is not in the future, the size not
    negative, the region the same throughout (one price list prices one region)."""

    def __init__(self, notes: ReadNotes, *, now: float | None = None) -> None:
        self.notes = notes
        self.limit = (time.time() if now is None else now) + FUTURE_SLACK_S
        self.ordered = False  # a format that promises time order: a step back is an error
        self.last = float("-inf")
        self.region: tuple[str, str] | None = None  # (region, where first seen)

    def start_file(self, path: Path, *, ordered: bool) -> None:
        self.notes.files.append(str(path))
        self.ordered = ordered
        self.last = float("-inf")

    def check(self, access: Access, path: Path, where: int | str) -> Access:
        if access.time > self.limit:
            raise TrafficError(path, where, f"time {_iso(access.time)} is in the future")
        if access.size is not None and access.size < 0:
            raise TrafficError(path, where, f"negative size {access.size}")
        if access.time < self.last:
            if self.ordered:
                problem = f"time {_iso(access.time)} is earlier than the line before ({_iso(self.last)})"
                raise TrafficError(path, where, problem)
            self.notes.out_of_order += 1
        else:
            self.last = access.time
        if access.region is not None:
            if self.region is None:
                self.region = (access.region, f"{path}: {where}")
            elif access.region != self.region[0]:
                raise TrafficError(
                    path,
                    where,
                    f"region {access.region} differs from {self.region[0]} (first seen at {self.region[1]}); "
                    "one price list prices one region: read each region on its own",
                )
        return access


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
