"""The hostile pass of issue 23, item 5, as tests: one test per case, grouped by class (the README's
reliability section gives the counts). Each case was a traceback, a hang, a wrong or silent answer
before; each now ends in a clear one-line error naming the flag, field or file (exit 2), or in a
clear answer. Nothing reaches a network address but a closed port on 127.0.0.1.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.cli import main
from tests.test_cli_bad_input import one_message, run_cli, scenario_text
from tests.test_compare_and_report import synthetic

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
AWS_PROFILE = ROOT / "event_handlers" / "runtime" / "profiles" / "aws.toml"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(argv: list[str], capsys: pytest.CaptureFixture[str], *names: str) -> str:
    """``pve argv`` ends in exit 2 with one message naming every one of ``names``, no traceback."""
    code, err = run_cli(argv, capsys)
    text = one_message(err)
    assert code == 2, err
    assert "Traceback" not in err
    for name in names:
        assert name in text, text
    return text


# -- class 1: extremes and absurd values -------------------------------------------------------
EXTREME_FLAGS: list[tuple[list[str], str]] = [
    (["decide", "--files-per-day", "1e15"], "--files-per-day"),
    (["decide", "--hourly", *(["1e14"] * 24)], "--hourly"),
    (["decide", "--files-per-day", "1000", "--file-size-mb", "6e7"], "--file-size-mb"),  # 60 TB
    (["decide", "--files-per-day", "1000", "--interval", "1e-9"], "--interval"),
    (["cost", "--interval", "1e-9"], "--interval"),
    (["cost", "--files-per-day", "1e300"], "--files-per-day"),
    (["simulate", "quickstart", "--processing-ms", "1e300"], "--processing-ms"),
    (["simulate", "quickstart", "--processing-ms", "100", "--processing-ms-per-mb", "1e300"], "per-mb"),
    (["simulate", "quickstart", "--files-per-day", "1e15"], "--files-per-day"),
    (["simulate", "quickstart", "--cpu-s", "1e300"], "--cpu-s"),
    (["decide", "--files-per-day", "1000", "--wait-s", "1e300"], "--wait-s"),
    (["cost", "--file-size-mb", "1e300"], "--file-size-mb"),
    (["cost", "--retention-days", "1e300"], "--retention-days"),
    (["simulate", "quickstart", "--days", "1e-300"], "--days"),
]


@pytest.mark.parametrize(("argv", "flag"), EXTREME_FLAGS, ids=[" ".join(a[:4]) for a, _ in EXTREME_FLAGS])
def test_an_absurd_flag_value_is_refused_naming_the_flag(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    refused(argv, capsys, flag)
    assert not (tmp_path / "results").exists()


EXTREME_FIELDS: list[tuple[str, str]] = [
    (scenario_text(strategy="interval_s = 1e-9"), "interval_s"),
    (scenario_text(kind="hybrid", strategy="sweep_interval_s = 1e-9"), "sweep_interval_s"),
    (scenario_text(arrivals="rate_per_s = 1e300\ncount = 5"), "rate_per_s"),
    (
        scenario_text(top='task = "noop"', content='kind = "bytes"\nsize_bytes = 60000000000000'),
        "size_bytes",
    ),  # 60 TB: above S3's largest object
]


@pytest.mark.parametrize(("text", "field"), EXTREME_FIELDS, ids=[f for _, f in EXTREME_FIELDS])
def test_an_absurd_scenario_value_is_refused_naming_the_field(
    text: str, field: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "absurd.toml", text)
    refused(["simulate", str(path), "--out", str(tmp_path / "out")], capsys, str(path), field)
    assert not (tmp_path / "out").exists()


def test_a_month_of_10ms_polls_is_refused_not_a_memory_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "fast.toml", scenario_text(strategy="interval_s = 0.01"))
    argv = ["simulate", str(path), "--days", "30", "--quiet", "--out", str(tmp_path / "out")]
    refused(argv, capsys, "interval_s 0.01", "poll cycles")


def test_a_nan_poll_interval_is_named_as_the_interval_not_the_jitter() -> None:
    from pollers.errors import PollerConfigError
    from pollers.loop import PollLoop
    from pollers.timing import FixedRateSchedule

    with pytest.raises(PollerConfigError, match="interval_s") as info:
        FixedRateSchedule(math.nan, 0.0)
    assert "jitter" not in str(info.value)
    with pytest.raises(PollerConfigError, match="interval_s"):  # at construction, not in the loop thread
        PollLoop(object(), lambda entry: None, interval_s=math.nan)  # type: ignore[arg-type]


# -- class 2: deep nesting and names too long --------------------------------------------------
DEEP_ARRAY = "x = " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_TABLE = "x = " + "{a=" * 3000 + "1" + "}" * 3000 + "\n"


@pytest.mark.parametrize("deep", [DEEP_ARRAY, DEEP_TABLE], ids=["array", "table"])
@pytest.mark.parametrize("command", ["run", "simulate"])
def test_a_deeply_nested_scenario_is_one_error_naming_the_file(
    deep: str, command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "deep.toml", 'name = "t"\n' + deep)
    refused([command, str(path), "--out", str(tmp_path / "out")], capsys, str(path), "nested")


@pytest.mark.parametrize(
    "argv",
    [
        ["decide", "--files-per-day", "1000", "--profile"],
        ["simulate", "quickstart", "--profile"],
        ["cost", "--pricing"],
        ["cost", "--assumptions"],
    ],
    ids=["decide-profile", "simulate-profile", "pricing", "assumptions"],
)
def test_a_deeply_nested_input_file_is_one_error_naming_it(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "deep.toml", 'name = "p"\n' + DEEP_ARRAY)
    refused([*argv, str(path)], capsys, str(path), "nested")


@pytest.mark.parametrize("reader", ["report", "compare"])
def test_a_deeply_nested_summary_is_one_error_naming_it(
    reader: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = synthetic(tmp_path / "run", {"poll-1s": np.full(5, 0.5)})
    (folder / "summary.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    argv = ["report", str(folder)] if reader == "report" else ["compare", str(folder), str(folder)]
    refused(argv, capsys, str(folder / "summary.json"), "nested")


def test_a_scenario_name_too_long_for_a_folder_is_refused_before_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "long.toml", scenario_text().replace('name = "t"', f'name = "{"x" * 300}"', 1))
    refused(["run", str(path), "--quiet"], capsys, str(path), "name")
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "quickstart", "--quiet", "--out"],
        ["cost", "--sweep", "--quiet", "--out"],
        ["decide", "--files-per-day", "1000", "--quiet", "--json"],
    ],
    ids=["simulate", "cost-sweep", "decide-json"],
)
def test_an_output_name_too_long_is_refused_before_work(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    refused([*argv, str(tmp_path / ("y" * 300))], capsys, argv[-1], "255")
    assert sorted(tmp_path.iterdir()) == []


# -- class 3: an unreachable endpoint or proxy -------------------------------------------------
@pytest.fixture(name="closed_port")
def closed_port_fixture() -> str:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(name="fake_credentials")
def fake_credentials_fixture(monkeypatch: Any) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # fail at once, not after botocore's retries
    for key in ("AWS_PROFILE", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(key, raising=False)


UNREACHABLE: list[list[str]] = [
    ["aws", "list", "--region", "eu-west-1"],
    ["aws", "cleanup", "--region", "eu-west-1", "--run-id", "pve-x"],
    ["run", "quickstart", "--backend", "aws", "--region", "eu-west-1", "--yes", "--quiet"],
]


@pytest.mark.usefixtures("fake_credentials")
@pytest.mark.parametrize("argv", UNREACHABLE, ids=[" ".join(a[:2]) for a in UNREACHABLE])
def test_an_unreachable_endpoint_is_one_line_naming_it(
    argv: list[str], closed_port: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    text = refused([*argv, "--endpoint-url", closed_port], capsys, closed_port, "cannot reach the endpoint")
    assert "\n" not in text
    assert not (tmp_path / "results").exists()


@pytest.mark.usefixtures("fake_credentials")
def test_an_unreachable_proxy_is_one_line_naming_it(
    closed_port: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", closed_port)
    monkeypatch.setenv("NO_PROXY", "")
    refused(["aws", "list", "--region", "eu-west-1"], capsys, closed_port, "cannot reach the proxy")


def test_a_connect_timeout_anywhere_in_the_chain_is_named() -> None:
    from botocore.exceptions import ConnectTimeoutError

    from bench.cli import _unreachable

    try:
        try:
            raise ConnectTimeoutError(endpoint_url="https://s3.eu-west-1.amazonaws.com/")
        except ConnectTimeoutError as inner:
            raise RuntimeError("teardown failed") from inner
    except RuntimeError as outer:
        text = _unreachable(outer)
    assert text is not None
    assert "https://s3.eu-west-1.amazonaws.com/" in text
    assert _unreachable(RuntimeError("a bug")) is None


# -- class 4: disk full --------------------------------------------------------------------------
def _enospc(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_leaves_the_previous_file_whole_and_no_temp_file(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from bench.errors import OutputError
    from bench.results.files import read_results, write_results

    folder = synthetic(tmp_path / "run", {"poll-1s": np.full(5, 0.5)})
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    results = read_results(folder)
    monkeypatch.setattr(Path, "write_text", _enospc)
    with pytest.raises(OutputError, match=r"summary\.json") as info:
        write_results(folder, results.records, results.summary)
    assert "No space left" in str(info.value)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing partial, no temp


def test_a_full_disk_mid_csv_removes_the_partial_file(tmp_path: Path, monkeypatch: Any) -> None:
    import pandas as pd

    from bench.errors import OutputError
    from bench.results.files import read_results, write_results

    folder = synthetic(tmp_path / "run", {"poll-1s": np.full(5, 0.5)})
    results = read_results(folder)
    target = tmp_path / "new"

    def half_then_full(self: pd.DataFrame, path: Any, **kwargs: Any) -> None:
        Path(path).write_text("strategy,repetition\npoll-1s,", encoding="utf-8")  # a partial row
        _enospc()

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_full)
    with pytest.raises(OutputError, match=r"records\.csv"):
        write_results(target, results.records, results.summary)
    assert list(target.iterdir()) == []


def test_a_chart_on_a_full_disk_keeps_the_complete_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    """A folder-backend run writes its records; the first chart meets ENOSPC: exit 2, the message
    names the chart and says the records are complete; they read back whole."""
    import matplotlib.figure

    from bench.results.files import read_results

    path = write(tmp_path, "tiny.toml", scenario_text(top='backend = "folder"\ndrain_timeout_s = 5'))
    out = tmp_path / "out"
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _enospc)
    text = refused(["run", str(path), "--out", str(out), "--quiet"], capsys, "latency_cdf.png", "complete")
    assert "pve report" in text
    assert read_results(out).summary.strategies["p"].processed == 5
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left


# -- class 5: signals ------------------------------------------------------------------------------
def _pve(argv: list[str], tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    return subprocess.Popen(
        [sys.executable, "-m", "bench", *argv],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="watches the process's threads in /proc")
def test_sigterm_while_idle_cost_fills_its_bucket_exits_143(tmp_path: Path) -> None:
    """SIGTERM raised inside ThreadPoolExecutor.submit left its lock held: the command hung (the
    signal lands in submit while the executor is being handed the PUTs)."""
    process = _pve(["idle-cost", "--objects", "200000"], tmp_path)
    threads = Path(f"/proc/{process.pid}/task")
    try:
        deadline = time.monotonic() + 120
        while len(list(threads.iterdir())) < 9 and time.monotonic() < deadline:  # 8 PUT threads running
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        time.sleep(0.2)  # inside the PUTs (before, the executor was still being handed 200,000 of them)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 143, err.decode()
    assert b"SIGTERM" in err


# -- class 6: results read by compare and report --------------------------------------------------
def _records_edit(folder: Path, edit: Callable[[list[str]], list[str]]) -> None:
    lines = (folder / "records.csv").read_text(encoding="utf-8").splitlines()
    (folder / "records.csv").write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")


def test_nan_latencies_of_processed_files_are_refused_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": np.full(20, 0.5)})
    b = synthetic(tmp_path / "b", {"poll-1s": np.concatenate([np.full(19, 0.5), [np.nan]])})
    refused(["compare", str(a), str(b)], capsys, str(b / "records.csv"), "latency_s")


def test_nan_in_a_summary_is_refused_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": np.full(20, 0.5)})
    b = synthetic(tmp_path / "b", {"poll-1s": np.full(20, 0.5)})
    data = json.loads((b / "summary.json").read_text())
    data["strategies"]["poll-1s"]["latency_s"]["p95"] = math.nan
    (b / "summary.json").write_text(json.dumps(data), encoding="utf-8")  # json writes NaN
    refused(["compare", str(a), str(b)], capsys, str(b / "summary.json"), "NaN")
    refused(["report", str(b)], capsys, str(b / "summary.json"), "NaN")


@pytest.mark.parametrize("reader", ["compare", "report"])
def test_negative_latencies_are_named(
    reader: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": np.full(20, 0.5)})
    b = synthetic(tmp_path / "b", {"poll-1s": np.concatenate([np.full(19, 0.5), [-3.0]])})
    argv = ["compare", str(a), str(b)] if reader == "compare" else ["report", str(b), "--quiet"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    said = one_message(out + err)  # compare: a note under its table; report: a warning
    assert "negative latency" in said
    assert "-3.000 s" in said


def test_an_incomplete_run_compared_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": np.full(20, 0.5)})
    b = synthetic(tmp_path / "b", {"poll-1s": np.full(20, 0.5)})
    data = json.loads((b / "summary.json").read_text())
    data.update(complete=False, incomplete_reason="interrupted (SIGTERM) during poll-5s")
    (b / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["compare", str(a), str(b)]) == 0
    said = one_message(capsys.readouterr().out)
    assert "incomplete run (interrupted (SIGTERM) during poll-5s)" in said


def test_a_schema_1_summary_compares_with_a_schema_2_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The same quickstart at schema 1 and 2: the schemas' changed defaults (poll workers 1 -> sized,
    SQS pollers 1 -> AWS's scaling, the new bucket section) are notes, not 'different scenarios'."""
    reference = ROOT / "results" / "reference" / "quickstart"
    old = tmp_path / "v1"
    old.mkdir()
    shutil.copy(reference / "records.csv", old / "records.csv")
    shutil.copy(FIXTURES / "summary_v1_quickstart.json", old / "summary.json")
    assert main(["compare", str(old), str(reference)]) == 0
    said = one_message(capsys.readouterr().out)
    assert "not a scenario difference" in said


