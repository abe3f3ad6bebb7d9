"""One patch to moto that changes its speed, never its answers.

moto's ``ReceiveMessage`` checks each message it hands out against the queue's retention period
by computing *every* queue attribute (``get_queue_attributes`` -> ``Queue.attributes``), and two of
those (``ApproximateNumberOfMessages``, ``...NotVisible``) scan the whole queue. A receive of 10
therefore scans the queue about 30 times: at 500 queued messages one receive took about 2 s here
(profiled, moto 5.x), so once a live S3 -> SQS -> Lambda run falls a few hundred messages behind,
each receive is slower than the arrivals and the route collapses: the harness, not SQS (AWS does
not slow down with queue depth). The patch reads the one attribute it needs directly; the
retention rule itself is unchanged (see tests/test_capacity.py).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_installed = False
original: Any = None  # moto's own function, kept for the test that both agree


def install() -> None:
    """Patch ``SQSBackend.is_message_valid_based_on_retention_period`` (idempotent)."""
    global _installed, original
    with _lock:
        if _installed:
            return
        from moto.core.utils import unix_time
        from moto.sqs.models import SQSBackend

        def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
            retention_period = int(self.get_queue(queue_name).message_retention_period)
            return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

        name = "is_message_valid_based_on_retention_period"
        original = getattr(SQSBackend, name)
        setattr(SQSBackend, name, is_message_valid_based_on_retention_period)
        _installed = True


def serve(argv: list[str]) -> None:
    """moto's server with the patch (what the ``moto-process`` backend runs in its child process)."""
    install()
    from moto.server import main

    main(argv)


if __name__ == "__main__":
    import sys

    serve(sys.argv[1:])
