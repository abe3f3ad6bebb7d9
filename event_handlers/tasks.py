"""The per-file work, from the seed's two examples: a CSV summary and an image thumbnail.

Each task reads one object from an ``ObjectStore``, writes one output under its own prefix, and
returns a ``TaskResult``. Reads are streamed (the CSV summary holds one row at a time, whatever
the file's size). Inputs that no retry can fix raise a ``PermanentError`` naming the problem.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, ClassVar, Protocol

from PIL import Image, UnidentifiedImageError

from event_handlers.errors import (
    ConfigError,
    CorruptInputError,
    EmptyInputError,
    InvalidKeyError,
    RecursionGuardError,
)
from event_handlers.filters import KeyFilter
from event_handlers.keys import check_key
from event_handlers.storage import CountingReader, ObjectStore

_READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class TaskResult:
    """What a task did with one object."""

    key: str
    output_key: str | None
    bytes_read: int
    summary: dict[str, Any] = field(default_factory=dict)


class Task(Protocol):
    """The per-file work both strategies run."""

    @property
    def name(self) -> str: ...  # read-only: a task class names itself with a ClassVar

    def __call__(self, store: ObjectStore, key: str) -> TaskResult: ...


@dataclass
class CsvSummary:
    """Rows, columns and the sum of every column whose values are all numbers."""

    rows: int = 0
    columns: int = 0
    header: list[str] = field(default_factory=list)
    numeric_sums: dict[str, float] = field(default_factory=dict)
    ragged_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": self.columns,
            "header": self.header,
            "numeric_sums": self.numeric_sums,
            "ragged_rows": self.ragged_rows,
        }


def summarize_csv(stream: Any) -> CsvSummary:
    """Summarise a CSV from a binary stream, one row at a time (memory does not grow with size).

    The first row is the header. A column is numeric when every non-empty cell parses as a finite
    float; its sum is exact to float precision (``math.fsum`` over the column, kept as partials).
    """
    text = io.TextIOWrapper(io.BufferedReader(stream, _READ_CHUNK), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, strict=True)  # an unterminated quote is an error, not a long cell
    try:
        header = next(reader, None)
        if header is None:
            raise EmptyInputError("empty file: a CSV needs at least a header row")
        summary = CsvSummary(columns=len(header), header=header)
        partials: list[list[float]] = [[] for _ in header]
        numeric = [True] * len(header)
        for row in reader:
            summary.rows += 1
            if len(row) != len(header):
                summary.ragged_rows += 1
            for i, cell in enumerate(row[: len(header)]):
                if not numeric[i] or cell == "":
                    continue
                try:
                    value = float(cell)
                except ValueError:
                    numeric[i] = False
                    partials[i] = []
                    continue
                if not math.isfinite(value):
                    numeric[i] = False
                    continue
                partials[i].append(value)
                if len(partials[i]) >= 4096:  # keep memory bounded, stay exact
                    partials[i] = [math.fsum(partials[i])]
    except UnicodeDecodeError as exc:
        raise CorruptInputError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except csv.Error as exc:
        raise CorruptInputError(f"malformed CSV at line {reader.line_num}: {exc}") from None
    finally:
        text.detach()
    summary.numeric_sums = {name: math.fsum(partials[i]) for i, name in enumerate(header) if numeric[i]}
    return summary


def refuse_loops(task: str, output_prefix: str, suffix: str, filters: Sequence[KeyFilter]) -> None:
    """At construction (function start): refuse an output prefix a trigger filter could match."""
    for rule in filters:
        if rule.could_match_output(output_prefix, suffix):
            raise RecursionGuardError(
                f"{task} outputs written under {output_prefix!r} would match the trigger "
                f"filter ({rule.describe()}) and invoke this function again; write them "
                "under a prefix the trigger does not watch, or narrow the trigger"
            )


def checked_output_key(out: str, filters: Sequence[KeyFilter]) -> str:
    """Before each write: the output key is one S3 can hold and no trigger watches."""
    check_key(out, "output key")
    for rule in filters:
        if rule.matches(out):
            raise RecursionGuardError(f"output {out!r} matches trigger filter ({rule.describe()})")
    return out


@dataclass
class CsvSummaryTask:
    """The seed's data example: summarise each CSV and write ``<output_prefix><key>.summary.json``.

    ``trigger_filters`` guard against an invocation loop as the thumbnail task's do.
    """

    output_prefix: str = "summaries/"
    trigger_filters: Sequence[KeyFilter] = ()
    name: ClassVar[str] = "csv-summary"
    suffix: ClassVar[str] = ".summary.json"

    def __post_init__(self) -> None:
        refuse_loops(self.name, self.output_prefix, self.suffix, self.trigger_filters)

    def output_key(self, key: str) -> str:
        return f"{self.output_prefix}{key}{self.suffix}"

    def __call__(self, store: ObjectStore, key: str) -> TaskResult:
        out = checked_output_key(self.output_key(key), self.trigger_filters)
        with store.open(key) as body:
            counting = CountingReader(body)
            summary = summarize_csv(counting)
        document = {"key": key, **summary.as_dict()}
        store.put(out, json.dumps(document).encode(), "application/json")
        return TaskResult(key, out, counting.bytes_read, {"rows": summary.rows, "columns": summary.columns})


@dataclass
class ThumbnailTask:
    """The seed's image example, fixed: JPEG thumbnails under a prefix no trigger of ours watches.

    The seed wrote ``thumbnails/{key}`` into the very bucket that triggers it, keeping the input's
    extension on JPEG bytes; without a filter excluding ``thumbnails/``, every thumbnail triggers
    the function again. Here ``trigger_filters`` are the filters of the rules that invoke this
    function: construction refuses an output prefix any of them could match, and every output
    key is checked again before it is written.
    """

    output_prefix: str = "thumbnails/"
    size: tuple[int, int] = (200, 200)
    trigger_filters: Sequence[KeyFilter] = ()
    max_bytes: int = 50 * 1024 * 1024
    name: ClassVar[str] = "thumbnail"
    suffix: ClassVar[str] = ".jpg"

    def __post_init__(self) -> None:
        refuse_loops(self.name, self.output_prefix, self.suffix, self.trigger_filters)

    def output_key(self, key: str) -> str:
        try:
            stem = PurePosixPath(key).with_suffix(self.suffix).as_posix()
        except ValueError:  # "." or ".." has no name to give a suffix
            raise InvalidKeyError(f"key {key!r} names no file to make a thumbnail of") from None
        return f"{self.output_prefix}{stem}"

    def __call__(self, store: ObjectStore, key: str) -> TaskResult:
        out = checked_output_key(self.output_key(key), self.trigger_filters)
        with store.open(key) as body:
            counting = CountingReader(body)
            data = _read_at_most(counting, self.max_bytes + 1)
        if not data:
            raise EmptyInputError("empty file: no image to read")
        if len(data) > self.max_bytes:
            raise CorruptInputError(f"image larger than {self.max_bytes} bytes; refusing to load it")
        thumbnail, original = _thumbnail(data, self.size)
        store.put(out, thumbnail, "image/jpeg")
        return TaskResult(
            key,
            out,
            counting.bytes_read,
            {"width": original[0], "height": original[1], "thumbnail_bytes": len(thumbnail)},
        )


def _read_at_most(stream: Any, limit: int) -> bytes:
    parts, total = [], 0
    while total < limit:
        chunk = stream.read(min(_READ_CHUNK, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def _thumbnail(data: bytes, size: tuple[int, int]) -> tuple[bytes, tuple[int, int]]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            original = image.size
            image.thumbnail(size)
            rgb = image.convert("RGB")  # JPEG has no alpha channel or palette
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise CorruptInputError(f"not a readable image: {exc}") from None
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue(), original


@dataclass
class NoopTask:
    """Read the object to the end and write nothing: the cost of fetching alone.

    It writes nothing, so it cannot loop; ``trigger_filters`` is accepted for a uniform interface.
    """

    trigger_filters: Sequence[KeyFilter] = ()
    name: ClassVar[str] = "noop"

    def __call__(self, store: ObjectStore, key: str) -> TaskResult:
        with store.open(key) as body:
            counting = CountingReader(body)
            while counting.read(_READ_CHUNK):
                pass
        return TaskResult(key, None, counting.bytes_read)


TASKS: dict[str, type] = {"csv-summary": CsvSummaryTask, "thumbnail": ThumbnailTask, "noop": NoopTask}


def make_task(name: str, **options: Any) -> Task:
    """Build a task by name (``csv-summary``, ``thumbnail``, ``noop``) with its options."""
    try:
        cls = TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None
    task: Task = cls(**options)
    return task
