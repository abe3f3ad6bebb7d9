"""Timestamps as the formats write them: ISO 8601 (``2019-02-06T00:00:38Z``, with or without
fractions or an offset) or seconds since the epoch."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(text: str) -> float:
    """Epoch seconds; a time without a zone is UTC (as AWS writes them). ``ValueError`` if neither."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
