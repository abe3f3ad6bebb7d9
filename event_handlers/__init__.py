"""Event handlers: react to S3 object events (and their local inotify twin) as they arrive.

>>> from event_handlers.events import parse_s3_event
>>> [e.key for e in parse_s3_event(event)]   # decoded keys, any envelope

The deployable handler is ``event_handlers.handler.lambda_handler``; ``event_handlers.runtime``
runs handlers locally with Lambda's semantics, since moto runs no Lambda code without Docker.
Nothing here knows about the benchmark or the pollers.
"""

from event_handlers.events import EventParseError, S3ObjectEvent, compare_sequencers, parse_s3_event

__all__ = ["EventParseError", "S3ObjectEvent", "compare_sequencers", "parse_s3_event"]
