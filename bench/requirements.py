"""What every deployment option must deliver, stated once: the same object for ``pve decide``,
``pve cost``, ``pve cost --sweep``, ``pve simulate`` and notebooks, so that polling and events are
priced for the same guarantees (issue 21, "like for like").

A requirement is a guarantee, not a knob: *how* an option meets it (a ledger table, an archive
COPY, a second instance, a NAT gateway) is the cost model's business (``bench.cost.fair``). The
defaults are the like-for-like ones a careful engineer would pick; whatever a user did not set
(``pinned``) is swept over its alternatives in the ranges, so a range shows which choice moves the
answer.

This module sits beneath every stage (it imports nothing from them): the scenario TOML's
``[requirements]`` table, the cost model and the command line all read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bench.errors import InputError

NETWORKS = ("public", "nat", "endpoint")
ENCRYPTIONS = ("sse-s3", "sse-kms", "sse-kms-bucket-key")
AVAILABILITIES = ("single", "multi-az")
INPUTS = ("keep", "delete")

# The choices a range sweeps when the user did not pin them, and the values it tries.
CHOICES: dict[str, tuple[Any, ...]] = {
    "inputs": INPUTS,
    "availability": AVAILABILITIES,
    "network": NETWORKS,
    "encryption": ENCRYPTIONS,
    "exactly_once": (True, False),
}

LAMBDA_GIVES = (
    "Lambda runs in several Availability Zones of the Region by itself, reaches S3, DynamoDB and "
    "CloudWatch Logs without a VPC, and retries a failed asynchronous event twice"
)


class RequirementsError(InputError):
    """A requirement that is out of range, unknown or contradicts another; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Requirements:
    """One set of guarantees for every option.

    * ``exactly_once``: effects once per file, so every option writes a DynamoDB idempotency
      ledger (or none does);
    * ``inputs`` / ``keep_days``: inputs are kept ``keep_days`` after processing (an inbox poller
      copies them to an archive prefix; S3 storage is billed for every option) or deleted when
      processed (an event route deletes them too);
    * ``availability``: one poller instance, or two in two Availability Zones;
    * ``network``: the poller's instances have public IPv4 addresses, or sit in private subnets
      behind a NAT gateway, or behind a (free) S3 and DynamoDB gateway endpoint plus an interface
      endpoint for CloudWatch Logs;
    * ``encryption``: SSE-S3, SSE-KMS (a KMS request per object read or written), or SSE-KMS
      with an S3 Bucket Key;
    * ``log_bytes_per_file``: what the processing logs per file to CloudWatch Logs, on Lambda and
      on the poller alike;
    * ``latency_p95_s`` and ``budget_usd``: the targets an option must meet (None: none).
    """

    exactly_once: bool = True
    inputs: str = "keep"
    keep_days: float = 30.0
    availability: str = "multi-az"
    network: str = "public"
    encryption: str = "sse-s3"
    log_bytes_per_file: float = 200.0
    latency_p95_s: float | None = 60.0
    budget_usd: float | None = None
    pinned: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _one_of("availability", self.availability, AVAILABILITIES)
        _one_of("network", self.network, NETWORKS)
        _one_of("encryption", self.encryption, ENCRYPTIONS)
        _one_of("inputs", self.inputs, INPUTS)
        if not isinstance(self.exactly_once, bool):
            raise RequirementsError("exactly_once", f"must be true or false, got {self.exactly_once!r}")
        _finite("keep_days", self.keep_days)
        _finite("log_bytes_per_file", self.log_bytes_per_file)
        for name in ("latency_p95_s", "budget_usd"):
            value = getattr(self, name)
            if value is not None:
                _finite(name, value, positive=True)
        unknown = set(self.pinned) - {f.name for f in fields(self)}
        if unknown:
            raise RequirementsError("pinned", f"unknown requirement(s) {', '.join(sorted(unknown))}")
        if self.inputs == "delete" and self.keep_days > 0 and "keep_days" in self.pinned:
            raise RequirementsError(
                "inputs", f"inputs are deleted after processing, yet kept {self.keep_days:g} days (keep_days)"
            )
        if self.inputs == "delete" and self.keep_days:
            object.__setattr__(self, "keep_days", 0.0)

    @classmethod
    def build(cls, **given: Any) -> Requirements:
        """Requirements with ``given`` set by the user (pinned); None counts as not given (to drop a
        target, construct with ``latency_p95_s=None`` directly)."""
        chosen = {k: v for k, v in given.items() if v is not None}
        unknown = set(chosen) - {f.name for f in fields(cls)} - {"pinned"}
        if unknown:
            name = sorted(unknown)[0]
            raise RequirementsError(name, f"unknown requirement (known: {', '.join(REQUIREMENT_NAMES)})")
        return cls(**chosen, pinned=frozenset(chosen))

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], origin: str = "[requirements]") -> Requirements:
        """From a scenario's ``[requirements]`` table (the same names as the fields)."""
        try:
            return cls.build(**dict(table))
        except RequirementsError as exc:
            raise RequirementsError(f"{origin}.{exc.field}", str(exc).split(": ", 1)[1]) from None
        except TypeError as exc:
            raise RequirementsError(origin, str(exc)) from None

    @property
    def keeps_inputs(self) -> bool:
        return self.inputs == "keep"

    @property
    def azs(self) -> int:
        return 2 if self.availability == "multi-az" else 1

    def unpinned_choices(self) -> dict[str, tuple[Any, ...]]:
        """The choices the user left to the defaults, each with the alternatives a range tries."""
        return {name: values for name, values in CHOICES.items() if name not in self.pinned}

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "pinned"}
        out["pinned"] = sorted(self.pinned)
        out["lambda_gives"] = LAMBDA_GIVES
        return out

    def describe(self) -> str:
        """One line for a table's footer."""
        kept = (
            f"inputs kept {self.keep_days:g} days" if self.keeps_inputs else "inputs deleted when processed"
        )
        parts = [
            "exactly once (idempotency ledger on every option)" if self.exactly_once else "at least once",
            kept,
            "poller in 2 AZs" if self.availability == "multi-az" else "one poller instance",
            f"network {self.network}",
            self.encryption.upper().replace("-BUCKET-KEY", " + bucket key"),
            f"logs {self.log_bytes_per_file:g} B/file",
        ]
        if self.latency_p95_s is not None:
            parts.append(f"p95 <= {self.latency_p95_s:g} s")
        if self.budget_usd is not None:
            parts.append(f"<= ${self.budget_usd:g}/month")
        defaults = [f.name for f in fields(self) if f.name not in self.pinned and f.name != "pinned"]
        return "; ".join(parts) + (f" (defaults: {', '.join(defaults)})" if defaults else "")


REQUIREMENT_NAMES = tuple(f.name for f in fields(Requirements) if f.name != "pinned")


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise RequirementsError(name, f"unknown value {value!r} (one of: {', '.join(allowed)})")


def _finite(name: str, value: Any, *, positive: bool = False) -> None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise RequirementsError(name, f"not a number: {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(x) or x < 0 or (positive and x == 0):
        raise RequirementsError(
            name, f"must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}"
        )
