"""inotify through watchdog: a file is announced once it is closed after writing, not before."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from event_handlers.events import parse_s3_event
from event_handlers.folder_events import FolderEventSource


class Collector:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.arrived = threading.Condition()

    def submit(self, event: Any) -> None:
        with self.arrived:
            self.events.append(event)
            self.arrived.notify_all()

    def wait_for(self, n: int, timeout: float = 5.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.events) >= n, timeout)

    def keys(self) -> list[str]:
        return [e.key for event in self.events for e in parse_s3_event(event)]


def test_file_is_announced_after_close_not_during_writes(tmp_path: Path) -> None:
    collector = Collector()
    source = FolderEventSource(tmp_path, collector.submit, bucket_name="local", key_prefix="in/").start()
    try:
        with (tmp_path / "my file+1 😀.csv").open("wb") as handle:
            handle.write(b"a,b\n")
            handle.flush()
            # a barrier instead of a sleep: a sentinel closed now is announced after anything
            # the half-written file could have caused, so waiting for it proves nothing else came
            (tmp_path / "sentinel-1").write_bytes(b"")
            assert collector.wait_for(1)
            assert collector.keys() == ["in/sentinel-1"]  # half written: nothing yet
            handle.write(b"1,2\n")
        assert collector.wait_for(2)
        (tmp_path / "sentinel-2").write_bytes(b"")
        assert collector.wait_for(3)
        events = [e for event in collector.events for e in parse_s3_event(event)]
        assert [e.key for e in events] == ["in/sentinel-1", "in/my file+1 😀.csv", "in/sentinel-2"]
        event = events[1]
        assert (event.bucket, event.key, event.size) == ("local", "in/my file+1 😀.csv", 8)
    finally:
        source.stop()


def test_write_then_rename_is_announced_once_and_temp_files_are_ignored(tmp_path: Path) -> None:
    collector = Collector()
    source = FolderEventSource(tmp_path, collector.submit).start()
    try:
        tmp = tmp_path / ".report.csv.part"
        tmp.write_bytes(b"x,y\n1,2\n")
        os.replace(tmp, tmp_path / "report.csv")
        assert collector.wait_for(1)
        (tmp_path / "sentinel").write_bytes(b"")  # announced after any late duplicate would be
        assert collector.wait_for(2)
        assert collector.keys() == ["report.csv", "sentinel"]
        assert source.announced == 2
    finally:
        source.stop()
