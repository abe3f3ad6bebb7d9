"""moto's server on 127.0.0.1 (a random free port) for the aws backend's tests; nothing reaches AWS.

Import the fixtures into a test module: ``from tests.aws_moto import aws_fixture, moto_endpoint_fixture``.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from typing import Any, Final

import pytest

from bench.aws.deploy import Clients
from bench.live.clients import ApiCallCounter, ClientFactory

REGION: Final = "eu-west-1"  # Final: a Literal where the stubs want a region name
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@pytest.fixture(scope="module", name="moto_endpoint")
def moto_endpoint_fixture() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(name="aws")
def aws_fixture(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Clients:
    """Counted clients on a freshly reset moto server, with fake credentials and no default region."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return Clients(ClientFactory(ApiCallCounter(), endpoint_url=moto_endpoint, region=REGION))


def everything(clients: Clients) -> dict[str, list[str]]:
    """Every resource of every service the backend uses, listed raw (not through bench.aws)."""
    lam = clients("lambda")
    return {
        "s3": [b["Name"] for b in clients("s3").list_buckets().get("Buckets", [])],
        "sqs": clients("sqs").list_queues().get("QueueUrls", []),
        "sns": [t["TopicArn"] for t in clients("sns").list_topics().get("Topics", [])],
        "iam": [r["RoleName"] for r in clients("iam").list_roles()["Roles"]],
        "lambda": [f["FunctionName"] for f in lam.list_functions()["Functions"]],
        "lambda-mappings": [m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]],
        "logs": [g["logGroupName"] for g in clients("logs").describe_log_groups()["logGroups"]],
        "events": [r["Name"] for r in clients("events").list_rules()["Rules"]],
        "dynamodb": clients("dynamodb").list_tables()["TableNames"],
    }


def count(resources: dict[str, list[Any]]) -> int:
    return sum(len(v) for v in resources.values())
