"""Claims that notice their holder died: kill -9 a worker, restart it, nothing stalls or repeats.

A claim names its holder (host, boot, pid, process start time); on the same host a claim whose
holder is gone is taken over at once, not after the 900 s TTL. Real subprocesses, real SIGKILL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from event_handlers import holder as holders
from event_handlers.dynamodb_ledger import DynamoDBLedger, create_ledger_table
from event_handlers.ledger import (
    DEFAULT_HOLD_S,
    BaseLedger,
    Claim,
    LedgerEntry,
    MemoryLedger,
    SQLiteLedger,
    Status,
)
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _holder(pid: int, started: str = "12345", host: str | None = None) -> str:
    here = holders.this_process()
    return str(holders.Holder(host or here.host, here.boot_id, here.pid_ns, pid, started))


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def make_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[FakeClock], BaseLedger]:
    if request.param == "memory":
        return lambda clock: MemoryLedger(clock=clock)
    if request.param == "sqlite":
        return lambda clock: SQLiteLedger(tmp_path / "l.sqlite", clock=clock)
    request.getfixturevalue("aws")
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_ledger_table(client, "ledger")
    return lambda clock: DynamoDBLedger(client, "ledger", clock=clock)


# -- one machine over store primitives ----------------------------------------------------------
def test_the_three_stores_implement_only_primitives() -> None:
    """The rules are written once: no store overrides claim, complete, fail or release."""
    for store in (MemoryLedger, SQLiteLedger, DynamoDBLedger):
        assert issubclass(store, BaseLedger)
        for rule in ("claim", "complete", "fail", "release", "reclaimable"):
            assert rule not in vars(store), f"{store.__name__} rewrites {rule}"


def test_statuses_are_the_enum_in_every_store(make_ledger: Callable[[FakeClock], BaseLedger]) -> None:
    ledger = make_ledger(FakeClock())
    ledger.claim("a")
    assert ledger.status("a") is Status.IN_PROGRESS
    ledger.complete("a", "out/a")
    ledger.claim("f")
    ledger.fail("f", "corrupt")
    assert (ledger.status("a"), ledger.status("f"), ledger.status("none")) == (
        Status.COMPLETED,
        Status.FAILED,
        None,
    )
    assert ledger.status("a") == "completed"  # a StrEnum: older callers comparing strings still work
    entry = ledger.lookup("a")
    assert entry is not None
    assert entry.status is Status.COMPLETED
    assert entry.detail == "out/a"


def test_a_claim_names_its_holder(make_ledger: Callable[[FakeClock], BaseLedger]) -> None:
    ledger = make_ledger(FakeClock())
    ledger.claim("k")
    entry = ledger.lookup("k")
    assert entry is not None
    assert holders.Holder.parse(entry.holder) == holders.this_process()
    assert holders.this_process().pid == os.getpid()
    assert holders.this_process().host == socket.gethostname()


def test_a_dead_holders_claim_is_taken_over_at_once(make_ledger: Callable[[FakeClock], BaseLedger]) -> None:
    """Within its 900 s, a claim whose holder no longer runs is free: no fifteen-minute stall."""
    clock = FakeClock()
    ledger = make_ledger(clock)
    ledger._put_if(
        "k", LedgerEntry(Status.IN_PROGRESS, clock.now + DEFAULT_HOLD_S, "", _holder(_dead_pid())), None
    )
    assert ledger.claim("k") is Claim.ACQUIRED
    assert holders.Holder.parse(ledger.lookup("k").holder) == holders.this_process()  # type: ignore[union-attr]


def test_a_holder_whose_pid_now_names_another_process_is_dead(
    make_ledger: Callable[[FakeClock], BaseLedger],
) -> None:
    """The pid was reused: the process of that id started at another time than the holder."""
    clock = FakeClock()
    ledger = make_ledger(clock)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        try:
            real = holders.process_start(other.pid)
            assert real is not None
            alive = LedgerEntry(Status.IN_PROGRESS, clock.now + 60, "", _holder(other.pid, real))
            ledger._put_if("alive", alive, None)
            reused = LedgerEntry(Status.IN_PROGRESS, clock.now + 60, "", _holder(other.pid, real + "1"))
            ledger._put_if("reused", reused, None)
            assert ledger.claim("alive") is Claim.IN_PROGRESS  # its holder runs: wait for it
            assert ledger.claim("reused") is Claim.ACQUIRED
        finally:
            other.kill()


def test_a_claim_held_on_another_host_lasts_until_it_expires(
    make_ledger: Callable[[FakeClock], BaseLedger],
) -> None:
    """Nothing on this host can tell whether a remote holder runs: only expiry frees its claim."""
    clock = FakeClock()
    ledger = make_ledger(clock)
    remote = LedgerEntry(Status.IN_PROGRESS, clock.now + 30, "", _holder(_dead_pid(), host="elsewhere"))
    ledger._put_if("k", remote, None)
    assert ledger.claim("k") is Claim.IN_PROGRESS
    clock.now += 31
    assert ledger.claim("k") is Claim.ACQUIRED


def test_a_claim_without_a_holder_lasts_until_it_expires(tmp_path: Path) -> None:
    """A 0.2 ledger's claims name no holder: they are honoured until their expiry, as before."""
    clock = FakeClock()
    ledger = MemoryLedger(clock=clock)
    ledger._put_if("k", LedgerEntry(Status.IN_PROGRESS, clock.now + 30), None)
    assert ledger.claim("k") is Claim.IN_PROGRESS
    clock.now += 30
    assert ledger.claim("k") is Claim.ACQUIRED


