"""Where a cursor is saved between runs: a local file (write, fsync, rename) or an S3 object."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol


class StateStore(Protocol):
    """Load and save a JSON document atomically: a reader sees the old or the new, never half."""

    def load(self) -> dict[str, Any] | None: ...

    def save(self, document: dict[str, Any]) -> None: ...


class MemoryStateStore:
    """Keeps the document in memory; what a poller without ``state_path`` uses."""

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

    def load(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return parse_document(text, str(self.path))

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

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key

    def load(self) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        return parse_document(body, f"s3://{self.bucket}/{self.key}")

    def save(self, document: dict[str, Any]) -> None:
        body = json.dumps(document, separators=(",", ":")).encode()
        self.client.put_object(Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json")


def parse_document(text: str | bytes, where: str) -> dict[str, Any]:
    """A saved cursor document, or a ValueError saying where and why it is unreadable."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"cursor state {where} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError(f"cursor state {where} must hold a JSON object")
    return document


def state_store_for(state_path: str | os.PathLike[str] | None, s3_client: Any = None) -> StateStore:
    """``None`` keeps state in memory; ``s3://bucket/key`` uses S3; anything else is a file path."""
    if state_path is None:
        return MemoryStateStore()
    text = os.fspath(state_path)
    if text.startswith("s3://"):
        bucket, _, key = text[5:].partition("/")
        if not bucket or not key:
            raise ValueError(f"an S3 state path needs a bucket and a key: {text!r}")
        if s3_client is None:
            raise ValueError("an s3:// state path needs an S3 client")
        return S3StateStore(s3_client, bucket, key)
    return FileStateStore(text)
