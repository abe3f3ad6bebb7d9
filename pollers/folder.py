"""Poll a local folder with ``os.scandir``, handing the cursor only entries that may have changed."""

from __future__ import annotations

import errno
import hashlib
import logging
import operator
import os
import socket
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pollers.base import DEFAULT_SKEW_S, Poller, resolve_cursor
from pollers.cursors import ListingCursor, ListingPlan
from pollers.entries import Entry
from pollers.errors import PathRefusedError, PollerConfigError, SourceUnavailableError
from pollers.kinds import ChangeCheck
from pollers.paths import MAX_NAME_BYTES, confine
from pollers.state import FileStateStore, StateLocation

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

log = logging.getLogger(__name__)

#: A file whose mtime is younger than this is held until a later look shows the same size: a
#: writer updates the mtime with every write, so a file untouched for a second is very likely
#: complete. Writers that write ``.name.part`` and rename need no wait (pass ``min_age_s=0``).
DEFAULT_FOLDER_MIN_AGE_S = 1.0

_Signature = int | tuple[int, int, int]


class FolderUnavailableError(SourceUnavailableError, NotADirectoryError):
    """The folder to poll is missing, not a folder, or cannot be read."""


class FolderPoller(Poller):
    """Find new files under ``root`` (and its subfolders if ``recursive``).

    watchdog's PollingObserver builds a full snapshot (a stat per file, sorted) every cycle. This
    poller keeps, per file, the signature it last decided on and hands the cursor only entries
    whose signature changed or that are new; the cursor alone decides what is new among them.
    ``change_check`` (see ``ChangeCheck``) says what the signature is: ``stat`` (default; inode,
    size and mtime, one stat per file per cycle; sees files rewritten in place) or ``inode``
    (read from the directory listing itself, no stat for known files; sees replaced files and new
    names, not in-place rewrites). Names starting with ``.`` are skipped, so writers may write
    ``.name.part`` and rename. Unreadable subfolders are skipped, logged and counted. With
    ``cursor="inbox"`` each file is claimed (an ``O_EXCL`` marker in ``claims_dir``) before it
    is reported, so two pollers on one folder never report the same file, and handled files are
    renamed into ``processed_dir`` or ``failed_dir`` (by default hidden folders inside ``root``).
    ``state_path`` may be a file path, an ``s3://bucket/key`` URL (with ``s3_client``) or any
    ``StateStore`` object; ``cursor`` a name or a ``ListingCursor`` object.

    Nothing outside ``root`` is touched: every move goes through ``pollers.paths.confine`` (a
    key from a tampered state file moves nothing), a symlinked file is followed only if it
    resolves to a file inside the root (others are counted in ``stats.walk.symlinks_refused`` and
    logged once), and the poller's own state file, claims, processed and failed folders are never
    listed as input when they lie inside the root.
    """

    def __init__(  # noqa: PLR0913  (public, keyword-only, safe defaults: an options object breaks callers)
        self,
        root: str | os.PathLike[str],
        *,
        cursor: str | ListingCursor | None = None,
        state_path: StateLocation = None,
        min_age_s: float = DEFAULT_FOLDER_MIN_AGE_S,
        recursive: bool = False,
        lookback_s: float = 900.0,
        sweep_every: int = 60,
        processed_dir: str | os.PathLike[str] | None = None,
        failed_dir: str | os.PathLike[str] | None = None,
        claims_dir: str | os.PathLike[str] | None = None,
        claim_ttl_s: float = 900.0,
        change_check: ChangeCheck | str = ChangeCheck.STAT,
        skew_s: float = DEFAULT_SKEW_S,
        s3_client: S3Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        self._root_str = os.fspath(self.root)
        check_readable_folder(self.root)
        self.recursive = recursive
        self.change_check = ChangeCheck(change_check)
        self.processed_dir = Path(processed_dir) if processed_dir else self.root / ".pve-processed"
        self.failed_dir = Path(failed_dir) if failed_dir else self.root / ".pve-failed"
        self.claims_dir = Path(claims_dir) if claims_dir else self.root / ".pve-claims"
        self.claim_ttl_s = claim_ttl_s
        self._claim_id = f"{os.getpid()}-{id(self):x}"
        # symlinks already logged (a link is logged once, not every cycle)
        self._links_logged: set[str] = set()
        # key -> signature of the version the cursor last decided on (never a held-back entry)
        self._sigs: dict[str, _Signature] = {}
        self._listed_sigs: dict[str, _Signature] = {}
        self._present: Collection[str] | None = None
        chosen = resolve_cursor(cursor, lookback_s=lookback_s, sweep_every=sweep_every, default="seen-set")
        super().__init__(
            cursor=chosen,
            state_path=state_path,
            min_age_s=min_age_s,
            skew_s=skew_s,
            s3_client=s3_client,
            clock=clock,
        )
        self._cache = not self.cursor.moves_processed  # an inbox's verdicts change on acknowledge
        # this poller's own files and folders inside the root: never listed as input
        own = [self.processed_dir, self.failed_dir, self.claims_dir]
        if isinstance(self._store, FileStateStore):
            own.append(self._store.path)
        self._own_keys = own_keys_under(self.root, own)
        if self.cursor.moves_processed and "" in self._own_keys:
            raise PollerConfigError(
                f"processed_dir, failed_dir and claims_dir must not be the folder polled ({self.root}): "
                "moved files would be listed again"
            )

    @property
    def source(self) -> str:
        return self._root_str

    # -- listing -------------------------------------------------------------------------------
    def _list(self, plan: ListingPlan) -> list[Entry]:
        sigs, listed_sigs = self._sigs, self._listed_sigs
        listed_sigs.clear()
        self._unreadable = 0
        entries: list[Entry] = []
        matched = 0
        stack: list[tuple[str, str]] = [(self._root_str, "")]
        while stack:
            folder, base = stack.pop()
            _seen, known_here = self._list_folder(folder, base, plan, entries, stack)
            matched += known_here
        entries.sort(key=_BY_KEY)  # S3-like order; an idle cycle sorts nothing
        self._present = None
        if self._unreadable:
            pass  # a folder we could not read is not a folder whose files were deleted
        elif not sigs and plan.start_after is None:
            self._present = listed_sigs.keys()  # everything was listed: no second pass needed
        elif not sigs or matched + sum(1 for k in listed_sigs if k in sigs) != len(sigs):
            self._present = self._names_now()  # some name disappeared (rare when idle)
        return entries

    def _list_folder(  # noqa: C901  (the hot loop, inlined on purpose: see benchmarks/test_folder_poll.py)
        self,
        folder: str,
        base: str,
        plan: ListingPlan,
        entries: list[Entry],
        stack: list[tuple[str, str]],
    ) -> tuple[int, int]:
        """List one folder; return (files seen, files unchanged). The hot loop of an idle poll:
        a known name whose signature holds costs a dict lookup (and, for ``stat``, one stat)."""
        try:
            it = os.scandir(folder)
        except OSError as exc:
            if not base:
                raise FolderUnavailableError(f"cannot list the folder to poll {folder}: {exc}") from exc
            self._unreadable += 1
            self.stats.walk.unreadable_folders += 1
            log.warning("skipping unreadable folder %s: %s", folder, exc)
            return 0, 0
        self.stats.list_requests += 1
        get = self._sigs.get
        listed_sigs = self._listed_sigs
        by_inode = self.change_check is ChangeCheck.INODE
        start_after = plan.start_after
        recursive = self.recursive
        own = self._own_keys
        seen = matched = stats_made = unchanged = 0
        with it:
            for dir_entry in it:
                name = dir_entry.name
                if name[0] == ".":
                    continue
                key = base + name
                if own and key in own:
                    continue  # this poller's state file, claims or moved-out files
                known = get(key)
                if known is not None:
                    if by_inode and known == dir_entry.inode():
                        unchanged += 1  # same inode as decided before: the hot path of an idle poll
                        continue
                    if start_after is not None and key <= start_after:
                        unchanged += 1  # between sweeps a known key is not looked at again
                        continue
                link = False
                if not dir_entry.is_file(follow_symlinks=False):
                    if recursive and dir_entry.is_dir(follow_symlinks=False):
                        stack.append((dir_entry.path, f"{key}/"))
                    elif dir_entry.is_symlink():
                        link = self._followable_link(key, dir_entry)
                    if not link:
                        continue
                seen += 1
                if known is None and start_after is not None and key <= start_after:
                    continue  # a late key sorting before the cursor: the next sweep finds it
                try:
                    st = dir_entry.stat(follow_symlinks=link)
                except FileNotFoundError:  # removed between scandir and stat
                    continue
                stats_made += 1
                sig: _Signature = st.st_ino if by_inode else (st.st_ino, st.st_size, st.st_mtime_ns)
                if known == sig:
                    matched += 1
                    continue
                listed_sigs[key] = sig
                entries.append(Entry(key, st.st_size, st.st_mtime))
        seen += unchanged
        matched += unchanged
        self.stats.objects_scanned += seen
        self.stats.stat_calls += stats_made
        return seen, matched

    def _followable_link(self, key: str, dir_entry: os.DirEntry[str]) -> bool:
        """A symlinked file is followed only if it resolves to a file inside the root; every
        symlink is counted each cycle and logged the first time it is seen."""
        target = os.path.realpath(dir_entry.path)
        inside = Path(target).is_relative_to(self._real_root) and os.path.isfile(target)
        if inside:
            self.stats.walk.symlinks_followed += 1
        else:
            self.stats.walk.symlinks_refused += 1
        if key not in self._links_logged:
            self._links_logged.add(key)
            if inside:
                log.info("following symlink %s -> %s (inside %s)", key, target, self._root_str)
            else:
                log.warning(
                    "not following symlink %s -> %s: not a file inside %s", key, target, self._root_str
                )
        return inside

    @property
    def _real_root(self) -> Path:
        return self.root.resolve()

    def _scan(self) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """Every file under the root (for the rare second pass), skipping unreadable subfolders."""
        stack: list[tuple[str, str]] = [(self._root_str, "")]
        while stack:
            folder, base = stack.pop()
            try:
                it = os.scandir(folder)
            except OSError:
                if not base:
                    raise
                continue
            with it:
                for dir_entry in it:
                    name = dir_entry.name
                    if name[0] == ".":
                        continue
                    key = f"{base}{name}"
                    if key in self._own_keys:
                        continue
                    if dir_entry.is_file(follow_symlinks=False) or dir_entry.is_symlink():
                        yield key, dir_entry
                    elif self.recursive and dir_entry.is_dir(follow_symlinks=False):
                        stack.append((dir_entry.path, f"{key}/"))

    def _names_now(self) -> set[str]:
        """Every file name present (only when some disappeared, or after a restart)."""
        return {key for key, _ in self._scan()}

    def _present_names(self, plan: ListingPlan, listed: list[Entry]) -> Collection[str] | None:
        return self._present

    def _after_listing(self, listed: list[Entry], ready: list[Entry], held: list[Entry]) -> None:
        if self._present is not None:
            present = self._present
            if len(self._sigs) > len(present) or any(k not in present for k in self._sigs):
                self._sigs = {k: v for k, v in self._sigs.items() if k in present}
        if not self._cache:
            return
        sigs, listed_sigs = self._sigs, self._listed_sigs
        if not held:
            sigs.update(listed_sigs)
            return
        held_keys = {e.key for e in held}
        for entry in listed:
            if entry.key not in held_keys:
                sigs[entry.key] = listed_sigs[entry.key]

    # -- inbox: claim, move out ----------------------------------------------------------------
    def _claim_path(self, entry: Entry) -> Path:
        name = entry.key.replace("/", "%2F") + ".claim"
        raw = entry.key.encode("utf-8", "surrogateescape")
        if len(raw) + 6 > MAX_NAME_BYTES or "\x00" in name:  # a claim name the file system can hold
            name = hashlib.sha256(raw).hexdigest() + ".claim"
        return self.claims_dir / name

    def _claim(self, entry: Entry) -> bool:
        path = self._claim_path(entry)
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self._take_over_stale(path):
                    return False
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{socket.gethostname()} {os.getpid()} {self._claim_id} {self._clock()}\n")
            return True
        return False

    def _take_over_stale(self, path: Path) -> bool:
        """A claim older than ``claim_ttl_s``, or made on this host by a process that no longer
        exists (killed, say), belongs to a crashed poller: rename it away (one poller wins the
        rename) so that a fresh claim can be made."""
        try:
            age = self._clock() - path.stat().st_mtime
            holder = path.read_text(encoding="utf-8", errors="replace").split()
        except FileNotFoundError:
            return True
        if age < self.claim_ttl_s and not _holder_is_dead(holder):
            return False
        try:
            os.rename(path, path.with_name(f".{path.name}.stale-{self._claim_id}"))
        except FileNotFoundError:
            return False
        path.with_name(f".{path.name}.stale-{self._claim_id}").unlink(missing_ok=True)
        return True

    def _release_claim(self, entry: Entry) -> None:
        self._claim_path(entry).unlink(missing_ok=True)

    def _move_out(self, entry: Entry, *, succeeded: bool) -> None:
        """Rename the listed file (a symlink itself, never its target) out of the root; both ends
        go through the path guard, so a key from a tampered state file moves nothing outside."""
        source = confine(self.root, entry.key, what="inbox key")
        if not source.is_symlink() and source.is_dir():
            raise PathRefusedError(f"inbox key {entry.key!r} is a folder, not a file this poller listed")
        target = confine(self.processed_dir if succeeded else self.failed_dir, entry.key, what="inbox key")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    def _is_gone(self, exc: BaseException) -> bool:
        return isinstance(exc, FileNotFoundError)


def check_readable_folder(root: Path) -> None:
    """Refuse, at construction, a folder that is missing or that this process cannot list."""
    if not root.is_dir():
        raise FolderUnavailableError(f"folder to poll does not exist or is not a folder: {root}")
    try:
        with os.scandir(root) as it:
            next(it, None)
    except OSError as exc:
        raise FolderUnavailableError(f"cannot list the folder to poll {root}: {exc}") from exc
    if not os.access(root, os.R_OK | os.X_OK):
        raise FolderUnavailableError(
            f"cannot read the folder to poll {root}: {errno.errorcode.get(errno.EACCES)}"
        )


_BY_KEY = operator.attrgetter("key")


def own_keys_under(root: Path, paths: list[Path]) -> frozenset[str]:
    """The keys (relative to ``root``, with ``/``) of those ``paths`` that lie inside it and could
    be listed (not hidden); ``""`` for the root itself."""
    base = root.resolve()
    keys = set()
    for path in paths:
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(base):
            continue
        key = resolved.relative_to(base).as_posix()
        if key == ".":
            keys.add("")
        elif not key.startswith("."):  # hidden names are never listed anyway
            keys.add(key)
    return frozenset(keys)


def _holder_is_dead(holder: list[str]) -> bool:
    """Whether a claim's ``host pid ...`` names a process of this host that has exited."""
    if len(holder) < 2 or holder[0] != socket.gethostname() or not holder[1].isdigit():
        return False
    pid = int(holder[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False
