"""Hand moto's Lambda deliveries to the local runtime.

moto delivers S3 notifications to Lambda (and EventBridge rules to Lambda targets) by trying to
run the function in Docker, which is not available here; it then swallows the error. This module
replaces those two delivery points so that events for a *registered* function ARN are submitted
to a local ``AsyncInvoker`` instead. Everything else (SQS, SNS, unregistered functions) goes
through moto unchanged. Works for in-process ``mock_aws`` and for ``ThreadedMotoServer``, which
runs in the same process.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Submit = Callable[[dict[str, Any]], None]

_registry: dict[str, Submit] = {}
_lock = threading.Lock()
_installed = False
originals: dict[str, Any] = {}  # moto's own functions, for tests/test_moto_patch_shapes.py


def register_function(function_arn: str, submit: Submit) -> None:
    """Deliver this function's events to ``submit`` (e.g. ``AsyncInvoker.submit``)."""
    install()
    with _lock:
        _registry[function_arn] = submit


def unregister_function(function_arn: str) -> None:
    with _lock:
        _registry.pop(function_arn, None)


def _target(arn: str) -> Submit | None:
    with _lock:
        return _registry.get(arn.removesuffix(":$LATEST"))


def install() -> None:
    """Patch moto's two Lambda delivery points (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        import moto.events.models as events_models
        import moto.s3.notifications as s3_notifications

        original_invoke = s3_notifications._invoke_awslambda

        def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
            submit = _target(fn_arn)
            if submit is None:
                original_invoke(account_id, event_body, fn_arn, region_name)
            else:
                submit(copy.deepcopy(event_body))

        original_send = events_models.Rule.send_to_targets

        def send_to_targets(rule: Any, original_event: Any, transform_input: bool = True) -> None:
            if not rule.event_pattern.matches_event(original_event):
                return
            local = [t for t in rule.targets if _target(t["Arn"]) is not None]
            for target in local:
                submit = _target(target["Arn"])
                if submit is not None:
                    submit(_eventbridge_event(original_event))
            others = [t for t in rule.targets if t not in local]
            if others:
                rest = copy.copy(rule)
                rest.targets = others
                original_send(rest, original_event, transform_input)

        originals["_invoke_awslambda"] = original_invoke
        originals["Rule.send_to_targets"] = original_send
        setattr(s3_notifications, "_invoke_awslambda", invoke_awslambda)  # noqa: B010 - a patch
        setattr(events_models.Rule, "send_to_targets", send_to_targets)  # noqa: B010 - a patch
        _installed = True


def _eventbridge_event(event: Any) -> dict[str, Any]:
    """moto keeps ``time`` as epoch seconds; AWS sends ISO-8601 (as moto does for SQS targets)."""
    out: dict[str, Any] = copy.deepcopy(dict(event))
    if isinstance(out.get("time"), int | float):
        out["time"] = datetime.fromtimestamp(float(out["time"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out
