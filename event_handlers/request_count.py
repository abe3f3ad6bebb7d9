"""Count a boto3 client's requests exactly: one per HTTP attempt, as AWS bills them.

A botocore handler on ``request-created`` fires once per attempt (retries included). The harness
(``bench.live.clients``) counts its clients' requests with it, and so does the deployed function
(``bench/aws/lambda_entry.py``) inside Lambda, where nothing else sees them: both sides are
counted by the same hook. Standard library and botocore only (it ships inside the function).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OnRequest = Callable[[str], None]  # called with "service.Operation"


def count_requests(client: Any, on_request: OnRequest) -> Any:
    """Call ``on_request("service.Operation")`` for each request ``client`` sends; returns it."""
    service = client.meta.service_model.service_name

    def counted(operation_name: str = "", **_: Any) -> None:
        on_request(f"{service}.{operation_name}")

    client.meta.events.register("request-created", counted)
    return client
