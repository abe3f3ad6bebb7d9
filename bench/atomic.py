"""Result files written whole or not at all: a temp file in the same folder, then ``os.replace``.

A full disk, a quota or a signal in the middle of a write leaves the previous file (or none), never
half a CSV that a later ``pve report`` would misread; the temp file is removed, and the error names
the file it was for (an :class:`~bench.errors.OutputError`, exit 2). ``os.replace`` is atomic
within one file system, which a temp file beside its target guarantees.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from bench.errors import OutputError


def temp_path(path: Path) -> Path:
    """A hidden name beside ``path`` with its suffix (matplotlib picks the format from it)."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """``write(temp)`` then rename the temp file to ``path``; on any failure the temp file is
    removed, and an ``OSError`` (ENOSPC, EDQUOT, EROFS, ...) becomes an OutputError naming ``path``."""
    path = Path(path)
    temp = temp_path(path)
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(
                f"cannot write {path}: {exc.strerror or exc}; nothing partial was left"
            ) from exc
        raise
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """``path.write_text(text)`` (UTF-8), whole or not at all."""
    return write_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))
