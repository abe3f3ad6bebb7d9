"""Names with one meaning each: the cursor kinds and the outcome of handling one file."""

from __future__ import annotations

from enum import StrEnum


class CursorKind(StrEnum):
    """How a poller decides what is new (see ``pollers.cursors``)."""

    SEEN_SET = "seen-set"
    WATERMARK = "watermark"
    START_AFTER = "start-after"
    INBOX = "inbox"


class Outcome(StrEnum):
    """What became of one reported file, as ``Poller.acknowledge`` records it."""

    PROCESSED = "processed"
    FAILED = "failed"
    #: The file disappeared before it could be moved out (deleted by someone else).
    GONE = "gone"
    #: An inbox file that could not be claimed or moved out (read-only folder, name too long):
    #: recorded failed once with its reason and not reported again until it changes.
    STUCK = "stuck"


class ChangeCheck(StrEnum):
    """How a ``FolderPoller`` notices that a file it already decided on has changed.

    * ``stat``: stat every file every cycle; catches files rewritten in place (same inode). An
      idle poll costs one ``stat`` per file.
    * ``inode``: compare the inode number the directory listing already carries; catches files
      replaced by rename (``mv``, atomic writers, ``rsync``'s default) and new names at the cost
      of reading the directory alone, but NOT files truncated and rewritten in place.
    """

    STAT = "stat"
    INODE = "inode"
