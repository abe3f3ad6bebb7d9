"""What S3 accepts as an object key. Pure.

S3 keys are 1 to 1,024 bytes of UTF-8 (S3 User Guide, "Naming Amazon S3 objects", read
2026-11-27). A NUL byte is refused here too: no folder store can hold it, and S3's XML listings
cannot carry it. A key that breaks these rules fails for good, so it is a permanent error.
"""

from __future__ import annotations

from event_handlers.errors import InvalidKeyError

MAX_KEY_BYTES = 1024


def check_key(key: str, what: str = "key") -> str:
    """Return ``key`` if S3 could hold it; else raise ``InvalidKeyError`` saying why."""
    if not key:
        raise InvalidKeyError(f"{what} is empty")
    if "\x00" in key:
        raise InvalidKeyError(f"{what} {key[:60]!r} contains a NUL byte")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidKeyError(f"{what} {key[:60]!r} is not valid UTF-8 (a lone surrogate)") from None
    if size > MAX_KEY_BYTES:
        raise InvalidKeyError(f"{what} is {size} bytes in UTF-8; S3 keys hold at most {MAX_KEY_BYTES}")
    return key
