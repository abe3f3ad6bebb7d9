"""S3 Inventory: a ``manifest.json`` naming its data files (CSV gzip or Apache Parquet) and their
``fileSchema`` (S3 User Guide, "Locating your inventory list", read 2026-12-07), read through the
manifest so the columns are known. Fields used: ``Key``, ``Size``, ``LastModifiedDate``, and
``VersionId``/``IsLatest``/``IsDeleteMarker`` when present. CSV inventory keys are URL-encoded (S3
User Guide, "Amazon S3 inventory list", read 2026-12-07); Parquet's are not. The list is eventually
consistent: it "might not include recently added or deleted objects".

An inventory is a listing, not a log: it holds the objects that exist (every version, with versions
included), each with the time it was last written. Objects overwritten or deleted before the report
are not in it; a multipart upload's ``LastModifiedDate`` is when the upload started. It is also
ordered by key, not time (disorder is counted, not an error).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from bench.traffic.model import Access, Checks, Op, TrafficError
from bench.traffic.textio import open_text
from bench.traffic.times import parse_time

# fileSchema names the S3 User Guide documents (CSV spelling; Parquet uses the snake_case form)
FIELDS = (
    "Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size", "LastModifiedDate", "ETag",
    "StorageClass", "IsMultipartUploaded", "ReplicationStatus", "EncryptionStatus",
    "ObjectLockRetainUntilDate", "ObjectLockMode", "ObjectLockLegalHoldStatus",
    "IntelligentTieringAccessTier", "BucketKeyStatus", "ChecksumAlgorithm", "ObjectAccessControlList",
    "ObjectOwner", "LifecycleExpirationDate",
)  # fmt: skip
SNAKE = {
    "Bucket": "bucket", "Key": "key", "VersionId": "version_id", "IsLatest": "is_latest",
    "IsDeleteMarker": "is_delete_marker", "Size": "size", "LastModifiedDate": "last_modified_date",
}  # fmt: skip


def looks_like(path: Path, text: str) -> bool:
    return path.name.endswith("manifest.json") or ('"fileSchema"' in text[:8192] and '"files"' in text[:8192])


def _manifest(path: Path) -> dict[str, Any]:
    with open_text(path) as f:
        try:
            document = json.load(f)
        except json.JSONDecodeError as exc:
            raise TrafficError(path, exc.lineno, f"not JSON: {exc.msg}") from None
    for field in ("fileFormat", "fileSchema", "files"):
        if field not in document:
            raise TrafficError(path, "manifest", f"no {field!r} (an S3 Inventory manifest.json has it)")
    return dict(document)


def data_files(manifest: Path, files: Sequence[Any]) -> list[Path]:
    """Each listed file on this machine, all checked before any is read: the key's tail beside the
    manifest, or the whole key under one of the four folders above it (AWS's layout:
    ``prefix/source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json``)."""
    found = []
    for i, entry in enumerate(files):
        key = str(entry.get("key", "")) if isinstance(entry, dict) else ""
        if not key:
            raise TrafficError(manifest, f"files[{i}]", "no 'key'")
        parts = Path(key).parts
        candidates = [manifest.parent / Path(*parts[j:]) for j in range(len(parts))]
        # the key is relative to the destination bucket, four folders above a manifest in AWS's layout
        candidates += [folder / key for folder in list(manifest.parents)[:4]]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            raise TrafficError(
                manifest,
                f"files[{i}]",
                f"{key} is not on this machine (looked beside the manifest and above it)",
            )
        found.append(hit)
    return found


def _schema(manifest: Path, text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        documented = ", ".join(FIELDS)
        raise TrafficError(manifest, "fileSchema", f"unknown field {unknown[0]!r} (documented: {documented})")
    for needed in ("Key", "LastModifiedDate"):
        if needed not in names:
            raise TrafficError(manifest, "fileSchema", f"no {needed} (needed for arrival times)")
    return names


def read_inventory(manifest: Path, checks: Checks) -> Iterator[Access]:
    document = _manifest(manifest)
    fmt = str(document["fileFormat"]).lower()
    if fmt not in ("csv", "parquet"):
        raise TrafficError(manifest, "fileFormat", f"{document['fileFormat']}: pve reads CSV or Parquet")
    bucket = str(document.get("sourceBucket", ""))
    files = data_files(manifest, document["files"])
    if fmt == "csv":
        names = _schema(manifest, str(document["fileSchema"]))
        for path in files:
            yield from _read_csv(path, names, bucket, checks)
    else:
        for path in files:
            yield from _read_parquet(path, bucket, checks)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _row(values: dict[str, Any], bucket: str, path: Path, where: int | str, checks: Checks) -> Access | None:
    if values.get("is_latest") is not None and not _flag(values["is_latest"]):
        checks.notes.note("noncurrent version (an overwritten object, counted at its own time)")
    op = Op.DELETE if _flag(values.get("is_delete_marker")) else Op.CREATE
    raw_size = values.get("size")
    size = None
    if raw_size not in (None, ""):
        try:
            size = int(raw_size)
        except (TypeError, ValueError):
            raise TrafficError(path, where, f"Size {raw_size!r} is not a whole number") from None
    elif op is Op.CREATE:
        checks.notes.note("no Size (size unknown)")
    modified = values.get("last_modified_date")
    if modified in (None, ""):
        raise TrafficError(path, where, "no LastModifiedDate")
    try:
        t = modified if isinstance(modified, float) else parse_time(str(modified))
    except ValueError:
        raise TrafficError(path, where, f"LastModifiedDate {modified!r} is not ISO 8601") from None
    return Access(t, op, str(values["key"]), size, str(values.get("bucket") or bucket), None)


def _read_csv(path: Path, names: list[str], bucket: str, checks: Checks) -> Iterator[Access]:
    checks.start_file(path, ordered=False)
    columns = [SNAKE.get(n, n) for n in names]
    with open_text(path) as f:
        rows = csv.reader(f)
        for row in rows:
            if not row:
                continue
            number = rows.line_num
            checks.notes.records += 1
            if len(row) != len(columns):
                problem = f"{len(row)} fields, the manifest's fileSchema has {len(columns)}"
                raise TrafficError(path, number, problem)
            values: dict[str, Any] = dict(zip(columns, row, strict=True))
            # "When using the CSV file format, the key name is URL-encoded and must be decoded"; decoded
            # as a form (a '+' is a space), as S3 encodes its notifications' keys: a literal '+' is %2B
            values["key"] = unquote_plus(values["key"])
            access = _row(values, bucket, path, number, checks)
            if access is not None:
                yield checks.check(access, path, number)


def _read_parquet(path: Path, bucket: str, checks: Checks) -> Iterator[Access]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # the [traffic] extra
        raise TrafficError(
            path, "file", "reading Parquet needs pyarrow: pip install 'poll-vs-events[traffic]'"
        ) from None

    checks.start_file(path, ordered=False)
    try:
        file = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise TrafficError(path, "file", f"not a Parquet file: {exc}") from None
    present = set(file.schema_arrow.names)
    for needed in ("key", "last_modified_date"):
        if needed not in present:
            raise TrafficError(path, "schema", f"no column {needed!r} (an S3 Inventory Parquet file has it)")
    wanted = [c for c in SNAKE.values() if c in present]
    row = 0
    for batch in file.iter_batches(columns=wanted, batch_size=65536):
        table = batch.to_pydict()
        stamps = batch.column(wanted.index("last_modified_date"))
        if pa.types.is_timestamp(stamps.type):  # TIMESTAMP_MILLIS as the manifest documents
            seconds = pa.compute.divide(stamps.cast(pa.timestamp("ms")).cast(pa.int64()), 1000.0).to_pylist()
            table["last_modified_date"] = seconds
        for i in range(batch.num_rows):
            row += 1
            checks.notes.records += 1
            values = {c: table[c][i] for c in wanted}
            access = _row(values, bucket, path, f"row {row}", checks)
            if access is not None:
                yield checks.check(access, path, f"row {row}")
