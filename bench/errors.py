"""The one error base of ``bench``, and the line between bad input and a bug.

``InputError`` is raised for anything the user can fix (a scenario, a flag, a results folder, a
pricing file); the CLI turns it, and only it, into a one-line message and exit 2. Everything else
is a bug and stays a traceback with exit 1. ``InputError`` is a ``ValueError`` so code written
against the old ``ScenarioError(ValueError)`` keeps catching it.
"""

from __future__ import annotations


class BenchError(Exception):
    """Base of every error ``bench`` raises on purpose."""


class InputError(BenchError, ValueError):
    """Input the user can fix: the message names the file, field or flag."""
