"""Paths a result may carry: relative to the repository when inside it, else the file's name alone,
so a summary, a record or a notebook's output holds no machine's absolute path."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]  # the checkout (or the folder holding bench/)


def portable_path(path: str | Path, root: Path = REPOSITORY) -> str:
    """``path`` relative to ``root`` (POSIX separators) when it lies inside it, else its file name;
    an empty path stays empty."""
    if not str(path):
        return ""
    resolved = Path(path).expanduser().resolve()
    if resolved.is_relative_to(root.resolve()):
        return resolved.relative_to(root.resolve()).as_posix()
    return resolved.name
