"""What an idle poll costs on a bucket that already holds many objects, per cursor strategy.

The poller is primed on a bucket of ``objects`` keys (it reports them all once), then polls with
nothing new: the requests of that idle poll are counted exactly, by botocore, and priced. The
inbox strategy's steady state is an empty inbox (processed files were moved out), so its idle
poll lists an empty prefix.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.atomic import write_text_atomically
from bench.cost.model import Pricing, load_pricing
from bench.live.backends import fresh_backend
from pollers import S3Poller
from pollers.cursors import STRATEGIES


@dataclass(frozen=True)
class IdlePoll:
    cursor: str
    objects: int
    requests: int
    objects_scanned: int
    sweep_requests: int  # start-after only: the full listing it makes every ``sweep_every`` cycles
    sweep_every: int
    usd_per_poll: float
    usd_per_month_at_1_per_min: float


def put_all(put: Callable[[str], object], keys: list[str], threads: int = 8) -> None:
    """``put`` every key from ``threads`` daemon threads (twice as fast as one on in-process moto).

    Not a ThreadPoolExecutor: SIGTERM raises in the main thread wherever it is, and raised while
    the executor's submit held its internal lock it left that lock held, so the workers blocked
    and the pool's shutdown waited for them forever. Here the main thread only joins with a
    timeout (a stop there leaves no lock held) and daemon threads never hold the exit up."""
    errors: list[Exception] = []

    def work(chunk: list[str]) -> None:
        try:
            for key in chunk:
                put(key)
        except Exception as exc:  # handed to the main thread, which raises it
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(keys[i::threads],), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        while worker.is_alive():
            worker.join(0.2)
    if errors:
        raise errors[0]


def measure_idle_polls(
    objects: int = 10_000, *, sweep_every: int = 60, pricing: Pricing | None = None
) -> list[IdlePoll]:
    """Prime each cursor on ``objects`` keys, then count and price one idle poll."""
    p = pricing or load_pricing()
    list_price = p["s3_put_copy_post_list"]
    polls_per_month = p.month_s / 60.0
    out = []
    with fresh_backend("moto", bucket="pve-idle") as env:
        writer = env.client("s3", "writer")
        keys = [f"incoming/{i:08d}.csv" for i in range(objects)]
        put_all(lambda key: writer.put_object(Bucket=env.bucket, Key=key, Body=b"x"), keys)
        for cursor in STRATEGIES:
            prefix = "empty-inbox/" if cursor == "inbox" else "incoming/"
            poller = S3Poller(
                env.client("s3", "poller"),
                env.bucket,
                prefix=prefix,
                cursor=cursor,
                sweep_every=sweep_every,
            )
            poller.poll_once()  # prime: everything present is reported once
            before = poller.stats.list_requests, poller.stats.objects_scanned
            assert poller.poll_once() == []
            requests = poller.stats.list_requests - before[0]
            scanned = poller.stats.objects_scanned - before[1]
            sweep = -(-objects // 1000) if cursor == "start-after" else 0
            amortised = requests + (sweep / sweep_every if sweep else 0.0)
            out.append(
                IdlePoll(
                    cursor,
                    0 if cursor == "inbox" else objects,
                    requests,
                    scanned,
                    sweep,
                    sweep_every,
                    requests * list_price,
                    amortised * list_price * polls_per_month,
                )
            )
    return out


def write_idle_cost(
    folder: Path, rows: list[IdlePoll], *, objects: int, sweep_every: int, command: str
) -> Path:
    """``idle_cost.json``: the measured rows with the command that measured them."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "command": command,
        "objects": objects,
        "sweep_every": sweep_every,
        "rows": [asdict(row) for row in rows],
    }
    path = folder / "idle_cost.json"
    write_text_atomically(path, json.dumps(document, indent=2) + "\n")
    return path
