"""A local Lambda function: execution environments, cold starts, timeouts, concurrency, billing.

moto stores functions but runs no code without Docker, so this module runs Python handlers the
way Lambda does, as far as the comparison needs:

* an execution environment is created on demand (a *cold start*): the handler factory runs
  (its real init time is measured) and an optional modelled ``init_delay_s`` is added;
* an idle environment is reused (*warm*), most recently used first, and reclaimed after
  ``idle_timeout_s``;
* at most ``reserved_concurrency`` invocations run at once; beyond that ``invoke`` raises
  ``ThrottledError`` and the caller (async queue, SQS mapping) decides what to do, as AWS's do;
* an invocation that outlives ``timeout_s`` fails with "Task timed out" and its environment is
  discarded (the next invocation pays a cold start, as on AWS). Lambda stops the process; a
  thread cannot be stopped, so the context is expired instead: from then on it reports no time
  left, which the handler's stores and ledger obey (late reads and writes are refused, and a
  record that finishes late is not counted as processed);
* an INIT failure (the factory raising) is an invocation record with the reason, as Lambda's
  INIT_REPORT is;
* billed duration is rounded up to the next millisecond and includes the INIT phase of a cold
  start (AWS bills INIT for managed runtimes since 1 August 2025); GB-seconds follow from memory.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import math
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from event_handlers.errors import ConfigError, EventHandlersError
from event_handlers.runtime.context import LambdaContext
from event_handlers.runtime.counters import RuntimeCounters

log = logging.getLogger(__name__)

Handler = Callable[[Any, LambdaContext], Any]
HandlerFactory = Callable[[], Handler]


class ThrottledError(EventHandlersError, RuntimeError):
    """No execution environment may start: the concurrency limit is reached."""


class FunctionError(EventHandlersError, RuntimeError):
    """The handler raised (or timed out); ``error_type`` is what Lambda would report."""

    def __init__(self, error_type: str, message: str) -> None:
        self.error_type = error_type
        super().__init__(f"{error_type}: {message}")


@dataclass(frozen=True)
class FunctionConfig:
    """What a function is deployed with. ``reserved_concurrency=None`` means unreserved."""

    name: str = "pve-handler"
    memory_mb: int = 128
    timeout_s: float = 30.0
    architecture: str = "x86_64"
    reserved_concurrency: int | None = None
    init_delay_s: float = 0.0
    idle_timeout_s: float = 600.0
    region: str = "us-east-1"
    account_id: str = "123456789012"

    def __post_init__(self) -> None:
        if not 128 <= self.memory_mb <= 10240:
            raise ConfigError(
                f"memory_mb must be between 128 and 10240 (Lambda's range), got {self.memory_mb}"
            )
        if not 0 < self.timeout_s <= 900:
            raise ConfigError(f"timeout_s must be in (0, 900], got {self.timeout_s}")
        if self.architecture not in ("x86_64", "arm64"):
            raise ConfigError(f"architecture must be x86_64 or arm64, got {self.architecture!r}")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 0:
            raise ConfigError("reserved_concurrency must be >= 0")

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"

    @property
    def concurrency_limit(self) -> int:
        return 1000 if self.reserved_concurrency is None else self.reserved_concurrency


@dataclass(frozen=True)
class InvocationRecord:
    """One invocation as Lambda's REPORT line would describe it."""

    request_id: str
    started_at: float  # wall clock
    duration_ms: float
    billed_ms: int
    init_ms: float
    cold_start: bool
    ok: bool
    error: str = ""


def billed_milliseconds(duration_ms: float, init_ms: float = 0.0) -> int:
    """Lambda bills per millisecond, rounded up, INIT included."""
    return max(1, math.ceil(duration_ms + init_ms - 1e-9))


def gb_seconds(billed_ms: int, memory_mb: int) -> float:
    return billed_ms / 1000.0 * memory_mb / 1024.0


