"""Every boto3 client of a run comes from here, with a hook that counts its requests exactly.

moto counts nothing, so each client gets a botocore handler on ``request-created``, which fires
once per HTTP request *attempt* (retries included: each is a billed request on AWS). Counts are
kept per role (``writer``, ``poller``, ``handler``, ``runtime``, ``setup``) so the workload's own
PUTs never mix with what a strategy costs.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client
    from types_boto3_sqs.client import SQSClient

import boto3
from botocore.config import Config

ROLES = ("writer", "poller", "handler", "runtime", "setup")
STRATEGY_ROLES = ("poller", "handler", "runtime")


class ApiCallCounter:
    """Thread-safe counts of requests by (role, ``service.Operation``)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def record(self, role: str, operation: str) -> None:
        with self._lock:
            self._counts[(role, operation)] += 1

    def by_role(self) -> dict[str, dict[str, int]]:
        with self._lock:
            items = list(self._counts.items())
        out: dict[str, dict[str, int]] = {}
        for (role, operation), n in sorted(items):
            out.setdefault(role, {})[operation] = n
        return out

    def for_roles(self, roles: tuple[str, ...] = STRATEGY_ROLES) -> dict[str, int]:
        """Requests by operation, summed over ``roles`` (by default: what the strategy made)."""
        total: Counter[str] = Counter()
        with self._lock:
            for (role, operation), n in self._counts.items():
                if role in roles:
                    total[operation] += n
        return dict(sorted(total.items()))

    def total(self, roles: tuple[str, ...] = STRATEGY_ROLES) -> int:
        return sum(self.for_roles(roles).values())


class ClientFactory:
    """Make (and cache) clients for one backend, each labelled with the role that uses it."""

    def __init__(
        self,
        counter: ApiCallCounter,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        credentials: dict[str, str] | None = None,
        max_attempts: int = 3,
    ) -> None:
        self.counter = counter
        self.endpoint_url = endpoint_url
        self.region = region
        self.credentials = credentials or {}
        self.config = Config(
            retries={"max_attempts": max_attempts, "mode": "standard"}, max_pool_connections=32
        )
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._session = boto3.session.Session()

    def client(self, service: str, role: str) -> Any:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        with self._lock:
            cached = self._cache.get((service, role))
            if cached is None:
                cached = self._make(service, role)
                self._cache[(service, role)] = cached
            return cached

    def s3(self, role: str) -> S3Client:
        """The counted S3 client of ``role``, typed for the checker (types-boto3 stubs)."""
        return cast("S3Client", self.client("s3", role))

    def sqs(self, role: str) -> SQSClient:
        """The counted SQS client of ``role``, typed for the checker."""
        return cast("SQSClient", self.client("sqs", role))

    def _make(self, service: str, role: str) -> Any:
        client = self._session.client(  # type: ignore[call-overload]  # service is a runtime name
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=self.config,
            **self.credentials,
        )
        service_label = client.meta.service_model.service_name
        counter = self.counter

        def count(operation_name: str = "", **_: Any) -> None:
            counter.record(role, f"{service_label}.{operation_name}")

        client.meta.events.register("request-created", count)
        return client
