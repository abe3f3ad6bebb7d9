"""Where a strategy runs: moto in-process (default), moto's server over HTTP (in a thread of this
process, or in a process of its own: ``moto-process``, which lets moto use a second core), or a
local folder.

Each strategy gets a fresh backend, so no two strategies share a bucket, a queue or a counter.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.live import moto_speedups
from bench.live.clients import ApiCallCounter, ClientFactory, RequestGate

FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass
class BackendEnv:
    """What a strategy run gets: clients, a bucket or folder, and the request counter."""

    kind: str
    counter: ApiCallCounter
    clients: ClientFactory | None
    bucket: str = ""
    folder: Path | None = None
    endpoint_url: str | None = None
    account_id: str = ACCOUNT_ID
    region: str = "us-east-1"

    def client(self, service: str, role: str) -> Any:
        if self.clients is None:
            raise RuntimeError(f"backend {self.kind!r} has no AWS clients")
        return self.clients.client(service, role)


@contextmanager
def fresh_backend(
    kind: str, *, bucket: str = "pve-bench", workdir: Path | None = None
) -> Iterator[BackendEnv]:
    """A new, empty backend of ``kind``; torn down when the block ends."""
    counter = ApiCallCounter()
    scratch = Path(tempfile.mkdtemp(prefix="pve-", dir=workdir))
    try:
        if kind == "moto":
            yield from _moto(counter, bucket, scratch)
        elif kind == "moto-server":
            yield from _moto_server(counter, bucket, scratch)
        elif kind == "moto-process":
            yield from _moto_process(counter, bucket, scratch)
        elif kind == "folder":
            root = scratch / "data"
            root.mkdir()
            yield BackendEnv("folder", counter, None, folder=root)
        else:
            raise ValueError(f"unknown backend {kind!r}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _moto(counter: ApiCallCounter, bucket: str, scratch: Path) -> Iterator[BackendEnv]:
    from moto import mock_aws

    moto_speedups.install()
    with _fake_aws_environment(), mock_aws():
        clients = ClientFactory(counter, credentials=FAKE_CREDENTIALS, gate=RequestGate())
        clients.client("s3", "setup").create_bucket(Bucket=bucket)
        yield BackendEnv("moto", counter, clients, bucket=bucket, folder=scratch)


def _moto_server(counter: ApiCallCounter, bucket: str, scratch: Path) -> Iterator[BackendEnv]:
    from moto.server import ThreadedMotoServer

    moto_speedups.install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines on the terminal
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        _reset_moto(endpoint)
        yield from _over_http("moto-server", endpoint, counter, bucket, scratch)
    finally:
        server.stop()


def _over_http(
    kind: str, endpoint: str, counter: ApiCallCounter, bucket: str, scratch: Path
) -> Iterator[BackendEnv]:
    """A backend whose AWS is a moto server at ``endpoint``: counted clients, the bucket made."""
    with _fake_aws_environment():
        clients = ClientFactory(counter, endpoint_url=endpoint, credentials=FAKE_CREDENTIALS)
        clients.client("s3", "setup").create_bucket(Bucket=bucket)
        yield BackendEnv(kind, counter, clients, bucket=bucket, folder=scratch, endpoint_url=endpoint)


def _moto_process(counter: ApiCallCounter, bucket: str, scratch: Path) -> Iterator[BackendEnv]:
    """moto's server in a child process: its request handling runs on another core than the
    writer's and the runtime's (one Python process holds one GIL). moto cannot call back into
    this process, so routes that need ``moto_bridge`` (S3 or EventBridge -> Lambda) cannot run here."""
    port = _free_port()
    log = (scratch / "moto-server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.live.moto_speedups", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, process)
        yield from _over_http("moto-process", endpoint, counter, bucket, scratch)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto's server exited with code {process.returncode} before it was up")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2) as response:
                response.read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto's server at {endpoint} did not answer within {timeout_s:g} s")


def _reset_moto(endpoint: str) -> None:
    """The server shares this process's moto state; start each strategy from an empty one."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@contextmanager
def _fake_aws_environment() -> Iterator[None]:
    """moto needs credentials and a region; never let a run touch a real account by accident."""
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
