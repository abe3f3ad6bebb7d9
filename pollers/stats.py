"""Counters a poller keeps, exposed to the benchmark as they are."""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
    moved: int = 0
    #: Inbox files that vanished before they could be moved out (recorded, never an error).
    gone: int = 0
    #: Inbox files that could not be moved out for another reason (reported again later).
    move_errors: int = 0
    #: Inbox files another poller claimed first.
    claimed_elsewhere: int = 0
    #: Files reported although their timestamp lay beyond the skew allowance in the future.
    future_timestamps: int = 0
    #: Files whose timestamp was older than the look-back window, found because their name was new.
    found_by_name: int = 0
    #: Subfolders that could not be read (``recursive=True``); skipped, logged, counted per cycle.
    unreadable_folders: int = 0
    #: Listings resumed from a failed page's continuation token (not started over from page 1).
    listing_resumes: int = 0
    #: Symlinked files followed (they resolve to a file inside the root), counted per cycle.
    symlinks_followed: int = 0
    #: Symlinks not followed (they point outside the root, at a folder, or nowhere), per cycle.
    symlinks_refused: int = 0
    #: Inbox files that could not be claimed or moved out: recorded failed once, left in place and
    #: not reported again until they change.
    stuck: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
