"""Where a task reads its object and writes its output: an S3 bucket or a local folder."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from event_handlers.errors import ObjectMissingError


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

    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket
        self.name = f"s3://{bucket}"

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
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


class LocalFolderStore:
    """Files under a folder, keys as relative paths with ``/``; outputs are written atomically."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.name = str(self.root)

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

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key {key!r} points outside {self.root}")
        return path
