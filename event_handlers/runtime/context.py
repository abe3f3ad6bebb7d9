"""The context object Lambda passes to a handler, with the timeout as a real deadline."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    """The attributes handlers use from Lambda's context (Python runtime names)."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    deadline: float  # time.monotonic() at which the invocation times out
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _expired: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        if self._expired.is_set():
            return 0
        return max(0, int((self.deadline - self.clock()) * 1000))

    def expire(self) -> None:
        """The runtime declared this invocation timed out: no time is left from now on."""
        self._expired.set()
