"""Where a task reads its object and writes its output: an S3 bucket or a local folder."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from event_handlers.errors import InvocationTimedOutError, ObjectMissingError, PathRefusedError
from event_handlers.idempotency import ObjectVersion, normalize_etag

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from types_boto3_s3.client import S3Client


class ObjectStore(Protocol):
    """Read one object as a stream; write one output object."""

    name: str

    def open(self, key: str) -> Any:
        """A context manager yielding a binary, non-seekable stream of the object."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...


class CountingReader(io.RawIOBase):
    """Wraps a stream and counts the bytes read through it, so tasks can report bytes read."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._raw.read(len(buffer))
        n = len(chunk)
        buffer[:n] = chunk
        self.bytes_read += n
        return n


class S3ObjectStore:
    """Objects of one bucket; reads stream the body instead of reading it whole."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client, self.bucket = client, bucket
        self.name = f"s3://{bucket}"

    @contextmanager
    def open(self, key: str) -> Iterator[StreamingBody]:
        """The body as botocore streams it (``read(n)`` and ``close``; not a full ``BinaryIO``)."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise ObjectMissingError(
                f"s3://{self.bucket}/{key} does not exist (deleted, or the key was decoded wrongly)"
            ) from None
        body = response["Body"]
        try:
            yield body
        finally:
            body.close()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def describe(self, key: str) -> ObjectVersion:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NotFound", "NoSuchKey"):
                raise ObjectMissingError(f"s3://{self.bucket}/{key} does not exist") from None
            raise
        return ObjectVersion(
            self.bucket,
            key,
            version_id=head.get("VersionId"),
            etag=normalize_etag(head.get("ETag")),
            size=head.get("ContentLength"),
        )


#: ``guard(root, key) -> path``: the path of ``key`` under ``root``, raising ``ValueError`` if it
#: would leave it (``pollers.paths.confine`` fits; ``bench`` injects it so one guard runs everywhere).
PathGuard = Callable[[Path, str], Path]


class LocalFolderStore:
    """Files under a folder, keys as relative paths with ``/``; outputs are written atomically.

    ``guard`` checks every key (see ``PathGuard``); without one the store's own check runs.
    """

    def __init__(self, root: str | os.PathLike[str], *, guard: PathGuard | None = None) -> None:
        self.root = Path(root)
        self.name = str(self.root)
        self._guard = guard

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise ObjectMissingError(f"{path} does not exist (moved or deleted)") from None
        with handle:
            yield handle

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def describe(self, key: str) -> ObjectVersion:
        """The identity ``folder_notification`` gives a file: inode, mtime and size."""
        try:
            stat = self._path(key).stat()
        except FileNotFoundError:
            raise ObjectMissingError(f"{self._path(key)} does not exist (moved or deleted)") from None
        etag = f"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}"
        return ObjectVersion(self.name, key, etag=etag, size=stat.st_size)

    def _path(self, key: str) -> Path:
        if self._guard is not None:
            try:
                return self._guard(self.root, key)
            except ValueError as exc:
                raise PathRefusedError(str(exc)) from None
        if "\x00" in key:
            raise PathRefusedError(f"key {key[:60]!r} contains a NUL byte; no file can be named so")
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or path == self.root.resolve():
            raise PathRefusedError(f"key {key!r} points outside {self.root}; refused")
        return path


class DeadlineStore:
    """A store that refuses work once the invocation's deadline has passed.

    Lambda stops a timed-out invocation; a thread cannot be stopped, so this store stops its
    I/O instead: a read or a write after the deadline raises ``InvocationTimedOutError`` and the
    late output is never written.
    """

    def __init__(self, inner: ObjectStore, remaining_ms: Any) -> None:
        self.inner, self._remaining_ms = inner, remaining_ms
        self.name = inner.name

    def _check(self, what: str, key: str) -> None:
        if self._remaining_ms() <= 0:
            raise InvocationTimedOutError(f"{what} of {key!r} refused: the invocation timed out")

    def open(self, key: str) -> Any:
        self._check("read", key)
        return self.inner.open(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._check("write", key)
        self.inner.put(key, data, content_type)

    def describe(self, key: str) -> ObjectVersion:
        self._check("describe", key)
        describe = getattr(self.inner, "describe", None)
        if describe is None:
            raise AttributeError(f"{self.inner.name} cannot describe objects")
        result: ObjectVersion = describe(key)
        return result
