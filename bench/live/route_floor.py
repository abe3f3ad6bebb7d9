"""The least work an event route itself needs per file: a route's own floor.

``capacity.measure_floor`` times put + get + put, what one file costs *any* strategy. An event
route costs more by construction: S3 builds and delivers a notification for every object, and the
SQS route also stores it in a queue, receives it and deletes it (one receive and one delete per
batch). Here those steps are played in order with no runtime around them (no invoker or mapping,
no Lambda environments, no recorder), on the same backend, by one thread unless said otherwise:

* ``s3-lambda``: PUT (the bucket notifies a function: moto builds the event, the bridge hands it
  over) + parse the event + GET + PUT; and the same with its two sides on two threads, as they
  must be in a live run (the writer's thread PUTs, a function thread takes each event from a
  queue), which measures what threads alone cost on this machine;
* ``s3-eventbridge-lambda``: the same as ``s3-lambda``, the bucket sending its events to
  EventBridge's default bus instead, where a rule matches each and targets the function;
* ``s3-sqs-lambda`` (and ``s3-sns-sqs-lambda``, through its topic): ``batch`` PUTs (each notifies
  the queue) + one ReceiveMessage of ``batch`` + per message parse + GET + PUT + one
  DeleteMessageBatch.

In process, where one core (the GIL) does the backend's work and the route's, a route's knee
cannot exceed its own floor, whatever the harness does; the ratio of the two floors says how far
the in-process floor is out of a route's reach by construction, apart from what the live harness
(threads, scheduling, bookkeeping) adds. With moto in its own process (``moto-process``) the
server has a core of its own, and a live run, which keeps both busy, can pass a one-thread floor.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from bench.live.backends import BackendEnv, fresh_backend
from bench.live.heap import settled_heap_frozen
from bench.scenario.kinds import Kind, facet
from event_handlers.events import parse_s3_event
from event_handlers.filters import KeyFilter
from event_handlers.runtime import moto_bridge
from event_handlers.trigger import (
    FanoutClients,
    NotificationRule,
    configure_notifications,
    configure_s3_sns_sqs_route,
    eventbridge_pattern,
)

PREFIX = "incoming/"
BODY = b"a,b\n1,2\n" * 40  # the same body as the in-process floor's
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:pve-route-floor"
PATIENCE_S = 30.0  # a file not processed by then means a broken route, not a slow one
SQS_BATCHES = (1, 10)  # the SQS route at its lightest load (a message per receive) and at its best


@dataclass(frozen=True)
class RouteFloor:
    """One route's least work per file, played one way (``label``: by one thread, or two)."""

    kind: str
    label: str
    backend: str
    files: int
    seconds: float
    batch_size: int = 1
    steps: str = ""

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds

    def as_dict(self, floor_files_per_s: float | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            **asdict(self),
            "files_per_s": round(self.files_per_s, 2),
            "per_file_s": round(self.seconds / self.files, 6),
        }
        if floor_files_per_s:
            out["vs_floor"] = round(self.files_per_s / floor_files_per_s, 3)
        return out


def _process(env: BackendEnv, s3: Any, event: Any, n: int) -> None:
    """What the handler must do with one delivered event: parse it, read the object, write a result."""
    for record in parse_s3_event(event):
        data = s3.get_object(Bucket=record.bucket, Key=record.key)["Body"].read()
        s3.put_object(Bucket=env.bucket, Key=f"summaries/{n:08d}.json", Body=data[:64])


Play = Callable[[BackendEnv, int, int], float]  # (backend, files, batch size) -> seconds
Wiring = Callable[[BackendEnv, Callable[[dict[str, Any]], None]], AbstractContextManager[None]]


