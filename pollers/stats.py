"""Counters a poller keeps, exposed to the benchmark as they are."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: ``PollStats.as_dict()``'s keys, flat and in the order 0.2.0 wrote them (before the nesting).
FLAT_ORDER = (
    "poll_cycles",
    "empty_polls",
    "list_requests",
    "objects_scanned",
    "stat_calls",
    "new_files",
    "held_back",
    "moved",
    "gone",
    "move_errors",
    "claimed_elsewhere",
    "future_timestamps",
    "found_by_name",
    "unreadable_folders",
    "listing_resumes",
    "symlinks_followed",
    "symlinks_refused",
    "stuck",
)


@dataclass
class InboxStats:
    """What became of the files an inbox cursor claims and moves out (zero for other cursors)."""

    moved: int = 0
    #: Inbox files that vanished before they could be moved out (recorded, never an error).
    gone: int = 0
    #: Inbox files that could not be moved out for another reason (reported again later).
    move_errors: int = 0
    #: Inbox files another poller claimed first.
    claimed_elsewhere: int = 0
    #: Inbox files that could not be claimed or moved out: recorded failed once, left in place and
    #: not reported again until they change.
    stuck: int = 0


@dataclass
class WalkStats:
    """What a folder walk skipped or followed, counted per cycle (``FolderPoller`` only)."""

    #: Subfolders that could not be read (``recursive=True``); skipped and logged.
    unreadable_folders: int = 0
    #: Symlinked files followed (they resolve to a file inside the root).
    symlinks_followed: int = 0
    #: Symlinks not followed (they point outside the root, at a folder, or nowhere).
    symlinks_refused: int = 0


@dataclass
class PollStats:
    """What polling cost so far. ``list_requests`` is ListObjectsV2 pages (or scandir calls)."""

    poll_cycles: int = 0
    empty_polls: int = 0
    list_requests: int = 0
    objects_scanned: int = 0
    stat_calls: int = 0
    new_files: int = 0
    held_back: int = 0
    #: Files reported although their timestamp lay beyond the skew allowance in the future.
    future_timestamps: int = 0
    #: Files whose timestamp was older than the look-back window, found because their name was new.
    found_by_name: int = 0
    #: Listings resumed from a failed page's continuation token (not started over from page 1).
    listing_resumes: int = 0
    inbox: InboxStats = field(default_factory=InboxStats)
    walk: WalkStats = field(default_factory=WalkStats)

    def as_dict(self) -> dict[str, int]:
        """Every counter in one flat dict, keys and order as before the nesting."""
        flat = asdict(self)
        flat.update(flat.pop("inbox"), **flat.pop("walk"))
        return {name: flat[name] for name in FLAT_ORDER}
