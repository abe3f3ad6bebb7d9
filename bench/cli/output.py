"""Where a command writes: the results folder, checked before any work, and the command line it
records there; where its JSON goes (``--json [PATH]``, the same on every command); the console it
prints on, and tables fitted to that console's width."""

from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table

STDOUT = "-"  # ``--json`` with no PATH, or ``--json -``: the document goes to standard output
PIPE_WIDTH = 120  # a log or a pipe without COLUMNS gets whole rows up to this width


def _prepare_out(out: Path, args: argparse.Namespace, flag: str = "--out") -> Path:
    """Check ``out`` before any work (a file, unwritable, another run's results without --force)."""
    from bench.results.files import prepare_out_folder

    prepare_out_folder(out, flag=flag, force=getattr(args, "force", False))
    return out


def _out_dir(kind: str, name: str | None, out: str | None) -> Path:
    """``--out``, else ``results/<name>/<stamp>`` for a run, ``results/<kind>/<name>/<stamp>`` for
    another command's per-scenario folder, ``results/<kind>/<stamp>`` when there is no name."""
    if out:
        return Path(out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if kind == "run":
        return Path("results") / str(name) / stamp
    return Path("results") / kind / name / stamp if name else Path("results") / kind / stamp


def _command_line() -> str:
    """The command as results record it: an absolute path relative to the repository, or its file
    name when outside (``bench.results.portable``), so no record holds this machine's paths."""
    return "pve " + " ".join(shlex.quote(_portable_argument(a)) for a in sys.argv[1:])


def _portable_argument(argument: str) -> str:
    from bench.results.portable import portable_path

    flag, equals, value = argument.partition("=") if argument.startswith("--") else ("", "", argument)
    if not os.path.isabs(value):
        return argument
    return f"{flag}{equals}{portable_path(value)}"


# -- --json [PATH] ----------------------------------------------------------------------------


def add_json_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """``--json [PATH]``: with no PATH (the old flag spelling) or ``-``, ``what`` as JSON on standard
    output and nothing else there; with a PATH, written to that file atomically."""
    parser.add_argument(
        "--json",
        nargs="?",
        const=STDOUT,
        default=None,
        metavar="PATH",
        help=f"{what} as JSON: to stdout (no PATH, or -; everything else then goes to stderr), or to "
        "the file PATH",
    )


def json_to_stdout(args: argparse.Namespace) -> bool:
    return getattr(args, "json", None) == STDOUT


def check_json_target(args: argparse.Namespace) -> None:
    """Refuse an unwritable ``--json PATH`` before any work (stdout needs no check)."""
    from bench.results.files import prepare_out_file

    target = getattr(args, "json", None)
    if target is not None and target != STDOUT:
        prepare_out_file(Path(target), flag="--json")


def write_json(document: Any, target: str) -> Path | None:
    """``document`` to stdout (``target`` is ``-``) or to the file ``target``; the file's path, if any."""
    text = json.dumps(document, indent=2, default=str) + "\n"
    if target == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    path = Path(target)
    write_atomic(path, text.encode("utf-8"))
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``: a reader
    sees the old file or the whole new one, never half of it (``bench.atomic``: a full disk is an
    OutputError naming ``path``, and the temporary file is removed)."""
    from bench.atomic import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644

    def write(temp: Path) -> None:
        temp.write_bytes(data)
        os.chmod(temp, mode)

    write_atomically(path, write)


# -- the console and tables that fit it ---------------------------------------------------------


def make_console(*, stderr: bool = False) -> Console:
    """A terminal's own width, or COLUMNS when set; else (a log, a pipe) ``PIPE_WIDTH``."""
    stream = sys.stderr if stderr else sys.stdout
    sized = stream.isatty() or os.environ.get("COLUMNS", "").strip().isdigit()
    return Console(stderr=stderr, width=None if sized else PIPE_WIDTH)


def report_console(args: argparse.Namespace, console: Console) -> Console:
    """Where a command's tables and messages go: stderr when its JSON takes stdout."""
    return make_console(stderr=True) if json_to_stdout(args) else console


def print_table(console: Console, table: Table, keep: int = 1) -> None:
    """Print ``table`` without cutting a header or a cell: as is when it fits the console, else
    split by columns into parts that do (the first ``keep`` columns repeated in each)."""
    for renderable in fit_table(console, table, keep):
        console.print(renderable)


def fit_table(console: Console, table: Table, keep: int = 1) -> list[RenderableType]:
    """``table`` as parts no wider than ``console.width``, column widths pinned so nothing is cut (a
    wrapping column wraps at word breaks, a no-wrap column keeps its whole width). Split in parts, the
    title goes above the first and the caption below the last, each wrapped at the console's width."""
    needs, wants = _column_widths(console, table)
    width = console.width
    if sum(wants) + _border_width(table, len(wants)) <= width:
        return [table]
    groups = _split_columns(needs, width - _border_width(table, 0), keep)
    if len(groups) == 1:  # squeezed, not split: the table keeps its title and caption
        return [_part(table, groups[0], needs, wants, width, table.title, table.caption)]
    parts = [
        _part(table, group, needs, wants, width, None if index == 0 else "(continued)", None)
        for index, group in enumerate(groups)
    ]
    title = _text(console, table.title, table.title_style, "table.title")
    return [*title, *parts, *_text(console, table.caption, table.caption_style, "table.caption")]


def _text(console: Console, text: Any, style: Any, default: str) -> list[RenderableType]:
    """A table's title or caption on its own, wrapped at the console's width (none: nothing)."""
    if not text:
        return []
    return [console.render_str(text, style=style or default) if isinstance(text, str) else text]


def _column_widths(console: Console, table: Table) -> tuple[list[int], list[int]]:
    """Per column, with padding: the least width that cuts nothing, and the width of its widest line."""
    _, right, _, left = table.padding
    needs, wants = [], []
    for column in table.columns:
        cells = [column.header, *column.cells] if table.show_header else list(column.cells)
        sizes = [Measurement.get(console, console.options, cell) for cell in cells] or [Measurement(1, 1)]
        widest = max(s.maximum for s in sizes)
        longest_word = max(s.minimum for s in sizes)
        needs.append((widest if column.no_wrap else longest_word) + left + right)
        wants.append(widest + left + right)
    return needs, wants


def _border_width(table: Table, columns: int) -> int:
    """The characters borders take: the two edges, plus one between each pair of ``columns``."""
    if not table.box:
        return 0
    return (2 if table.show_edge else 0) + max(0, columns - 1)


def _split_columns(needs: list[int], room: int, keep: int) -> list[list[int]]:
    """Column indexes per part, in order: the first ``keep`` in every part, the others added to a
    part while it fits ``room`` (a border per column, plus one), then to the next."""
    kept = list(range(min(keep, len(needs))))
    base = sum(needs[i] + 1 for i in kept)
    groups: list[list[int]] = []
    current: list[int] = []
    used = base
    for index in range(len(kept), len(needs)):
        if current and used + needs[index] > room:
            groups.append(kept + current)
            current, used = [], base
        current.append(index)
        used += needs[index] + 1
    return [*groups, kept + current] if current or not groups else groups


def _part(
    table: Table,
    group: list[int],
    needs: list[int],
    wants: list[int],
    width: int,
    title: Any,
    caption: Any,
) -> Table:
    """A copy of ``table`` with copies of the columns in ``group`` (pinning their widths leaves the
    caller's table alone), its widths pinned to fit ``width``, under ``title`` and above ``caption``."""
    part = copy.copy(table)
    part.columns = []
    for position, source in enumerate(group):
        column = copy.copy(table.columns[source])
        column._index = position
        part.columns.append(column)
    part.title, part.caption = title, caption
    _pin_widths(part, [needs[i] for i in group], [wants[i] for i in group], width)
    return part


def _pin_widths(table: Table, needs: list[int], wants: list[int], width: int) -> None:
    """Give each column its widest line, then narrow the widest wrapping columns (never below what
    cuts nothing) until the table fits ``width``; pin the result so rich does not squeeze further."""
    _, right, _, left = table.padding
    sizes = list(wants)
    room = width - _border_width(table, len(sizes))
    while sum(sizes) > room:
        shrinkable = [i for i, size in enumerate(sizes) if size > needs[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: sizes[i])
        sizes[widest] -= 1
    for column, size in zip(table.columns, sizes, strict=True):
        column.width = max(1, size - left - right)


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