def test_holder_is_dead_only_when_certain() -> None:
    assert not holders.is_dead("")
    assert not holders.is_dead("garbage")
    assert not holders.is_dead(str(holders.this_process()))
    assert holders.is_dead(_holder(_dead_pid()))
    here = holders.this_process()
    rebooted = holders.Holder(here.host, "another-boot", here.pid_ns, here.pid, here.started)
    assert holders.is_dead(str(rebooted))
    other_namespace = holders.Holder(here.host, here.boot_id, "pid:[1]", _dead_pid(), "12345")
    assert not holders.is_dead(str(other_namespace))  # another container's pid: cannot be checked here


# -- kill -9 a worker holding a SQLite claim, then restart it --------------------------------------
WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from event_handlers.ledger import SQLiteLedger
    from pollers import FolderPoller, PollLoop

    root, work, cursor = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    cycles, hang_after = int(sys.argv[4]), int(sys.argv[5])
    effects, out = work / "effects.log", work / "out"
    out.mkdir(exist_ok=True)
    calls = []

    def process(entry):
        calls.append(entry.key)
        if len(calls) == hang_after + 1:  # mid-file: say so, then wait to be killed
            (work / "ready").touch()
            time.sleep(120)
        target = out / entry.key  # a deterministic output key, written atomically
        tmp = out / (entry.key + ".tmp")
        tmp.write_text(entry.key)
        tmp.replace(target)
        with effects.open("a") as log:  # the effect whose repetition we look for
            log.write(entry.key + "\\n")

    poller = FolderPoller(root, cursor=cursor, min_age_s=0.0, state_path=work / "state.json")
    ledger = SQLiteLedger(work / "ledger.sqlite")  # the default 900 s claim
    loop = PollLoop(poller, process, interval_s=0.05, ledger=ledger)
    loop.run(max_cycles=cycles)
    print(loop.stats.claimed_elsewhere, loop.stats.duplicates_skipped)
    """
)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    root.mkdir()
    for i in range(60):
        (root / f"{i:03d}").write_bytes(b"x")
    return root


@pytest.mark.parametrize("cursor", ["seen-set", "watermark", "inbox"])
def test_kill_minus_9_then_restart_processes_every_file_once_within_one_cycle(
    tmp_path: Path, files: Path, cursor: str
) -> None:
    """Killed mid-file while holding a 900 s claim; the restarted worker's first cycle takes the
    dead worker's claim over and processes the rest: every file once, none repeated, no stall."""
    work = tmp_path / "work"
    work.mkdir()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    args = [sys.executable, str(script), str(files), str(work), cursor]
    worker = subprocess.Popen([*args, "1000", "20"], env=ENV, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (work / "ready").exists():
        time.sleep(0.01)
    assert (work / "ready").exists(), "the worker never reached its 21st file"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    held = SQLiteLedger(work / "ledger.sqlite")
    in_progress = [k for k in _keys(work) if held.status(k) is Status.IN_PROGRESS]
    assert len(in_progress) == 1  # the file it was killed on: claimed for 900 s by a dead process
    held.close()
    done = subprocess.run(
        [*args, "1", "1000000"], env=ENV, cwd=ROOT, check=True, timeout=120, capture_output=True
    )
    claimed_elsewhere, skipped = map(int, done.stdout.split())
    lines = (work / "effects.log").read_text().split()
    assert sorted(lines) == [f"{i:03d}" for i in range(60)]  # every file once, in one cycle
    assert sorted(p.name for p in (work / "out").iterdir()) == [f"{i:03d}" for i in range(60)]
    assert claimed_elsewhere == 0
    assert skipped == (20 if cursor != "inbox" else 0)  # the inbox moved the 20 done files out


def _keys(work: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(work / "ledger.sqlite") as db:
        return [row[0] for row in db.execute("SELECT idempotency_key FROM ledger")]


def test_a_worker_that_is_alive_keeps_its_claim(tmp_path: Path) -> None:
    """The other side of the rule: a live holder on this host is waited for, not robbed."""
    path = tmp_path / "l.sqlite"
    code = textwrap.dedent(
        f"""
        import sys, time
        from event_handlers.ledger import SQLiteLedger
        SQLiteLedger({str(path)!r}).claim("k")
        print("claimed", flush=True)
        time.sleep(60)
        """
    )
    with subprocess.Popen([sys.executable, "-c", code], env=ENV, stdout=subprocess.PIPE, text=True) as other:
        try:
            assert other.stdout is not None
            assert other.stdout.readline().strip() == "claimed"
            assert SQLiteLedger(path).claim("k") is Claim.IN_PROGRESS
            other.kill()
            other.wait()
            assert SQLiteLedger(path).claim("k") is Claim.ACQUIRED  # killed: free at once
        finally:
            other.kill()


# -- killed after the effect, before the ledger heard of it ----------------------------------------
AFTER_EFFECT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from event_handlers.ledger import SQLiteLedger
    from event_handlers.storage import LocalFolderStore
    from event_handlers.tasks import CsvSummaryTask
    from pollers import FolderPoller, PollLoop

    data, work, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])

    class SlowToRecord(SQLiteLedger):
        done = 0

        def complete(self, key, detail=""):
            SlowToRecord.done += 1
            if SlowToRecord.done == kill_at:  # the output is written; the ledger does not know yet
                (work / "ready").touch()
                time.sleep(120)
            super().complete(key, detail)

    store, task = LocalFolderStore(data), CsvSummaryTask()
    runs = work / "runs.log"

    def process(entry):
        with runs.open("a") as log:
            log.write(entry.key + "\\n")
        task(store, "in/" + entry.key)  # writes summaries/in/<key>.summary.json, atomically

    poller = FolderPoller(data / "in", cursor="seen-set", min_age_s=0.0, state_path=work / "state.json")
    loop = PollLoop(poller, process, interval_s=0.05, ledger=SlowToRecord(work / "ledger.sqlite"))
    loop.run(max_cycles=1)
    """
)


def test_killed_between_effect_and_record_the_retry_rewrites_the_same_output(tmp_path: Path) -> None:
    """The one window a ledger cannot close (effect done, completion not recorded) is made harmless
    by the effect itself: a deterministic output key written atomically, so the retry after the
    restart writes the very same bytes to the very same key; no second output, no partial file."""
    data, work = tmp_path / "data", tmp_path / "work"
    (data / "in").mkdir(parents=True)
    work.mkdir()
    for i in range(30):
        (data / "in" / f"{i:02d}.csv").write_text(f"id,v\n{i},{i * 2}\n")
    script = tmp_path / "worker.py"
    script.write_text(AFTER_EFFECT)
    args = [sys.executable, str(script), str(data), str(work)]
    worker = subprocess.Popen([*args, "11"], env=ENV, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (work / "ready").exists():
        time.sleep(0.01)
    assert (work / "ready").exists()
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    outputs = data / "summaries" / "in"
    before = {p.name: p.read_bytes() for p in outputs.iterdir()}
    assert len(before) == 11  # the 11th was written, then the worker died before recording it
    subprocess.run([*args, "0"], env=ENV, cwd=ROOT, check=True, timeout=120)
    after = {p.name: p.read_bytes() for p in outputs.iterdir()}
    assert sorted(after) == [f"{i:02d}.csv.summary.json" for i in range(30)]  # one output per file
    assert {k: after[k] for k in before} == before  # the retried file's output: the same bytes
    runs = (work / "runs.log").read_text().split()
    assert len(runs) == 31
    assert runs.count("10.csv") == 2
