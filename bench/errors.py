"""The one error base of ``bench``, and the line between bad input and a bug.

``InputError`` is raised for anything the user can fix (a scenario, a flag, a results folder, a
pricing file); the CLI turns it, and only it, into a one-line message and exit 2. Everything else
is a bug and stays a traceback with exit 1. ``InputError`` is a ``ValueError`` so code written
against the old ``ScenarioError(ValueError)`` keeps catching it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pollers.errors import PathRefusedError


class BenchError(Exception):
    """Base of every error ``bench`` raises on purpose."""


class InputError(BenchError, ValueError):
    """Input the user can fix: the message names the file, field or flag."""


class PathOutsideRootError(InputError, PathRefusedError):
    """A key or prefix that would leave the backend's root (a symlink planted in it, say), found
    at run time: bad input (exit 2), and still the pollers' ``PathRefusedError`` for library code."""


class Interrupted(KeyboardInterrupt):
    """A stop asked by a signal (SIGTERM from ``timeout``, CI or a container stop; SIGINT is a
    plain ``KeyboardInterrupt``): it unwinds like Ctrl-C, so temp folders are cleaned and a live
    run writes its partial results marked incomplete."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(self.signal_name)


def read_input_text(path: str | Path, what: str) -> str:
    """A user's file as UTF-8 text, or an InputError naming ``what`` and the path."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from exc


# A user's TOML or JSON deeper than this is refused: the deepest file this suite reads (a latency
# profile's sum of legs with tails) is 6 levels; Python's parsers recurse once per level and stop
# with a RecursionError near 1,000, which would be a traceback, not a message.
MAX_NESTING = 32


def nesting_depth(value: object) -> int:
    """How deep ``value``'s dicts and lists go (a scalar: 0), walked without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_nested(load: Callable[[str], Any], text: str, origin: str, what: str) -> Any:
    """``load(text)`` (``tomllib.loads``, ``json.loads``) for a user's file, refusing nesting
    deeper than ``MAX_NESTING`` with an InputError naming ``origin``. Syntax errors propagate
    (each caller words its own)."""
    too_deep = InputError(f"{origin}: nested more than {MAX_NESTING} levels deep; not {what}")
    try:
        value = load(text)
    except RecursionError:
        raise too_deep from None
    if nesting_depth(value) > MAX_NESTING:
        raise too_deep
    return value


class OutputError(InputError):
    """A result that could not be written (a full disk, a read-only folder): the message names the
    file; what was written before it stays whole (bench.atomic)."""
