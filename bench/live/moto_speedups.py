"""Patches to moto that change its speed, never its answers (each proved so in tests/test_capacity.py).

* SQS retention. moto's ``ReceiveMessage`` checks each message it hands out against the queue's
  retention period by computing *every* queue attribute (``get_queue_attributes`` ->
  ``Queue.attributes``), and two of those (``ApproximateNumberOfMessages``, ``...NotVisible``)
  scan the whole queue. A receive of 10 therefore scans the queue about 30 times: at 500 queued
  messages one receive took about 2 s here (profiled, moto 5.x), so once a live S3 -> SQS ->
  Lambda run falls a few hundred messages behind, each receive is slower than the arrivals and
  the route collapses: the harness, not SQS (AWS does not slow down with queue depth). The patch
  reads the one attribute it needs directly; the retention rule itself is unchanged.
* S3's URL table. Every S3 request asks ``S3Backend._url_module`` twice (for ``urls`` and
  ``url_bases``), and each time moto *re-imports* ``moto.s3.urls`` from disk, because the table
  depends on one environment variable (``MOTO_S3_CUSTOM_ENDPOINTS``). The re-import stats and
  reads files, and each of those system calls lets go of the GIL: with other threads busy, the
  writer waited for the GIL again after every one (py-spy, wall clock: 43% of a writer's PUT at
  95 files/s under a poller's burst, issue 14). The patch re-imports only when that variable has
  changed since the last import, so the table is the one moto would have built.
* SQS long polls and the request gate. In-process, the strategy's requests take turns behind
  ``bench.live.clients.RequestGate``; a long poll holds it while moto looks for messages, and the
  patched ``Queue.wait_for_messages`` lets go of it while moto waits for them (the wait itself,
  its timeout and what wakes it are moto's). Without a gate (moto's server) it changes nothing.
* SQS sends. ``SendMessage`` (and every S3 notification moto sends to a queue) computed every
  queue attribute, scans of the queue included, to read ``ContentBasedDeduplication``, which only
  a FIFO queue has: 10% of the process's CPU on a saturated S3 -> SQS -> Lambda run (py-spy, GIL
  samples). On a standard queue the patch skips that read; FIFO queues keep moto's code.
* SQS wake-ups. moto wakes *every* long poll waiting on a queue (``notify_all``) for each message
  it adds, though one receive takes it: with the SQS mapping's five pollers waiting, each file woke
  five threads, each of which took the GIL (and, in process, the request gate) to find the queue
  empty again. The patch wakes one waiter per message; the others go on waiting (moto's wait, its
  one-second re-check and what it returns are unchanged).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_installed = False
originals: dict[str, Any] = {}  # moto's own functions, kept for the tests that both agree


def install() -> None:
    """Install every patch (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _patch_sqs_retention()
        _patch_s3_url_module()
        _patch_sqs_wait()
        _patch_sqs_send()
        _patch_sqs_wake_one()
        _installed = True


def _patch_sqs_retention() -> None:
    """``SQSBackend.is_message_valid_based_on_retention_period`` without computing every attribute."""
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    name = "is_message_valid_based_on_retention_period"
    originals[f"SQSBackend.{name}"] = getattr(SQSBackend, name)
    setattr(SQSBackend, name, is_message_valid_based_on_retention_period)


def _patch_s3_url_module() -> None:
    """``S3Backend._url_module`` re-imported only when ``MOTO_S3_CUSTOM_ENDPOINTS`` changed."""
    from importlib import reload

    import moto.s3.urls as urls_module
    from moto import settings
    from moto.s3.models import S3Backend

    built_for: list[tuple[str, ...] | None] = [None]  # the endpoints the module was last built for
    reloading = threading.Lock()

    def _url_module(self: Any) -> Any:
        endpoints = tuple(settings.get_s3_custom_endpoints())
        if built_for[0] != endpoints:
            with reloading:
                if built_for[0] != endpoints:
                    reload(urls_module)
                    built_for[0] = endpoints
        return urls_module

    originals["S3Backend._url_module"] = S3Backend.__dict__["_url_module"]
    S3Backend._url_module = property(_url_module)  # type: ignore[method-assign,assignment]


def _patch_sqs_wait() -> None:
    """``Queue.wait_for_messages`` steps out of the harness's request gate while it waits."""
    from moto.sqs.models import Queue

    from bench.live.clients import RequestGate

    original = Queue.wait_for_messages

    def wait_for_messages(self: Any, timeout: int) -> None:
        with RequestGate.step_aside():
            original(self, timeout)

    originals["Queue.wait_for_messages"] = original
    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


def _patch_sqs_send() -> None:
    """``SQSBackend.send_message`` without computing every queue attribute on a standard queue."""
    import string

    from moto.sqs import models

    original = models.SQSBackend.send_message

    def send_message(  # noqa: PLR0913  (moto's signature)
        self: Any,
        queue_name: str,
        message_body: str,
        message_attributes: dict[str, Any] | None = None,
        delay_seconds: int | None = None,
        deduplication_id: str | None = None,
        group_id: str | None = None,
        system_attributes: dict[str, Any] | None = None,
        validate_group_id: bool = True,
    ) -> Any:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:  # deduplication and groups: moto's own code
            return original(
                self,
                queue_name,
                message_body,
                message_attributes,
                delay_seconds,
                deduplication_id,
                group_id,
                system_attributes,
                validate_group_id,
            )
        # moto's send_message, line for line, less one: its check of the queue's
        # ContentBasedDeduplication, an attribute only FIFO queues have (always absent here)
        self._validate_message(
            queue,
            message_body=message_body,
            delay_seconds=int(delay_seconds or 0),
            deduplication_id=deduplication_id,
            group_id=group_id,
            validate_group_id=validate_group_id,
        )
        delay = int(delay_seconds) if delay_seconds is not None else queue.delay_seconds
        message = models.Message(str(models.random.uuid4()), message_body, system_attributes)
        if deduplication_id is not None:
            message.deduplication_id = deduplication_id
            message.sequence_number = "".join(models.random.choice(string.digits) for _ in range(20))
        if group_id is not None:
            message.group_id = group_id
        if message_attributes:
            message.message_attributes = message_attributes
        if delay > models.MAXIMUM_MESSAGE_DELAY:
            raise models.InvalidParameterValue(
                f"Value {delay} for parameter DelaySeconds is invalid. "
                "Reason: DelaySeconds must be >= 0 and <= 900."
            )
        message.mark_sent(delay_seconds=delay)
        queue.add_message(message)
        return message

    originals["SQSBackend.send_message"] = original
    models.SQSBackend.send_message = send_message  # type: ignore[method-assign]


class _WakeOnePerMessage(threading.Condition):
    """moto's per-queue condition, but its ``notify_all`` (called once per message added) wakes
    one waiting receive: one message is taken by one receive."""

    def notify_all(self) -> None:
        self.notify(1)


def _patch_sqs_wake_one() -> None:
    """Each ``Queue`` gets a condition that wakes one long poll per message added."""
    from moto.sqs.models import Queue

    original = Queue.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._messages_lock = _WakeOnePerMessage()  # nothing can wait on it yet

    originals["Queue.__init__"] = original
    Queue.__init__ = init  # type: ignore[method-assign]


def serve(argv: list[str]) -> None:
    """moto's server with the patches (what the ``moto-process`` backend runs in its child process)."""
    install()
    from moto.server import main

    main(argv)


if __name__ == "__main__":
    import sys

    serve(sys.argv[1:])
