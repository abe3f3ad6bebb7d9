"""One work model for both sides: a file's processing is CPU seconds at one full vCPU plus wait
seconds (I/O). An EC2 poller pays the CPU in vCPU-seconds of its instance; Lambda gives a function
CPU in proportion to its memory, so the same CPU seconds take longer below 1,769 MB."""

from __future__ import annotations

import math
from dataclasses import dataclass

# AWS Lambda Developer Guide, "Configure Lambda function memory" (read 2026-11-27): "Lambda allocates
# CPU power in proportion to the amount of memory configured ... at 1,769 MB, a function has the
# equivalent of one vCPU (one vCPU-second of credits per second)".
LAMBDA_FULL_VCPU_MB = 1769.0


def _check(name: str, value: float, *, positive: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return value


def lambda_duration_s(*, cpu_s: float, wait_s: float, memory_mb: float) -> float:
    """Wall seconds of one file's work in a Lambda function of ``memory_mb``.

    ``cpu_s`` is CPU time at one full vCPU, ``wait_s`` time spent waiting (I/O); below 1,769 MB the
    function has a share ``memory_mb / 1769`` of a vCPU, so CPU takes ``1769 / memory_mb`` times as
    long. Above it the function has more than one vCPU, which single-threaded work cannot use.
    """
    cpu = _check("cpu_s", cpu_s)
    wait = _check("wait_s", wait_s)
    memory = _check("memory_mb", memory_mb, positive=True)
    return wait + cpu * max(1.0, LAMBDA_FULL_VCPU_MB / memory)


@dataclass(frozen=True)
class Work:
    """A file's processing, described once for every deployment."""

    cpu_s: float = 0.05
    wait_s: float = 0.05

    def __post_init__(self) -> None:
        _check("cpu_s", self.cpu_s)
        _check("wait_s", self.wait_s)

    @property
    def ec2_s(self) -> float:
        """Wall seconds on an EC2 core (a full vCPU): CPU plus wait."""
        return self.cpu_s + self.wait_s

    def lambda_s(self, memory_mb: float) -> float:
        return lambda_duration_s(cpu_s=self.cpu_s, wait_s=self.wait_s, memory_mb=memory_mb)

    @classmethod
    def from_duration(cls, duration_s: float, cpu_share: float) -> Work:
        """The old description (a wall time of which ``cpu_share`` is CPU, at a full vCPU)."""
        duration = _check("duration", duration_s)
        share = _check("cpu_share", cpu_share)
        if share > 1:
            raise ValueError(f"cpu_share must be between 0 and 1, got {cpu_share!r}")
        return cls(cpu_s=duration * share, wait_s=duration * (1 - share))
