"""Lambda's REPORT log lines: parse them (billed duration, init, memory) and sum a run's. Pure.

A REPORT line is tab-separated ``Name: value unit`` fields after ``REPORT``::

    REPORT RequestId: 8f5c...\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\t
    Max Memory Used: 67 MB\tInit Duration: 245.13 ms

``Init Duration`` appears on cold starts only; ``Status: timeout`` on timeouts; SnapStart adds
restore fields and X-Ray a ``XRAY TraceId`` segment. Unknown fields are kept, not refused.
(Format: Lambda Developer Guide, "Working with Lambda function logs", read 2026-11-27.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?):\s*(\S+)(?:\s+(ms|MB))?\s*$")


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float = 0.0
    status: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def cold_start(self) -> bool:
        return self.init_ms > 0

    @property
    def gb_s(self) -> float:
        return self.billed_ms / 1000.0 * self.memory_mb / 1024.0


def parse_report(line: str) -> Report | None:
    """The REPORT line's fields, or None for any other log line. A malformed REPORT line raises."""
    text = line.strip()
    if not text.startswith("REPORT "):
        return None
    values: dict[str, str] = {}
    for part in text.removeprefix("REPORT ").split("\t"):
        if not part.strip() or part.startswith("XRAY"):
            continue
        match = _FIELD.match(part)
        if match is None:
            raise ValueError(f"not a REPORT field: {part!r} in {text[:120]!r}")
        values[match.group(1)] = match.group(2)
    try:
        return Report(
            request_id=values.pop("RequestId"),
            duration_ms=float(values.pop("Duration")),
            billed_ms=int(values.pop("Billed Duration")),
            memory_mb=int(values.pop("Memory Size")),
            max_memory_mb=int(values.pop("Max Memory Used")),
            init_ms=float(values.pop("Init Duration", "0")),
            status=values.pop("Status", ""),
            extra=values,
        )
    except KeyError as exc:
        raise ValueError(f"REPORT line without {exc.args[0]!r}: {text[:120]!r}") from None


def format_report(report: Report) -> str:
    """The line Lambda writes for ``report`` (the local runtime writes the same, on moto)."""
    parts = [
        f"RequestId: {report.request_id}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {report.billed_ms} ms",
        f"Memory Size: {report.memory_mb} MB",
        f"Max Memory Used: {report.max_memory_mb} MB",
    ]
    if report.init_ms:
        parts.append(f"Init Duration: {report.init_ms:.2f} ms")
    if report.status:
        parts.append(f"Status: {report.status}")
    return "REPORT " + "\t".join(parts) + "\t"


def summarize_reports(reports: Iterable[Report]) -> dict[str, float]:
    """Invocations, cold starts, billed ms and GB-seconds, init ms, p50/max duration of a run (0
    when there is no line: JSON has no NaN, and a run without REPORT lines says so elsewhere)."""
    items = list(reports)
    durations = sorted(r.duration_ms for r in items)
    return {
        "invocations": len(items),
        "cold_starts": sum(r.cold_start for r in items),
        "billed_ms": sum(r.billed_ms for r in items),
        "gb_s": math.fsum(r.gb_s for r in items),
        "init_ms": math.fsum(r.init_ms for r in items),
        "timeouts": sum(r.status == "timeout" for r in items),
        "duration_ms_p50": durations[len(durations) // 2] if durations else 0.0,
        "duration_ms_max": durations[-1] if durations else 0.0,
        "max_memory_mb": max((r.max_memory_mb for r in items), default=0),
    }
