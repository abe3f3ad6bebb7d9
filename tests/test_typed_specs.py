"""A strategy's spec is read through its pydantic class, never ``getattr(spec, "x", default)``
(``tests/test_code_shape.py`` forbids that): the helpers of ``bench.scenario.spec`` answer what
a spec of any kind has, typed, with the model's own defaults. Issue 24."""

from __future__ import annotations

import pytest

from bench.scenario.spec import (
    AsyncLambdaStrategy,
    HybridStrategy,
    PollStrategy,
    SqsLambdaStrategy,
    async_part,
    cursor_of,
    event_loss_of,
    function_of,
    spec_as,
)


def test_a_pollers_spec_has_no_function_no_loss_and_its_own_cursor() -> None:
    poll = PollStrategy(name="p", kind="poll", interval_s=5)
    assert function_of(poll) is None
    assert event_loss_of(poll) == 0.0
    assert cursor_of(poll) == "seen-set"
    queue = SqsLambdaStrategy(name="q", kind="s3-sqs-lambda", event_loss=0.1)
    assert function_of(queue) == queue.function
    assert event_loss_of(queue) == 0.1
    assert cursor_of(queue) is None


def test_a_hybrids_async_settings_are_its_events_parts_with_the_models_defaults() -> None:
    hybrid = HybridStrategy(name="h", kind="hybrid", sweep_interval_s=60, max_retries=1)
    invoke = async_part(hybrid)
    assert invoke.max_retries == 1
    assert invoke.max_event_age_s == AsyncLambdaStrategy.model_fields["max_event_age_s"].default


def test_a_spec_of_another_class_than_its_row_expects_is_a_type_error_naming_it() -> None:
    poll = PollStrategy(name="p", kind="poll", interval_s=5)
    with pytest.raises(TypeError, match=r"strategy 'p' \(poll\) is a PollStrategy, not a SqsLambdaStrategy"):
        spec_as(poll, SqsLambdaStrategy)
    with pytest.raises(TypeError, match="not a AsyncLambdaStrategy"):
        async_part(poll)
