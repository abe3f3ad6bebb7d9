"""What ``pve`` exits with: one code per outcome (EPILOG in parser.py tells users)."""

from __future__ import annotations

from bench.errors import InputError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_MISSED = 3
EXIT_DOES_NOT_HOLD = 4  # `pve validate`: the simulator disagrees with theory or with a live run


class ArgumentError(InputError):
    """Bad input naming its flag (exit 2)."""

    def __init__(self, flag: str, problem: str) -> None:
        super().__init__(f"{flag}: {problem}")
