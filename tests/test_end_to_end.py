"""A tiny scenario through every layer: each file processed exactly once, counts exact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.cli import main
from bench.live.runner import run_scenario
from bench.results.files import read_results
from bench.results.model import Run
from bench.results.records import COLUMNS
from bench.scenario.spec import parse_scenario

FILES = 12


def scenario(backend: str, strategies: list[dict[str, Any]], **extra: Any) -> Any:
    return parse_scenario(
        {
            "name": f"tiny-{backend}",
            "seed": 3,
            "backend": backend,
            "drain_timeout_s": 20,
            "workload": {
                "key_style": "odd",
                "arrivals": {"process": "poisson", "rate_per_s": 30.0, "count": FILES},
                "content": {"kind": "csv", "rows": 5},
            },
            "strategies": strategies,
            **extra,
        },
        "test",
    )


S3_STRATEGIES = [
    {"name": "poll", "kind": "poll", "interval_s": 0.3, "page_size": 5, "phase_s": 0.0},
    {"name": "start-after", "kind": "poll", "interval_s": 0.3, "cursor": "start-after"},
    {"name": "s3-lambda", "kind": "s3-lambda"},
    {"name": "sqs", "kind": "s3-sqs-lambda", "wait_time_s": 1, "batch_size": 5},
    {"name": "eventbridge", "kind": "s3-eventbridge-lambda"},
    {"name": "hybrid", "kind": "hybrid", "sweep_interval_s": 0.3, "grace_s": 1.0, "event_loss": 0.5},
    {"name": "scheduled", "kind": "scheduled-poll", "interval_s": 0.3},
]


@pytest.fixture(scope="module")
def moto_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    out = tmp_path_factory.mktemp("moto-run")
    return run_scenario(scenario("moto", S3_STRATEGIES), out), out


@pytest.fixture(scope="module")
def moto_run(moto_files: tuple[Run, Path]) -> Run:
    return moto_files[0]


@pytest.mark.parametrize("name", [s["name"] for s in S3_STRATEGIES])
def test_every_file_processed_exactly_once(moto_run: Run, name: str) -> None:
    s = moto_run.strategies[name]
    assert (s.files, s.processed, s.failed, s.missed, s.duplicates) == (FILES, FILES, 0, 0, 0)
    assert s.api_calls["s3.GetObject"] >= FILES
    assert s.latency_s.p50 > 0


def test_poll_counts_are_exact(moto_run: Run) -> None:
    s = moto_run.strategies["poll"]
    calls, counters = s.api_calls, s.counters
    assert calls["s3.ListObjectsV2"] == counters["list_requests"]  # two independent counts agree
    assert counters["list_requests"] >= s.poll_cycles > 0
    assert counters["list_requests"] > s.poll_cycles  # 12 keys in pages of 5: some cycles list 2-3 pages
    assert calls["s3.GetObject"] == calls["s3.PutObject"] == FILES  # one read and one summary per file
    assert set(calls) == {"s3.ListObjectsV2", "s3.GetObject", "s3.PutObject"}
    assert s.invocations == 0
    assert 0 < s.empty_polls < s.poll_cycles  # the first listing, before any file, is empty
    # a calm run: no page asked again, no link, no inbox file stuck (the counters are there to say so)
    assert {k: counters[k] for k in ("listing_resumes", "symlinks_refused", "stuck")} == dict.fromkeys(
        ("listing_resumes", "symlinks_refused", "stuck"), 0
    )


def test_start_after_lists_one_page_per_cycle(moto_run: Run) -> None:
    s = moto_run.strategies["start-after"]
    assert s.api_calls["s3.ListObjectsV2"] == s.poll_cycles


def test_event_routes_invoke_once_per_file(moto_run: Run) -> None:
    for name in ("s3-lambda", "eventbridge"):
        s = moto_run.strategies[name]
        assert s.invocations == FILES
        assert s.api_calls == {"s3.GetObject": FILES, "s3.PutObject": FILES}
        assert s.cold_starts >= 1


def test_sqs_route_counts(moto_run: Run) -> None:
    s = moto_run.strategies["sqs"]
    calls, counters = s.api_calls, s.counters
    assert counters["records"] == FILES + 1  # and the s3:TestEvent sent when the rule was saved
    assert s.invocations == counters["batches"]
    assert calls["sqs.DeleteMessageBatch"] == counters["batches"]  # one per batch of <= 10
    assert calls["sqs.ReceiveMessage"] >= counters["sqs_receives"]  # a long poll may be in flight at stop


def test_hybrid_sweep_catches_what_events_lost(moto_run: Run) -> None:
    """Every file once: the lost ones by the sweep. An event slower than the grace (a cold start
    on a busy machine) may also be taken by the sweep first; the ledger keeps it to one."""
    s = moto_run.strategies["hybrid"]
    lost = s.counters["notifications_lost"]
    assert lost > 0
    assert s.processed == FILES
    assert s.duplicates == 0
    assert s.paths.get("sweep", 0) + s.paths.get("events", 0) == FILES
    assert s.paths.get("sweep", 0) >= lost
    assert s.paths.get("events", 0) <= FILES - lost


def test_scheduled_poll_counts_one_invocation_per_cycle(moto_run: Run) -> None:
    s = moto_run.strategies["scheduled"]
    assert s.invocations == s.poll_cycles == s.api_calls["s3.ListObjectsV2"]
    assert any("not deployable" in note for note in s.notes)


def test_results_files_have_the_promised_shape(moto_files: tuple[Run, Path]) -> None:
    out = moto_files[1]
    records = pd.read_csv(out / "records.csv")
    assert list(records.columns) == COLUMNS
    assert len(records) == FILES * len(S3_STRATEGIES)
    processed = records[records["outcome"] == "processed"]
    assert (
        (processed["latency_s"] - (processed["finished_at"] - processed["written_at"])).abs() < 1e-5
    ).all()
    assert (processed["detected_at"] <= processed["started_at"] + 1e-6).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema_version"] == 2
    assert {"python", "platform", "cpu_count", "packages", "git_commit", "started_at"} <= set(
        summary["environment"]
    )
    assert {"boto3", "moto", "pandas"} <= set(summary["environment"]["packages"])
    for s in summary["strategies"].values():
        assert {
            "files",
            "processed",
            "failed",
            "latency_s",
            "invocations",
            "poll_cycles",
            "empty_polls",
            "api_calls",
        } <= set(s)
        assert set(s["latency_s"]) == {"p50", "p95", "p99", "p999", "mean", "max"}
    assert read_results(out).strategies == [s["name"] for s in S3_STRATEGIES]


def test_folder_backend_poll_and_inotify(tmp_path: Path) -> None:
    summary = run_scenario(
        scenario(
            "folder",
            [
                {"name": "poll", "kind": "poll", "interval_s": 0.3},
                {"name": "inbox", "kind": "poll", "interval_s": 0.3, "cursor": "inbox"},
                {"name": "inotify", "kind": "inotify"},
            ],
        ),
        tmp_path,
    )
    for name, s in summary.strategies.items():
        assert (s.processed, s.duplicates, s.missed) == (FILES, 0, 0), name
    assert summary.strategies["inotify"].invocations == FILES
    assert summary.strategies["poll"].counters["stat_calls"] == FILES


def test_moto_server_backend_over_http(tmp_path: Path) -> None:
    summary = run_scenario(
        scenario(
            "moto-server",
            [
                {"name": "poll", "kind": "poll", "interval_s": 0.3},
                {"name": "sqs", "kind": "s3-sqs-lambda", "wait_time_s": 1},
            ],
        ),
        tmp_path,
    )
    for s in summary.strategies.values():
        assert (s.processed, s.duplicates) == (FILES, 0)


def test_corrupt_files_fail_with_a_reason_and_nothing_is_lost(tmp_path: Path) -> None:
    base = scenario(
        "moto",
        [
            {"name": "poll", "kind": "poll", "interval_s": 0.3},
            {"name": "s3-lambda", "kind": "s3-lambda"},
        ],
    ).model_dump()
    base["workload"]["content"]["corrupt_every"] = 4
    summary = run_scenario(parse_scenario(base, "test"), tmp_path)
    for s in summary.strategies.values():
        assert (s.processed, s.failed, s.missed) == (FILES - 3, 3, 0)
        reasons = {f.error.split(":")[0] for f in s.failures}
        assert reasons <= {"EmptyInputError", "CorruptInputError"}
        assert all(f.error for f in s.failures)


def test_cli_run_writes_the_three_files_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(
        'name = "cli"\ndrain_timeout_s = 10\n'
        '[workload.arrivals]\nprocess = "constant"\nrate_per_s = 20\ncount = 6\n'
        '[[strategies]]\nname = "poll"\nkind = "poll"\ninterval_s = 0.2\n'
    )
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {"records.csv", "summary.json", "latency_cdf.png"}
    printed = capsys.readouterr().out
    assert "poll" in printed and "p50" in printed  # noqa: PT018
    assert main(["run", str(path), "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_bad_scenario_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n')
    assert main(["run", str(path), "--quiet"]) == 2
    assert "workload: Field required" in capsys.readouterr().err.replace("\n", " ")
