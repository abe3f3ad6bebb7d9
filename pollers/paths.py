"""The one path guard: a key names a file under a root, never outside it.

Every local path made from a key or a prefix goes through ``confine`` (the folder poller's
listing root, inbox moves, claims and state files; the benchmark's writer, scenario prefixes and
the handler's folder store, which ``bench`` hands this guard). It lives here because ``pollers``
and ``event_handlers`` may not import each other: ``bench`` composes both and injects it.

A key is refused when it is empty, holds a NUL byte, is absolute, has a ``..`` component, has a
component longer than the file system allows, or resolves (through a symlink) outside the root.
A symlink *inside* the root that points inside it is followed.
"""

from __future__ import annotations

import os
from pathlib import Path

from pollers.errors import PathRefusedError

#: Longest file name (one component) Linux file systems hold, in bytes (``NAME_MAX``).
MAX_NAME_BYTES = 255
#: Longest path the kernel accepts, in bytes (``PATH_MAX``).
MAX_PATH_BYTES = 4096


def key_problem(key: str, *, allow_empty: bool = False) -> str | None:
    """Why ``key`` cannot name something under a root, or None. Pure: no file system access.

    ``allow_empty`` accepts ``""`` (a prefix meaning the root itself).
    """
    if not key:
        return None if allow_empty else "is empty"
    if "\x00" in key:
        return "contains a NUL byte"
    if key.startswith(("/", "\\")) or os.path.isabs(key):
        return "is absolute"
    parts = key.split("/")
    if ".." in parts:
        return "contains a '..' component"
    try:
        encoded = [part.encode("utf-8", "surrogateescape") for part in parts]
    except UnicodeEncodeError:
        return "is not valid text"
    if any(len(part) > MAX_NAME_BYTES for part in encoded):
        return f"has a name longer than {MAX_NAME_BYTES} bytes"
    if sum(map(len, encoded)) + len(parts) > MAX_PATH_BYTES:
        return f"is longer than {MAX_PATH_BYTES} bytes"
    return None


def check_key(key: str, *, what: str = "key", allow_empty: bool = False) -> str:
    """``key`` unchanged, or ``PathRefusedError`` naming ``what`` and the reason."""
    problem = key_problem(key, allow_empty=allow_empty)
    if problem is not None:
        raise PathRefusedError(f"{what} {_shown(key)} {problem}; refused")
    return key


def confine(root: str | os.PathLike[str], key: str, *, what: str = "key", allow_empty: bool = False) -> Path:
    """The path of ``key`` under ``root``, or ``PathRefusedError`` if it would leave the root.

    The folders on the way are resolved (symlinks followed) and must stay under the resolved
    root; the last component is not followed (a rename or unlink acts on the link itself), but a
    symlink there must point under the root too. ``key`` may not name the root itself unless
    ``allow_empty`` (a prefix).
    """
    check_key(key, what=what, allow_empty=allow_empty)
    base = Path(root).resolve()
    path = base.joinpath(key) if key else base
    parent = path.parent.resolve()
    if path == base:
        if allow_empty:
            return base
        raise PathRefusedError(f"{what} {_shown(key)} names the root {root} itself; refused")
    if not parent.is_relative_to(base):
        raise PathRefusedError(f"{what} {_shown(key)} resolves outside {root} (through a symlink); refused")
    here = parent / path.name
    if here.is_symlink() and not here.resolve().is_relative_to(base):
        raise PathRefusedError(f"{what} {_shown(key)} is a symlink pointing outside {root}; refused")
    return here


def _shown(key: str) -> str:
    """``key`` quoted for a one-line message, cut short if long."""
    return repr(key if len(key) <= 80 else key[:77] + "...")
