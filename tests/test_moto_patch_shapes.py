"""The moto functions this project patches still have the shape the patches expect.

`bench/live/moto_speedups.py` and `event_handlers/runtime/moto_bridge.py` replace private moto
functions (speed only, and Lambda delivery to the local runtime). moto is pinned below its next
minor in pyproject.toml; when a release moves one of these, this test names the function and what
changed, instead of a live run failing somewhere far from the cause.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

SIGNATURES: dict[str, tuple[str, list[str]]] = {
    # patched name -> (import path of its owner, the parameters the patch is written against)
    "SQSBackend.is_message_valid_based_on_retention_period": (
        "moto.sqs.models",
        ["self", "queue_name", "message"],
    ),
    "Queue.wait_for_messages": ("moto.sqs.models", ["self", "timeout"]),
    "SQSBackend.send_message": (
        "moto.sqs.models",
        [
            "self",
            "queue_name",
            "message_body",
            "message_attributes",
            "delay_seconds",
            "deduplication_id",
            "group_id",
            "system_attributes",
            "validate_group_id",
        ],
    ),
    "_invoke_awslambda": ("moto.s3.notifications", ["account_id", "event_body", "fn_arn", "region_name"]),
    "Rule.send_to_targets": ("moto.events.models", ["self", "original_event", "transform_input"]),
}

# What the re-implemented send_message and the retention patch call on moto's side.
ATTRIBUTES: dict[str, list[str]] = {
    "moto.sqs.models": ["Message", "MAXIMUM_MESSAGE_DELAY", "InvalidParameterValue", "random"],
    "moto.sqs.models.SQSBackend": ["_validate_message", "get_queue"],
    "moto.sqs.models.Message": ["mark_sent"],
    "moto.sqs.models.Queue": ["add_message"],
    "moto.core.utils": ["unix_time"],
    "moto.settings": ["get_s3_custom_endpoints"],
    "moto.server": ["main"],
}


def _resolve(path: str) -> Any:
    import importlib

    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ImportError(path)


def _original(module: str, qualname: str) -> Callable[..., Any]:
    """moto's own function, even when a test session has installed the patches already."""
    from bench.live import moto_speedups
    from event_handlers.runtime import moto_bridge

    kept = moto_speedups.originals.get(qualname) or moto_bridge.originals.get(qualname)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    return _resolve(f"{module}.{qualname}")  # type: ignore[no-any-return]


@pytest.mark.parametrize("qualname", sorted(SIGNATURES))
def test_patched_moto_function_keeps_the_parameters_the_patch_expects(qualname: str) -> None:
    module, expected = SIGNATURES[qualname]
    function = _original(module, qualname)
    actual = list(inspect.signature(function).parameters)
    assert actual == expected, (
        f"moto's {module}.{qualname} now takes {actual}, the patch was written for {expected}: "
        "re-read moto's function and update the patch (bench/live/moto_speedups.py or "
        "event_handlers/runtime/moto_bridge.py) before raising the moto pin"
    )


@pytest.mark.parametrize("owner", sorted(ATTRIBUTES))
def test_moto_names_the_patches_call_still_exist(owner: str) -> None:
    target = _resolve(owner)
    missing = [name for name in ATTRIBUTES[owner] if not hasattr(target, name)]
    assert not missing, f"moto's {owner} lost {missing}, which the patches call: update them"


def test_s3_url_module_is_still_a_property() -> None:
    from moto.s3.models import S3Backend

    from bench.live import moto_speedups

    original = moto_speedups.originals.get("S3Backend._url_module", S3Backend.__dict__["_url_module"])
    assert isinstance(original, property), "moto's S3Backend._url_module is no longer a property"


def test_moto_still_wakes_a_queues_long_polls_through_its_messages_lock() -> None:
    """The wake-one patch replaces ``Queue._messages_lock``: moto must still make it in
    ``__init__`` and wake waiting receives through it (``notify_all``) when it adds a message."""
    from moto.sqs.models import Queue

    init = inspect.getsource(_original("moto.sqs.models", "Queue.__init__"))
    assert "self._messages_lock = Condition()" in init
    assert "self._messages_lock.notify_all()" in inspect.getsource(Queue.add_message)
    wait = _original("moto.sqs.models", "Queue.wait_for_messages")
    assert "self._messages_lock.wait_for(" in inspect.getsource(wait)


def test_moto_is_pinned_below_its_next_minor() -> None:
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    moto = next(Requirement(r) for r in project["dependencies"] if r.startswith("moto"))
    uppers = [s for s in moto.specifier if s.operator == "<"]
    assert uppers, "moto needs an upper bound: the patches read its private functions"
