"""The one error base of ``bench``, and the line between bad input and a bug.

``InputError`` is raised for anything the user can fix (a scenario, a flag, a results folder, a
pricing file); the CLI turns it, and only it, into a one-line message and exit 2. Everything else
is a bug and stays a traceback with exit 1. ``InputError`` is a ``ValueError`` so code written
against the old ``ScenarioError(ValueError)`` keeps catching it.
"""

from __future__ import annotations

from pathlib import Path

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
