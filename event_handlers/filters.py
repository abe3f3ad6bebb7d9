"""S3 notification key filters (prefix and suffix), as S3 applies them. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyFilter:
    """An S3 filter rule pair. An empty prefix or suffix matches every key."""

    prefix: str = ""
    suffix: str = ""

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)

    def overlaps(self, other: KeyFilter) -> bool:
        """Could one key match both? S3 rejects such rules for the same event type."""
        prefixes_overlap = self.prefix.startswith(other.prefix) or other.prefix.startswith(self.prefix)
        suffixes_overlap = self.suffix.endswith(other.suffix) or other.suffix.endswith(self.suffix)
        return prefixes_overlap and suffixes_overlap

    def could_match_output(self, output_prefix: str, output_suffix: str = "") -> bool:
        """Could a key written as ``output_prefix + ... + output_suffix`` match this filter?"""
        return self.overlaps(KeyFilter(output_prefix, output_suffix))

    def describe(self) -> str:
        return f"prefix={self.prefix!r} suffix={self.suffix!r}"
