"""Poll an S3 prefix with ListObjectsV2: paginated, optionally from a StartAfter key."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pollers.base import DEFAULT_SKEW_S, Poller, resolve_cursor
from pollers.cursors import ListingCursor, ListingPlan
from pollers.entries import Entry
from pollers.errors import PathRefusedError, PollerConfigError, SourceUnavailableError
from pollers.state import StateLocation

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client
    from types_boto3_s3.type_defs import ListObjectsV2RequestTypeDef

log = logging.getLogger(__name__)

_GONE_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_MISSING_SOURCE_CODES = frozenset({"NoSuchBucket", "AccessDenied", "AllAccessDisabled"})
#: Answers to a copy or delete that no retry will change: the object stays where it is.
_MOVE_REFUSED_CODES = frozenset({"AccessDenied", "KeyTooLongError", "InvalidArgument", "InvalidObjectState"})


def error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ``ClientError`` (or "" for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class _PartialListing:
    """A listing cut short by a failed page: what came before it, and that page's token."""

    plan: ListingPlan
    token: str
    entries: list[Entry]


class S3Poller(Poller):
    """Find new objects under ``prefix`` of ``bucket``.

    Each cycle issues one ListObjectsV2 request per page of ``page_size`` keys (at most 1,000),
    starting after the cursor's key for ``start-after``. With ``cursor="inbox"`` each object is
    claimed before it is reported (a conditional PUT, ``If-None-Match: *``, of a marker under
    ``claims_prefix``: one poller wins; ``claims_prefix=None`` saves the PUT and DELETE per object
    where only one poller reads the prefix) and, once handled, copied to ``processed_prefix`` (or
    ``failed_prefix``) and deleted; those prefixes must lie outside ``prefix``. ``state_path`` may
    be a file path, an ``s3://bucket/key`` URL or any ``StateStore`` object. A bucket that does not
    exist (or may not be listed) is a ``SourceUnavailableError`` at the first poll.
    """

    def __init__(  # noqa: PLR0913  (public, keyword-only, safe defaults: an options object breaks callers)
        self,
        client: S3Client,
        bucket: str,
        *,
        prefix: str = "",
        cursor: str | ListingCursor | None = None,
        state_path: StateLocation = None,
        min_age_s: float = 0.0,
        page_size: int = 1000,
        lookback_s: float = 900.0,
        sweep_every: int = 60,
        processed_prefix: str = "processed/",
        failed_prefix: str = "failed/",
        claims_prefix: str | None = "claims/",
        claim_ttl_s: float = 900.0,
        skew_s: float = DEFAULT_SKEW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise PollerConfigError(f"page_size must be between 1 and 1000 (S3's maximum), got {page_size}")
        chosen = resolve_cursor(cursor, lookback_s=lookback_s, sweep_every=sweep_every, default="seen-set")
        if chosen.moves_processed:
            for name, value in (
                ("processed_prefix", processed_prefix),
                ("failed_prefix", failed_prefix),
                ("claims_prefix", claims_prefix),
            ):
                if value is not None and value.startswith(prefix):
                    raise PollerConfigError(
                        f"{name} {value!r} lies inside the listed prefix {prefix!r}: moved files "
                        "would be listed again; choose a prefix outside it"
                    )
        self.client, self.bucket, self.prefix, self.page_size = client, bucket, prefix, page_size
        self.processed_prefix, self.failed_prefix = processed_prefix, failed_prefix
        self.claims_prefix, self.claim_ttl_s = claims_prefix, claim_ttl_s
        self._partial: _PartialListing | None = None
        super().__init__(
            cursor=chosen,
            state_path=state_path,
            min_age_s=min_age_s,
            skew_s=skew_s,
            s3_client=client,
            clock=clock,
        )

    @property
    def source(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _list(self, plan: ListingPlan) -> list[Entry]:
        """Every page of the prefix. A page that fails (throttled, network) raises, and the loop
        backs off; the pages already listed and the failed page's continuation token are kept,
        so the next try asks for that page again instead of starting over from page 1 (with
        every third request throttled, a restart from page 1 would never reach page 3)."""
        partial, self._partial = self._partial, None
        if partial is not None and partial.plan != plan:
            partial = None
        entries = list(partial.entries) if partial is not None else []
        request: ListObjectsV2RequestTypeDef = {
            "Bucket": self.bucket,
            "Prefix": self.prefix,
            "MaxKeys": self.page_size,
        }
        if partial is not None:
            request["ContinuationToken"] = partial.token
            self.stats.listing_resumes += 1
        elif plan.start_after is not None:
            request["StartAfter"] = plan.start_after
        while True:
            try:
                page = self.client.list_objects_v2(**request)
            except Exception as exc:
                code = error_code(exc)
                if code in _MISSING_SOURCE_CODES:
                    raise SourceUnavailableError(f"cannot list {self.source}: {exc}") from exc
                token = request.get("ContinuationToken")
                if token is not None and code != "InvalidArgument":  # a refused token: start over
                    self._partial = _PartialListing(plan, token, entries)
                raise
            self.stats.list_requests += 1
            contents = page.get("Contents", [])
            self.stats.objects_scanned += len(contents)
            entries.extend(
                Entry(
                    key=obj["Key"],
                    size=int(obj["Size"]),
                    mtime=obj["LastModified"].timestamp(),
                    etag=obj.get("ETag", "").strip('"') or None,
                )
                for obj in contents
            )
            if not page.get("IsTruncated"):
                return entries
            request.pop("StartAfter", None)
            request["ContinuationToken"] = page["NextContinuationToken"]

    # -- inbox: claim, move out ----------------------------------------------------------------
    def _claim_key(self, entry: Entry) -> str:
        return f"{self.claims_prefix}{entry.key[len(self.prefix) :]}"

    def _claim(self, entry: Entry) -> bool:
        if self.claims_prefix is None:
            return True
        key = self._claim_key(entry)
        for _ in range(2):
            try:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=str(self._clock()).encode(), IfNoneMatch="*"
                )
                return True
            except Exception as exc:
                if error_code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise
            if not self._take_over_stale(key):
                return False
        return False

    def _take_over_stale(self, key: str) -> bool:
        """A claim older than ``claim_ttl_s`` was left by a crashed poller: delete it and try once
        more (two pollers may both delete it; only one wins the conditional PUT that follows)."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            return error_code(exc) in _GONE_CODES
        if self._clock() - head["LastModified"].timestamp() < self.claim_ttl_s:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def _release_claim(self, entry: Entry) -> None:
        if self.claims_prefix is None:
            return
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._claim_key(entry))
        except Exception as exc:  # a leftover claim expires after claim_ttl_s
            log.warning("could not release the claim on %s: %s", entry.key, exc)

    def _move_out(self, entry: Entry, *, succeeded: bool) -> None:
        if not entry.key.startswith(self.prefix):  # a key from a tampered state file, say
            raise PathRefusedError(
                f"inbox key {entry.key!r:.80} lies outside the listed prefix {self.prefix!r}"
            )
        target = (self.processed_prefix if succeeded else self.failed_prefix) + entry.key[len(self.prefix) :]
        self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": entry.key}
        )
        self.client.delete_object(Bucket=self.bucket, Key=entry.key)

    def _is_gone(self, exc: BaseException) -> bool:
        return error_code(exc) in _GONE_CODES

    def _move_cannot_succeed(self, exc: BaseException) -> bool:
        return isinstance(exc, PathRefusedError) or error_code(exc) in _MOVE_REFUSED_CODES
