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


def _draw_after_run(out: Path, fmt: str) -> list[Path]:
    """The charts of a run whose records.csv and summary.json are already written: a chart that
    cannot be written (a full disk) is one error that says the results are whole and how to
    redraw them; nothing is deleted."""
    from bench.errors import OutputError
    from bench.report.draw import draw_charts

    try:
        return draw_charts(out, fmt=fmt)
    except OutputError as exc:
        raise OutputError(
            f"{exc}; the run's records.csv and summary.json in {out} are complete: redraw the charts "
            f"with 'pve report {out}'"
        ) from exc
