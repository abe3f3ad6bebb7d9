"""Open a traffic file as text whether or not it is gzipped (AWS delivers logs both ways)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import IO

from bench.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_text(path: Path) -> IO[str]:
    """The file's text, decompressed when it is gzip (by its first bytes, not its name)."""
    try:
        if is_gzip(path):
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
        return path.open("r", encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def head(path: Path, n: int = 65536) -> str:
    """The first ``n`` characters (for telling formats apart)."""
    with open_text(path) as f:
        try:
            return f.read(n)
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise InputError(f"{path}: not UTF-8 text (or a broken gzip): {exc}") from None
