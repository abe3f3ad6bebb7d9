"""Every boto3 client of a run comes from here, with a hook that counts its requests exactly.

moto counts nothing, so each client gets a botocore handler on ``request-created``, which fires
once per HTTP request *attempt* (retries included: each is a billed request on AWS). Counts are
kept per role (``writer``, ``poller``, ``handler``, ``runtime``, ``setup``) so the workload's own
PUTs never mix with what a strategy costs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client
    from types_boto3_sqs.client import SQSClient

import boto3
from botocore.config import Config

from event_handlers.request_count import count_requests

ROLES = ("writer", "poller", "handler", "runtime", "setup")
STRATEGY_ROLES = ("poller", "handler", "runtime")
LONG_POLLS = frozenset({"ReceiveMessage"})


class RequestGate:
    """One request at a time for the strategy's roles, when moto runs in this process.

    In-process moto answers a request with CPU only, under the one GIL; CPython hands the GIL
    round-robin among the threads that want it, so with ten worker threads busy the writer (the
    outside world, which on AWS runs on its own machine) got about a tenth of the core and fell
    behind its schedule at 60% CPU (profiled: issue 14). Behind this gate the strategy's threads
    take turns per request (they could not run in parallel anyway), so the writer competes with
    one of them. Every request is still made, counted and timed; only their interleaving changes.
    A long poll holds the gate while moto looks for messages, never while it waits for them
    (``step_aside``, called from moto's wait by ``bench.live.moto_speedups``).
    """

    _held = threading.local()  # the gate the current thread holds, if any

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()
        RequestGate._held.gate = self

    def __exit__(self, *exc: object) -> None:
        RequestGate._held.gate = None
        self._lock.release()

    @classmethod
    @contextmanager
    def step_aside(cls) -> Iterator[None]:
        """While this thread waits (for messages, not for the CPU), let other requests through."""
        gate: RequestGate | None = getattr(cls._held, "gate", None)
        if gate is None:
            yield
            return
        gate.__exit__()
        try:
            yield
        finally:
            gate.__enter__()


class ApiCallCounter:
    """Thread-safe counts of requests by (role, ``service.Operation``)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._seconds: dict[str, list[float]] = {}

    def record(self, role: str, operation: str) -> None:
        with self._lock:
            self._counts[(role, operation)] += 1

    def record_time(self, role: str, seconds: float) -> None:
        """One request's time from sending to its parsed response (the backend's own work)."""
        with self._lock:
            self._seconds.setdefault(role, []).append(seconds)

    def request_seconds(self) -> dict[str, list[float]]:
        """Per role, each request's time in order (for the run's health: is moto the limit?)."""
        with self._lock:
            return {role: list(values) for role, values in self._seconds.items()}

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
        gate: RequestGate | None = None,
    ) -> None:
        self.counter = counter
        self.gate = gate  # in-process moto: the strategy's requests take turns (see RequestGate)
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
        counter = self.counter

        sent = threading.local()

        def count(operation: str) -> None:  # "service.Operation", from the shared hook
            counter.record(role, operation)
            # a long poll waits for messages on purpose: its time says nothing about the backend
            sent.at = None if operation.split(".", 1)[1] in LONG_POLLS else time.perf_counter()

        def answered(**_: Any) -> None:
            # ``needs-retry`` fires once per attempt, after the response is parsed: the time since
            # ``request-created`` is the backend's handling (moto's, in-process) plus botocore's.
            started = getattr(sent, "at", None)
            if started is not None:
                counter.record_time(role, time.perf_counter() - started)
                sent.at = None

        count_requests(client, count)  # the same hook the deployed function counts itself with
        client.meta.events.register("needs-retry", answered)
        if self.gate is not None and role in STRATEGY_ROLES:
            _gate_calls(client, self.gate)
        return client


def _gate_calls(client: Any, gate: RequestGate) -> None:
    """Make each of ``client``'s API calls (retries included) inside ``gate``."""
    make_api_call = client._make_api_call

    def gated(operation_name: str, api_params: dict[str, Any]) -> Any:
        with gate:
            return make_api_call(operation_name, api_params)

    client._make_api_call = gated
