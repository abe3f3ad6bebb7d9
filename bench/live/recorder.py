"""Thread-safe stamps for the files of one live strategy run (the schema is ``bench.results.records``)."""

from __future__ import annotations

import math
import threading

from bench.results.records import COLUMNS, OUTCOMES, FileRecord

__all__ = ["COLUMNS", "OUTCOMES", "FileRecord", "Recorder"]


class Recorder:
    """Thread-safe stamps for the files of one strategy run."""

    def __init__(self, strategy: str, repetition: int) -> None:
        self.strategy, self.repetition = strategy, repetition
        self._records: dict[str, FileRecord] = {}
        self._unknown: list[str] = []
        self._final = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def expect(self, key: str, size: int, arrival_s: float) -> None:
        """Register a file before it is written: a fast event may be handled before the writer's
        PUT has returned (moto delivers inside the request), and its stamps must not be lost."""
        with self._lock:
            self._records[key] = FileRecord(self.strategy, self.repetition, key, size, arrival_s, math.nan)

    def written(self, key: str, at: float) -> None:
        """The writer's PUT (or rename) returned at ``at``."""
        with self._lock:
            record = self._records.get(key)
            if record is not None:
                record.written_at = at

    def detected(self, key: str, at: float) -> None:
        with self._lock:
            record = self._get(key)
            if record is not None and math.isnan(record.detected_at):
                record.detected_at = at

    def started(self, key: str, at: float, path: str = "") -> None:
        with self._lock:
            record = self._get(key)
            if record is None:
                return
            record.attempts += 1
            if math.isnan(record.started_at):
                record.started_at = at
            if math.isnan(record.detected_at):
                record.detected_at = at
            if path and not record.path:
                record.path = path

    def succeeded(self, key: str, at: float, path: str = "") -> None:
        with self._lock:
            record = self._get(key)
            if record is None:
                return
            if record.outcome == "processed":
                record.duplicates += 1
                return
            was_final = record.final
            record.outcome, record.error = "processed", ""
            record.finished_at = at
            if path:
                record.path = path
            if not was_final:
                self._final += 1
            self._changed.notify_all()

    def failed(self, key: str, reason: str, at: float) -> None:
        """A failure for good (dead-lettered, or out of attempts): final, with the reason."""
        with self._lock:
            record = self._get(key)
            if record is None or record.final:
                return
            record.outcome, record.error = "failed", reason[:500]
            record.finished_at = at
            self._final += 1
            self._changed.notify_all()

    def attempt_failed(self, key: str, reason: str) -> None:
        """A failure that will be retried: remembered, not final."""
        with self._lock:
            record = self._get(key)
            if record is not None and not record.final:
                record.error = reason[:500]

    def _get(self, key: str) -> FileRecord | None:
        record = self._records.get(key)
        if record is None and len(self._unknown) < 1000:
            self._unknown.append(key)  # a key the workload did not write (e.g. the state file)
        return record

    @property
    def final_count(self) -> int:
        with self._lock:
            return self._final

    def wait_all_final(self, expected: int, timeout: float) -> bool:
        """Block until ``expected`` files are final (processed or failed) or ``timeout`` passes."""
        with self._changed:
            return self._changed.wait_for(lambda: self._final >= expected, timeout)

    def records(self) -> list[FileRecord]:
        """The records, latency computed now that every clock has been stamped."""
        with self._lock:
            records = sorted(self._records.values(), key=lambda r: (r.arrival_s, r.key))
            for record in records:
                if record.outcome == "processed":
                    record.latency_s = record.finished_at - record.written_at
            return records

    @property
    def unknown_keys(self) -> list[str]:
        with self._lock:
            return list(self._unknown)
