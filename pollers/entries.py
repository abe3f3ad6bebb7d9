"""What a listing yields: one entry per file or object, before any decision is made about it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    """A file in a folder or an object in a bucket, as one listing saw it.

    ``mtime`` is epoch seconds: ``st_mtime`` for a file, ``LastModified`` for an S3 object (which,
    for a multipart upload, is when the upload *started*, not when it completed). ``etag`` is the
    S3 ETag without quotes, or None for local files.
    """

    key: str
    size: int
    mtime: float
    etag: str | None = None

    @property
    def version(self) -> str:
        """What changes when the content is replaced: the etag, else mtime and size (files)."""
        return self.etag if self.etag is not None else f"{self.mtime!r}/{self.size}"
