"""Who holds a ledger claim, and whether that holder can still be running.

A claim that only expires makes a restarted worker wait out the TTL (900 s by default) for a
holder that was killed: files stall for fifteen minutes. So each claim names its holder: the
host, the host's boot id, the process-id namespace, the process id and the process's start
time. On the same host and in the same namespace the claimant can then tell a dead holder at
once: another boot, no such process, or a process of that id that started at another time (the
id was reused). A holder on another host (another Lambda execution environment, another machine)
or in another pid namespace (another container sharing the host's name) cannot be checked from
here: its claim lasts until it expires, as before. The start time comes from ``/proc/<pid>/stat``
(Linux; field 22, clock ticks since boot, proc(5)), else from psutil when it is installed, else
only the process id is checked.
"""

from __future__ import annotations

import functools
import importlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

UNKNOWN = "-"
_HAS_PROC = Path("/proc/self/stat").exists()


@dataclass(frozen=True, slots=True)
class Holder:
    """One process on one host during one boot."""

    host: str
    boot_id: str
    pid_ns: str  # the pid namespace (``/proc/self/ns/pid``): a pid means something only inside it
    pid: int
    started: str  # the process's start time as the OS reports it; ``UNKNOWN`` if it cannot say

    def __str__(self) -> str:
        return f"{self.host} {self.boot_id} {self.pid_ns} {self.pid} {self.started}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder a claim recorded, or None for a claim that names none (an older ledger)."""
        parts = text.split()
        if len(parts) != 5 or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], parts[2], int(parts[3]), parts[4])


def this_process() -> Holder:
    """The holder this process writes into its claims (computed once per process id)."""
    return _holder_of(os.getpid())


@functools.lru_cache(maxsize=4)
def _holder_of(pid: int) -> Holder:
    return Holder(socket.gethostname(), _boot_id(), _pid_ns(), pid, process_start(pid) or UNKNOWN)


def is_dead(recorded: str) -> bool:
    """True only when ``recorded`` (a claim's holder) certainly names no running process.

    Unknown or remote holders are taken as alive: their claims end by expiry only.
    """
    holder = Holder.parse(recorded)
    here = this_process()
    if holder is None or holder.host != here.host:
        return False
    if UNKNOWN not in (holder.boot_id, here.boot_id) and holder.boot_id != here.boot_id:
        return True  # the host restarted since: every process of that boot is gone
    if holder.pid_ns != here.pid_ns:  # (both unknown where there are no namespaces: macOS)
        return False  # its pid names another process here, or none: nothing to conclude
    if holder.pid == here.pid:
        return holder.started not in (UNKNOWN, here.started)
    if not _exists(holder.pid) or _proc_fields(holder.pid)[:1] == ["Z"]:
        return True  # gone, or killed and not yet reaped by its parent
    if holder.started == UNKNOWN:
        return False
    started = process_start(holder.pid)
    return started is not None and started != holder.started  # the id now names another process


def process_start(pid: int) -> str | None:
    """When process ``pid`` started, as an opaque string; None if it does not exist or cannot say."""
    if not _HAS_PROC:
        return _psutil_start(pid)
    fields = _proc_fields(pid)
    return fields[19] if len(fields) > 19 else None  # field 22 of the line, 20th after the name


def _proc_fields(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` after the command name (state first); empty if it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and ")"


def _psutil_start(pid: int) -> str | None:
    try:  # optional: only where there is no /proc (macOS, say)
        psutil = importlib.import_module("psutil")
    except ImportError:
        return None
    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except psutil.Error:
        return None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


@functools.cache
def _pid_ns() -> str:
    try:
        return os.readlink("/proc/self/ns/pid").replace(" ", "") or UNKNOWN
    except OSError:
        return UNKNOWN


@functools.cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or UNKNOWN
    except OSError:
        return UNKNOWN