def load_handler_fresh(path: str) -> Handler:
    """Load ``package.module:function`` as a *fresh* module copy, running its top-level code.

    Every execution environment on Lambda imports the module anew; so does this, so that the
    module's initialisation (clients, caches) is measured on each cold start and no state leaks
    between environments.
    """
    module_name, _, attr = path.partition(":")
    if not attr:
        module_name, _, attr = path.rpartition(".")
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find handler module {module_name!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(module_name, module)
    spec.loader.exec_module(module)
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise ImportError(f"{module_name} has no callable {attr!r}")
    return handler


class _Environment:
    """One execution environment: a handler instance and the thread that runs it."""

    _ids = itertools.count(1)

    def __init__(self, handler: Handler, init_ms: float, now: float) -> None:
        self.id = next(self._ids)
        self.handler = handler
        self.init_ms = init_ms
        self.invocations = 0
        self.last_used = now
        self.dead = False
        self._jobs: queue.Queue[tuple[Any, LambdaContext, queue.Queue[tuple[bool, Any]]] | None] = (
            queue.Queue()
        )
        self._thread = threading.Thread(target=self._serve, name=f"lambda-env-{self.id}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            event, context, reply = job
            try:
                reply.put((True, self.handler(event, context)))
            except BaseException as exc:
                reply.put((False, exc))

    def run(self, event: Any, context: LambdaContext, timeout_s: float) -> tuple[bool, Any]:
        reply: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
        self._jobs.put((event, context, reply))
        try:
            return reply.get(timeout=timeout_s)
        except queue.Empty:
            self.dead = True  # Lambda would kill it; a thread cannot be killed, so abandon it
            self._jobs.put(None)
            raise TimeoutError from None

    def shutdown(self) -> None:
        self._jobs.put(None)


class LocalFunction:
    """Invoke a Python handler with Lambda's environment, concurrency and billing semantics."""

    def __init__(
        self,
        config: FunctionConfig,
        factory: HandlerFactory | str,
        *,
        counters: RuntimeCounters | None = None,
        keep_records: bool = True,
        init_delay: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``init_delay`` draws a modelled INIT delay per cold start (else ``config.init_delay_s``).

        ``clock`` (deadlines, idle reclaim), ``wall_clock`` (record stamps) and ``sleep`` (the
        modelled INIT delay) are injectable, as ``PollLoop``'s are.
        """
        self.config = config
        self._clock, self._wall, self._sleep = clock, wall_clock, sleep
        self._init_delay = init_delay or (lambda: config.init_delay_s)
        self._factory: HandlerFactory = (
            (lambda: load_handler_fresh(factory)) if isinstance(factory, str) else factory
        )
        self.counters = counters or RuntimeCounters()
        self.records: list[InvocationRecord] = []
        self._keep_records = keep_records
        self._idle: list[_Environment] = []
        self._busy = 0
        self._lock = threading.Lock()

    @property
    def arn(self) -> str:
        return self.config.arn

    def invoke(self, event: Any) -> Any:
        """Run one invocation; returns the handler's response.

        Raises ``ThrottledError`` when the concurrency limit is reached (nothing ran), and
        ``FunctionError`` when the handler raised or timed out (the invocation is billed).
        """
        env, cold = self._acquire()
        started_wall, started = self._wall(), self._clock()
        context = LambdaContext(
            function_name=self.config.name,
            memory_limit_in_mb=self.config.memory_mb,
            invoked_function_arn=self.config.arn,
            deadline=started + self.config.timeout_s,
            clock=self._clock,
        )
        try:
            ok, value = env.run(event, context, self.config.timeout_s)
        except TimeoutError:
            context.expire()
            ok, value = (
                False,
                FunctionError(
                    "Sandbox.Timedout", f"Task timed out after {self.config.timeout_s:.2f} seconds"
                ),
            )
        duration_ms = (self._clock() - started) * 1000.0
        self._release(env)
        init_ms = env.init_ms if cold else 0.0
        billed = billed_milliseconds(duration_ms, init_ms)
        error = ""
        if not ok:
            if not isinstance(value, FunctionError):
                value = FunctionError(type(value).__name__, str(value))
            error = str(value)
        self.counters.add(
            invocations=1,
            errors=0 if ok else 1,
            timeouts=1 if error.startswith("Sandbox.Timedout") else 0,
            billed_ms=billed,
            gb_s=gb_seconds(billed, self.config.memory_mb),
        )
        self._record(
            InvocationRecord(
                context.aws_request_id, started_wall, duration_ms, billed, init_ms, cold, ok, error
            )
        )
        if not ok:
            log.warning("%s invocation %s failed: %s", self.config.name, context.aws_request_id, error)
            raise value
        return value

    def _acquire(self) -> tuple[_Environment, bool]:
        now = self._clock()
        with self._lock:
            fresh = [e for e in self._idle if now - e.last_used < self.config.idle_timeout_s]
            for stale in (e for e in self._idle if e not in fresh):
                stale.shutdown()
            self._idle = fresh
            if self._busy >= self.config.concurrency_limit:
                self.counters.add(throttles=1)
                raise ThrottledError(
                    f"{self.config.name}: concurrency limit {self.config.concurrency_limit} reached"
                )
            self._busy += 1
            if self._idle:
                return self._idle.pop(), False
        try:
            return self._cold_start(), True
        except BaseException:
            with self._lock:
                self._busy -= 1
            raise

    def _cold_start(self) -> _Environment:
        started, started_wall = time.perf_counter(), self._wall()
        try:
            handler = self._factory()
        except Exception as exc:
            error_type = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.InitError"
            error = FunctionError(error_type, f"{type(exc).__name__}: {exc}")
            init_ms = (time.perf_counter() - started) * 1000.0
            billed = billed_milliseconds(0.0, init_ms)
            self.counters.add(
                invocations=1,
                errors=1,
                cold_starts=1,
                init_ms=init_ms,
                billed_ms=billed,
                gb_s=gb_seconds(billed, self.config.memory_mb),
            )
            self._record(
                InvocationRecord("init", started_wall, 0.0, billed, init_ms, True, False, str(error))
            )
            log.warning("%s INIT failed: %s", self.config.name, error)
            raise error from exc
        modelled = self._init_delay()
        if modelled > 0:
            self._sleep(modelled)
        init_ms = (time.perf_counter() - started) * 1000.0
        self.counters.add(cold_starts=1, init_ms=init_ms)
        return _Environment(handler, init_ms, self._clock())

    def _record(self, record: InvocationRecord) -> None:
        if self._keep_records:
            with self._lock:
                self.records.append(record)

    def _release(self, env: _Environment) -> None:
        env.invocations += 1
        env.last_used = self._clock()
        with self._lock:
            self._busy -= 1
            if not env.dead:
                self._idle.append(env)

    def shutdown(self) -> None:
        with self._lock:
            for env in self._idle:
                env.shutdown()
            self._idle.clear()