# -- class 7: scenario and profile files --------------------------------------------------------
def _profile(tmp_path: Path, old: str, new: str) -> Path:
    text = AWS_PROFILE.read_text(encoding="utf-8")
    assert old in text
    return write(tmp_path, "typo.toml", text.replace(old, new, 1))


PROFILE_TYPOS = [
    ("[cold_start]", "[cold_strat]", "cold_strat"),
    ("\nper_page_s = ", "\nper_pgae_s = ", "per_pgae_s"),
    ("[routes.sqs_to_lambda]\n", "[routes.sqs_to_lambda]\nshfit_s = 0.5\n", "shfit_s"),
    ("[listing]", "[listing]\nper_file_s = 1.0", "per_file_s"),
]


@pytest.mark.parametrize(("old", "new", "name"), PROFILE_TYPOS, ids=[n for _, _, n in PROFILE_TYPOS])
def test_a_typo_in_a_latency_profile_is_refused_naming_it(
    old: str, new: str, name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _profile(tmp_path, old, new)
    argv = ["decide", "--files-per-day", "1000", "--profile", str(path), "--out", str(tmp_path / "o")]
    refused(argv, capsys, str(path), name)


def test_files_per_day_with_hourly_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["decide", "--files-per-day", "1000", "--hourly", *(["10"] * 24), "--out", str(tmp_path / "o")]
    refused(argv, capsys, "--files-per-day", "--hourly")


def test_a_batch_above_10_without_a_window_is_refused_at_validation(tmp_path: Path) -> None:
    from bench.scenario.spec import ScenarioError, load_scenario

    path = write(tmp_path, "batch.toml", scenario_text(kind="s3-sqs-lambda", strategy="batch_size = 20"))
    with pytest.raises(ScenarioError, match="batch_size 20 needs batching_window_s"):
        load_scenario(str(path))
    ok = write(
        tmp_path,
        "ok.toml",
        scenario_text(kind="s3-sqs-lambda", strategy="batch_size = 20\nbatching_window_s = 1"),
    )
    assert load_scenario(str(ok)).strategies[0].batch_size == 20  # type: ignore[union-attr]


def test_reserved_concurrency_0_on_sqs_says_why_nothing_was_processed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = scenario_text(
        top="drain_timeout_s = 2",
        arrivals="rate_per_s = 20\ncount = 3",
        kind="s3-sqs-lambda",
        strategy="function = { reserved_concurrency = 0 }",
    )
    path = write(tmp_path, "zero.toml", text)
    code, err = run_cli(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 3, err
    assert "reserved_concurrency is 0" in one_message(err)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["strategies"]["p"]["stable"] is False
    assert any("reserved_concurrency is 0" in n for n in summary["strategies"]["p"]["notes"])


def test_capacity_checks_its_rates_before_measuring_a_floor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    from bench.live import capacity

    def no_floor(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a floor was measured before the rates were checked")

    monkeypatch.setattr(capacity, "measure_floor", no_floor)
    for flags in (["--rates", "1e6"], ["--rates", "5", "--seconds", "inf"]):
        refused(
            ["capacity", "quickstart", "--out", str(tmp_path / "o"), "--quiet", *flags], capsys, flags[-2]
        )


def test_validate_quiet_prints_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    reference = ROOT / "results" / "reference" / "quickstart"
    code = main(["validate", "--live", str(reference), "--out", str(tmp_path / "v"), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (out, err) == ("", "")
    assert (tmp_path / "v" / "validation.json").is_file()


def test_an_error_message_keeps_its_brackets(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """rich read '[x]' in a message as markup and dropped it: the path named was not the path."""
    folder = tmp_path / "[x]"
    folder.mkdir()
    path = write(folder, "p.toml", "[unterminated")
    refused(["decide", "--files-per-day", "1000", "--profile", str(path)], capsys, str(path))
