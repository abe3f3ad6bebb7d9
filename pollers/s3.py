"""Poll an S3 prefix with ListObjectsV2: paginated, optionally from a StartAfter key."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from pollers.base import Poller
from pollers.cursors import ListingPlan
from pollers.entries import Entry


class S3Poller(Poller):
    """Find new objects under ``prefix`` of ``bucket``.

    Each cycle issues one ListObjectsV2 request per page of ``page_size`` keys (at most 1,000),
    starting after the cursor's key for ``start-after``. With ``strategy="inbox"`` each handled
    object is copied to ``processed_prefix`` (or ``failed_prefix``) and deleted, which must lie
    outside ``prefix`` so that the listing stays small. ``state_path`` may be a file path or an
    ``s3://bucket/key`` URL.
    """

    def __init__(  # noqa: PLR0913  (keyword-only settings, each with a safe default)
        self,
        client: Any,
        bucket: str,
        *,
        prefix: str = "",
        strategy: str = "seen-set",
        state_path: str | os.PathLike[str] | None = None,
        min_age_s: float = 0.0,
        page_size: int = 1000,
        lookback_s: float = 900.0,
        sweep_every: int = 60,
        processed_prefix: str = "processed/",
        failed_prefix: str = "failed/",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be between 1 and 1000 (S3's maximum), got {page_size}")
        if strategy == "inbox":
            for name, value in (
                ("processed_prefix", processed_prefix),
                ("failed_prefix", failed_prefix),
            ):
                if value.startswith(prefix):
                    raise ValueError(
                        f"{name} {value!r} lies inside the listed prefix {prefix!r}: moved files "
                        "would be listed again; choose a prefix outside it"
                    )
        self.client, self.bucket, self.prefix, self.page_size = client, bucket, prefix, page_size
        self.processed_prefix, self.failed_prefix = processed_prefix, failed_prefix
        super().__init__(
            strategy=strategy,
            state_path=state_path,
            min_age_s=min_age_s,
            lookback_s=lookback_s,
            sweep_every=sweep_every,
            s3_client=client,
            clock=clock,
        )

    def _list(self, plan: ListingPlan) -> Iterator[Entry]:
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": self.prefix,
            "MaxKeys": self.page_size,
        }
        if plan.start_after is not None:
            request["StartAfter"] = plan.start_after
        while True:
            page = self.client.list_objects_v2(**request)
            self.stats.list_requests += 1
            contents = page.get("Contents", [])
            self.stats.objects_scanned += len(contents)
            for obj in contents:
                yield Entry(
                    key=obj["Key"],
                    size=int(obj["Size"]),
                    mtime=obj["LastModified"].timestamp(),
                    etag=obj.get("ETag", "").strip('"') or None,
                )
            if not page.get("IsTruncated"):
                return
            request.pop("StartAfter", None)
            request["ContinuationToken"] = page["NextContinuationToken"]

    def _move_out(self, entry: Entry, *, succeeded: bool) -> None:
        target = (self.processed_prefix if succeeded else self.failed_prefix) + entry.key[len(self.prefix) :]
        self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": entry.key}
        )
        self.client.delete_object(Bucket=self.bucket, Key=entry.key)