@contextmanager
def _function_notified(env: BackendEnv, submit: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """The bucket notifies the route floor's function; moto's bridge hands each event to ``submit``."""
    moto_bridge.register_function(FUNCTION_ARN, submit)
    try:
        configure_notifications(
            env.bucket,
            [NotificationRule(FUNCTION_ARN, filter=KeyFilter(PREFIX))],
            s3_client=env.client("s3", "setup"),
        )
        yield
    finally:
        moto_bridge.unregister_function(FUNCTION_ARN)


@contextmanager
def _function_ruled(env: BackendEnv, submit: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """The bucket sends its events to EventBridge, where a rule targets the route floor's function
    (what ``trigger.configure_s3_eventbridge_route`` sets up, less the function's permission: no
    function is deployed here); moto's bridge hands each matched event to ``submit``."""
    moto_bridge.register_function(FUNCTION_ARN, submit)
    try:
        configure_notifications(env.bucket, [], eventbridge=True, s3_client=env.client("s3", "setup"))
        events = env.client("events", "setup")
        pattern = json.dumps(eventbridge_pattern(env.bucket, PREFIX))
        events.put_rule(Name="pve-route-floor", EventPattern=pattern, State="ENABLED")
        events.put_targets(Rule="pve-route-floor", Targets=[{"Id": "handler", "Arn": FUNCTION_ARN}])
        yield
    finally:
        moto_bridge.unregister_function(FUNCTION_ARN)


def _one_thread(wiring: Wiring) -> Play:
    """PUT, then the delivered event processed on the same thread, file after file."""

    def play(env: BackendEnv, files: int, batch: int) -> float:
        del batch  # one event per object on these routes
        s3 = env.client("s3", "writer")
        delivered: list[dict[str, Any]] = []
        with wiring(env, delivered.append):
            for i in range(10):  # warm the code paths
                s3.put_object(Bucket=env.bucket, Key=f"{PREFIX}warm-{i}", Body=BODY)
                _process(env, s3, delivered.pop(), -i - 1)
            started = time.perf_counter()
            for i in range(files):
                s3.put_object(Bucket=env.bucket, Key=f"{PREFIX}{i:08d}.csv", Body=BODY)
                _process(env, s3, delivered.pop(), i)
            return time.perf_counter() - started

    return play


def _two_threads(wiring: Wiring) -> Play:
    """The writer's PUTs on this thread, each event processed by a second thread (one CPU between
    them: the GIL), timed until the last file is processed."""

    def play(env: BackendEnv, files: int, batch: int) -> float:
        del batch
        s3 = env.client("s3", "writer")
        function_s3 = env.client("s3", "runtime")
        delivered: queue.Queue[dict[str, Any] | None] = queue.Queue()
        done = threading.Semaphore(0)
        failed: list[BaseException] = []

        def function() -> None:
            n = 0
            while (event := delivered.get()) is not None:
                try:
                    _process(env, function_s3, event, n)
                except BaseException as exc:  # handed to the timing thread, which raises it
                    failed.append(exc)
                n += 1
                done.release()

        def wait_one() -> None:
            if not done.acquire(timeout=PATIENCE_S):
                raise RuntimeError(f"route floor: no file processed within {PATIENCE_S:g} s")
            if failed:
                raise RuntimeError("route floor: the function thread failed") from failed[0]

        worker = threading.Thread(target=function, name="route-floor-function", daemon=True)
        worker.start()
        try:
            with wiring(env, delivered.put):
                for i in range(10):  # warm the code paths
                    s3.put_object(Bucket=env.bucket, Key=f"{PREFIX}warm-{i}", Body=BODY)
                    wait_one()
                started = time.perf_counter()
                for i in range(files):
                    s3.put_object(Bucket=env.bucket, Key=f"{PREFIX}{i:08d}.csv", Body=BODY)
                for _ in range(files):
                    wait_one()
                return time.perf_counter() - started
        finally:
            delivered.put(None)
            worker.join(timeout=10)

    return play


_s3_lambda = _one_thread(_function_notified)
_s3_lambda_two_threads = _two_threads(_function_notified)
_s3_eventbridge_lambda = _one_thread(_function_ruled)
_s3_eventbridge_lambda_two_threads = _two_threads(_function_ruled)


def _notify_queue(env: BackendEnv, url: str, arn: str) -> None:
    """S3 sends to the queue itself."""
    configure_notifications(
        env.bucket, [NotificationRule(arn, filter=KeyFilter(PREFIX))], s3_client=env.client("s3", "setup")
    )


def _notify_topic(env: BackendEnv, url: str, arn: str) -> None:
    """S3 publishes to a topic the queue is subscribed to (raw delivery off: SNS's envelope)."""
    clients = FanoutClients(env.client("s3", "setup"), env.client("sns", "setup"), env.client("sqs", "setup"))
    configure_s3_sns_sqs_route(
        env.bucket,
        url,
        arn,
        topic_name="pve-route-floor",
        account_id=env.account_id,
        prefix=PREFIX,
        clients=clients,
    )


def _s3_sqs_lambda(env: BackendEnv, files: int, batch: int) -> float:
    return _queue_route(env, files, batch, _notify_queue)


def _s3_sns_sqs_lambda(env: BackendEnv, files: int, batch: int) -> float:
    return _queue_route(env, files, batch, _notify_topic)


def _queue_route(
    env: BackendEnv, files: int, batch: int, notify: Callable[[BackendEnv, str, str], None]
) -> float:
    """``batch`` PUTs, one receive of the batch, each message handled, one delete; ``notify`` wires
    the bucket's notifications to the queue (directly, or through a topic)."""
    s3, sqs = env.client("s3", "writer"), env.client("sqs", "runtime")
    url = sqs.create_queue(QueueName="pve-route-floor")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    notify(env, url, arn)
    sqs.purge_queue(QueueUrl=url)  # S3's s3:TestEvent

    def one_batch(first: int) -> None:
        for i in range(first, first + batch):
            s3.put_object(Bucket=env.bucket, Key=f"{PREFIX}{i:08d}.csv", Body=BODY)
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + PATIENCE_S
        while len(received) < batch:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"route floor: {batch - len(received)} notification(s) never reached the queue"
                )
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch - len(received))
            received += answer.get("Messages", [])
        for n, message in enumerate(received):
            _process(env, s3, json.loads(message["Body"]), first + n)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(received)],
        )

    one_batch(10_000_000)  # warm the code paths
    rounds = max(1, files // batch)
    started = time.perf_counter()
    for r in range(rounds):
        one_batch(r * batch)
    return time.perf_counter() - started


@dataclass(frozen=True)
class _Way:
    """One way of playing a route's least work: how, in words, and at which batch size."""

    label: str
    play: Play
    steps: str
    batch: int = 1


def _sqs_steps(b: int, via: str = "") -> str:
    return (
        f"{b} PUT(s), each notifying {via + ' ' if via else ''}the queue + ReceiveMessage({b}) + "
        f"{b} x (parse + GET + PUT) + DeleteMessageBatch"
    )


_S3_LAMBDA_WAYS = (
    _Way("one thread", _s3_lambda, "PUT (notifies) + parse + GET + PUT"),
    _Way(
        "two threads",
        _s3_lambda_two_threads,
        "PUT (notifies) on one thread; parse + GET + PUT on another",
    ),
)

_S3_EVENTBRIDGE_LAMBDA_WAYS = (
    _Way(
        "one thread",
        _s3_eventbridge_lambda,
        "PUT (to EventBridge, a rule matches) + parse + GET + PUT",
    ),
    _Way(
        "two threads",
        _s3_eventbridge_lambda_two_threads,
        "PUT (to EventBridge, a rule matches) on one thread; parse + GET + PUT on another",
    ),
)

#: The route-floor facet: the ways each kind's own least work per file is played (none: a kind
#: whose route has no floor of its own here, a poller's or one not played on its own yet).
ROUTES: dict[Kind, tuple[_Way, ...]] = {
    Kind.POLL: (),
    Kind.SCHEDULED_POLL: (),
    Kind.S3_LAMBDA: _S3_LAMBDA_WAYS,
    Kind.S3_SQS_LAMBDA: tuple(
        _Way(f"one thread, batch {b}", _s3_sqs_lambda, _sqs_steps(b), b) for b in SQS_BATCHES
    ),
    Kind.S3_EVENTBRIDGE_LAMBDA: _S3_EVENTBRIDGE_LAMBDA_WAYS,
    Kind.S3_SNS_SQS_LAMBDA: tuple(
        _Way(f"one thread, batch {b}", _s3_sns_sqs_lambda, _sqs_steps(b, "the topic, which delivers to"), b)
        for b in SQS_BATCHES
    ),
    Kind.INOTIFY: (),
    Kind.HYBRID: (),
}


def route_floors(kind: str, backend: str = "moto", files: int = 300) -> list[RouteFloor]:
    """``kind``'s own floors, one per way it is played (none for a kind whose ROUTES row is empty;
    a kind with no row raises)."""
    out = []
    for way in facet(ROUTES, kind, "bench.live.route_floor.ROUTES"):
        with fresh_backend(backend, bucket="pve-route-floor") as env, settled_heap_frozen():
            seconds = way.play(env, files, way.batch)  # warm-up included in the frozen part: brief
        played = max(1, files // way.batch) * way.batch
        out.append(RouteFloor(kind, way.label, backend, played, seconds, way.batch, way.steps))
    return out
