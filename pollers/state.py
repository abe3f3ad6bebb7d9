"""Where a cursor is saved between runs: a local file (write, fsync, rename) or an S3 object."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pollers.errors import CursorStateError, PollerConfigError

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client


@runtime_checkable
class StateStore(Protocol):
    """Load and save a JSON document atomically: a reader sees the old or the new, never half.

    Any object with these two methods will do (a database row, a DynamoDB item, ...); pass it as
    a poller's ``state_path``. An optional ``where`` attribute names it in error messages.
    """

    def load(self) -> dict[str, Any] | None: ...

    def save(self, document: dict[str, Any]) -> None: ...


class MemoryStateStore:
    """Keeps the document in memory; what a poller without ``state_path`` uses."""

    where = "in-memory state"

    def __init__(self) -> None:
        self.document: dict[str, Any] | None = None

    def load(self) -> dict[str, Any] | None:
        return self.document

    def save(self, document: dict[str, Any]) -> None:
        self.document = json.loads(json.dumps(document))


class FileStateStore:
    """A JSON file replaced atomically: written to a temporary file beside it, then renamed."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.where = str(self.path)

    def load(self) -> dict[str, Any] | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return parse_document(data, self.where)

    def save(self, document: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class S3StateStore:
    """A JSON object in S3; a PUT replaces an object atomically, so no rename is needed."""

    def __init__(self, client: S3Client, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.where = f"s3://{bucket}/{key}"

    def load(self) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        except self.client.exceptions.NoSuchBucket as exc:
            raise PollerConfigError(f"cursor state {self.where}: the bucket does not exist") from exc
        return parse_document(body, self.where)

    def save(self, document: dict[str, Any]) -> None:
        body = json.dumps(document, separators=(",", ":")).encode()
        self.client.put_object(Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json")


def parse_document(text: str | bytes, where: str) -> dict[str, Any]:
    """A saved cursor document, or a ``CursorStateError`` saying where and why it is unreadable.

    NaN and infinities are refused here (Python's JSON reader accepts them; no other does).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CursorStateError(f"cursor state {where} is not UTF-8 text: {exc}") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise CursorStateError(f"cursor state {where} is not valid JSON: {exc}") from None
    except ValueError as exc:
        raise CursorStateError(f"cursor state {where}: {exc}") from None
    if not isinstance(document, dict):
        raise CursorStateError(f"cursor state {where} must hold a JSON object")
    return document


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid number in a saved cursor")


StateLocation = str | os.PathLike[str] | StateStore | None


def state_store_for(state_path: StateLocation, s3_client: S3Client | None = None) -> StateStore:
    """A store object is used as is; ``None`` keeps state in memory; ``s3://bucket/key`` uses S3
    (``s3_client`` required); anything else is a file path."""
    if state_path is None:
        return MemoryStateStore()
    if isinstance(state_path, StateStore):
        return state_path
    text = os.fspath(state_path)
    if text.startswith("s3://"):
        bucket, _, key = text[5:].partition("/")
        if not bucket or not key:
            raise PollerConfigError(f"an S3 state path needs a bucket and a key: {text!r}")
        if s3_client is None:
            raise PollerConfigError(f"the state path {text!r} needs an S3 client: pass s3_client=")
        return S3StateStore(s3_client, bucket, key)
    return FileStateStore(text)
