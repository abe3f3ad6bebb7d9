"""The idempotency key: one recipe for "this version of this object", derived once. Pure.

S3 delivers each notification at least once, a sweep may find a file the events already
handled, and a poller restarted from saved state may list a file again. All of them ask one
ledger, so all of them must name an object version the same way:

1. ``bucket``, ``key`` and the **version id** when the bucket is versioned;
2. else the **ETag and size**: both are in every creation event and in every listing entry, so
   the event handler and the reconciliation sweep (which sees no sequencer) agree;
3. else the **sequencer** (and size), for an event that carries no ETag;
4. never the event time: a redelivery may carry another one. A record naming none of the above
   has no identity; callers describe the object (HeadObject, ``stat``) to get one.

Identical bytes written twice under one key on an unversioned bucket (A, then B, then A again)
share an identity, so the third write is seen as done; enable versioning where that matters.
"""

from __future__ import annotations

from dataclasses import dataclass

from event_handlers.errors import PermanentError


class NoIdentityError(PermanentError):
    """The record names no version id, ETag or sequencer, and the object could not be described."""


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """What identifies one version of one object, from an event, a listing or a HEAD."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    sequencer: str | None = None

    @property
    def has_identity(self) -> bool:
        return bool(self.version_id or self.etag or self.sequencer)

    @property
    def ledger_key(self) -> str:
        """``bucket/key#v=...``, ``#etag=...;size=...`` or ``#seq=...;size=...``."""
        return idempotency_key(
            self.bucket,
            self.key,
            version_id=self.version_id,
            etag=self.etag,
            size=self.size,
            sequencer=self.sequencer,
        )


def normalize_etag(etag: str | None) -> str | None:
    """Events carry ``d41d8...``, listings and HEAD ``"d41d8..."``: one spelling, lower case."""
    if etag is None:
        return None
    value = etag.strip().strip('"').lower()
    return value or None


def idempotency_key(
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    etag: str | None = None,
    size: int | None = None,
    sequencer: str | None = None,
) -> str:
    """The ledger key of one object version (see the module docstring for the recipe)."""
    if version_id and version_id != "null":
        return f"{bucket}/{key}#v={version_id}"
    size_part = "" if size is None else f";size={size}"
    tag = normalize_etag(etag)
    if tag:
        return f"{bucket}/{key}#etag={tag}{size_part}"
    if sequencer:
        return f"{bucket}/{key}#seq={sequencer.upper()}{size_part}"
    raise NoIdentityError(
        f"{bucket}/{key}: the record names no version id, ETag or sequencer; "
        "describe the object to identify it (the event time alone is not an identity)"
    )
