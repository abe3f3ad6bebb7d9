"""Local folder events: the inotify twin of S3 notifications, through watchdog.

A file is announced once it is *closed after writing* (inotify's ``IN_CLOSE_WRITE``), or when it
is renamed into the folder (the write-then-rename pattern), never while it is half written. Each
announcement is an S3-shaped notification (key form-URL-encoded, as S3 does) so that the same
``parse_s3_event`` and handler process it. ``bucket_name`` (the folder's path by default) and
``key_prefix`` let keys name files relative to a parent folder, as a store rooted there reads them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from watchdog.events import FileClosedEvent, FileMovedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


def folder_notification(
    root: Path, path: Path, *, bucket_name: str = "", key_prefix: str = ""
) -> dict[str, Any]:
    """An S3 notification for a local file (size read now, after the writer closed it)."""
    key = key_prefix + path.relative_to(root).as_posix()
    stat = path.stat()
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "pve:inotify",
                "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": bucket_name or str(root)},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": stat.st_size,
                        "eTag": f"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}",
                    },
                },
            }
        ]
    }


class _Announcer(FileSystemEventHandler):
    def __init__(
        self,
        root: Path,
        submit: Callable[[dict[str, Any]], None],
        on_error: Callable[[Path, BaseException], None],
        bucket_name: str,
        key_prefix: str,
    ) -> None:
        self.root, self.submit, self.on_error = root, submit, on_error
        self.bucket_name, self.key_prefix = bucket_name, key_prefix
        self.announced = 0
        self._lock = threading.Lock()

    def _announce(self, raw: str | bytes) -> None:
        path = Path(os.fsdecode(raw))
        if path.name.startswith(".") or any(p.startswith(".") for p in path.relative_to(self.root).parts):
            return
        try:
            event = folder_notification(
                self.root, path, bucket_name=self.bucket_name, key_prefix=self.key_prefix
            )
        except FileNotFoundError:  # gone again before we looked
            return
        except OSError as exc:
            self.on_error(path, exc)
            return
        with self._lock:
            self.announced += 1
        self.submit(event)

    def on_closed(self, event: FileClosedEvent) -> None:
        if not event.is_directory:
            self._announce(event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileMovedEvent) and not event.is_directory:
            self._announce(event.dest_path)


class FolderEventSource:
    """Watch ``root`` with inotify and ``submit`` an S3-shaped event per finished file.

    Only files directly in ``root`` are watched unless ``recursive``; names starting with ``.``
    (a writer's temporary files) are ignored.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        submit: Callable[[dict[str, Any]], None],
        *,
        recursive: bool = False,
        bucket_name: str = "",
        key_prefix: str = "",
        on_error: Callable[[Path, BaseException], None] = lambda path, exc: None,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"folder to watch does not exist: {self.root}")
        self._handler = _Announcer(self.root, submit, on_error, bucket_name, key_prefix)
        self._observer = Observer()
        self._observer.schedule(self._handler, str(self.root), recursive=recursive)

    @property
    def announced(self) -> int:
        return self._handler.announced

    def start(self) -> FolderEventSource:
        self._observer.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._observer.stop()
        self._observer.join(timeout)
