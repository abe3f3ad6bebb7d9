"""Where a command writes: the results folder, checked before any work, and the command line it
records there."""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path


def _prepare_out(out: Path, args: argparse.Namespace, flag: str = "--out") -> Path:
    """Check ``out`` before any work (a file, unwritable, another run's results without --force)."""
    from bench.results.files import prepare_out_folder

    prepare_out_folder(out, flag=flag, force=getattr(args, "force", False))
    return out


def _out_dir(kind: str, name: str, out: str | None) -> Path:
    if out:
        return Path(out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / name / stamp if kind == "run" else Path("results") / kind / name / stamp


def _command_line() -> str:
    return "pve " + " ".join(shlex.quote(a) for a in sys.argv[1:])
