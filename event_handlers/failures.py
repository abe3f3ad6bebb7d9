"""One table: which failures are permanent (dead-letter now) and which are transient (retry).

A retry cannot fix a corrupt file, a key S3 cannot hold or an object that is gone; it can fix
throttling, a 5xx or a timeout. Anything not in the table is treated as transient, so the
platform's retries and, after them, its dead-letter queue still see it: nothing is acknowledged
on a guess. AWS error codes: S3 API Reference "Error responses" (List of error codes) and the
SDKs' retry guide ("Retry behavior", transient and throttling errors), both read 2026-11-27.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from event_handlers.errors import PermanentError, TransientError


class FailureKind(enum.Enum):
    PERMANENT = "permanent"
    TRANSIENT = "transient"


@dataclass(frozen=True)
class Failure:
    """What a failure means for its record: the kind, the class of cause, a one-line reason."""

    kind: FailureKind
    cause: str
    reason: str

    @property
    def permanent(self) -> bool:
        return self.kind is FailureKind.PERMANENT


P, T = FailureKind.PERMANENT, FailureKind.TRANSIENT

# AWS error codes (botocore ClientError ``Error.Code``) -> (kind, cause)
ERROR_CODES: dict[str, tuple[FailureKind, str]] = {
    "NoSuchKey": (P, "object missing"),
    "NotFound": (P, "object missing"),  # HeadObject's 404
    "404": (P, "object missing"),
    "NoSuchBucket": (P, "bucket missing"),
    "KeyTooLongError": (P, "invalid key"),
    "InvalidObjectState": (P, "object archived"),  # Glacier: a restore is needed, not a retry
    "SlowDown": (T, "throttled"),
    "Throttling": (T, "throttled"),
    "ThrottlingException": (T, "throttled"),
    "RequestLimitExceeded": (T, "throttled"),
    "TooManyRequestsException": (T, "throttled"),
    "ProvisionedThroughputExceededException": (T, "throttled"),
    "RequestTimeout": (T, "timeout"),
    "RequestTimeoutException": (T, "timeout"),
    "InternalError": (T, "server error"),
    "ServiceUnavailable": (T, "server error"),
    "503": (T, "server error"),
    "500": (T, "server error"),
}

# exception class names (botocore and Python) -> (kind, cause); matched along the MRO
EXCEPTION_NAMES: dict[str, tuple[FailureKind, str]] = {
    "ReadTimeoutError": (T, "timeout"),
    "ConnectTimeoutError": (T, "timeout"),
    "EndpointConnectionError": (T, "connection"),
    "ConnectionClosedError": (T, "connection"),
    "TimeoutError": (T, "timeout"),
    "ConnectionError": (T, "connection"),
    "UnicodeDecodeError": (P, "corrupt input"),
}


def classify(exc: BaseException) -> Failure:
    """The failure ``exc`` stands for, from the tables above; unknown causes are transient."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, PermanentError):
        return Failure(P, type(exc).__name__, reason)
    if isinstance(exc, TransientError):
        return Failure(T, type(exc).__name__, reason)
    code, status = _aws_error(exc)
    if code in ERROR_CODES or status in ERROR_CODES:
        kind, cause = ERROR_CODES.get(code) or ERROR_CODES[status]
        return Failure(kind, cause, reason)
    if status.startswith("5"):
        return Failure(T, "server error", reason)
    for cls in type(exc).__mro__:
        if cls.__name__ in EXCEPTION_NAMES:
            kind, cause = EXCEPTION_NAMES[cls.__name__]
            return Failure(kind, cause, reason)
    return Failure(T, "unknown", reason)


def _aws_error(exc: BaseException) -> tuple[str, str]:
    """(error code, HTTP status) of a botocore ``ClientError``; empty strings otherwise."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", ""
    error = response.get("Error") or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode", "")
    return str(error.get("Code", "")), str(status)
