"""Which reader reads a file (by its content, or the ``--format`` the user names), and one stream of
accesses over many files with the same checks throughout."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bench.errors import InputError
from bench.traffic import accesslog, cloudtrail, inventory, notifications, plain
from bench.traffic.model import Access, Checks, ReadNotes
from bench.traffic.textio import head

Reader = Callable[[Path, Checks], Iterator[Access]]
FORMATS: dict[str, Reader] = {
    "inventory": inventory.read_inventory,  # a manifest.json (CSV gzip or Parquet data files)
    "access-log": accesslog.read_access_log,
    "cloudtrail": cloudtrail.read_cloudtrail_json,
    "cloudtrail-csv": cloudtrail.read_cloudtrail_csv,
    "notifications": notifications.read_notifications,
    "csv": plain.read_plain,
}


def detect_format(path: Path) -> str:
    """The format of ``path`` from its first bytes; an :class:`InputError` naming the file otherwise."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix == ".parquet":
        raise InputError(f"{path}: a Parquet inventory file: give its manifest.json (it names the schema)")
    text = head(path)
    if inventory.looks_like(path, text):
        return "inventory"
    if cloudtrail.looks_like_json(text):
        return "cloudtrail"
    if notifications.looks_like(text):
        return "notifications"
    if accesslog.looks_like(text):
        return "access-log"
    if cloudtrail.looks_like_csv(text):
        return "cloudtrail-csv"
    if plain.looks_like(text):
        return "csv"
    raise InputError(
        f"{path}: not a format pve reads ({', '.join(FORMATS)}); an S3 Inventory CSV is read through its "
        "manifest.json, a plain CSV needs the header time,key[,size]"
    )


def read_traffic(
    paths: Sequence[Path | str],
    *,
    fmt: str | None = None,
    notes: ReadNotes | None = None,
    now: float | None = None,
) -> Iterator[Access]:
    """Every access in ``paths``, file after file, streamed; ``notes`` collects what was skipped."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    checks = Checks(notes if notes is not None else ReadNotes(), now=now)
    files = [Path(p) for p in paths]
    formats = [fmt or detect_format(p) for p in files]  # every file recognised before any is read
    for path, name in zip(files, formats, strict=True):
        yield from FORMATS[name](path, checks)
