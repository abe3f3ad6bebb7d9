"""The bad-input corpus of issue 12, as tests: every case ends in exit 2 and one message naming the
flag or the file, before any work; a few good inputs next to them must still work; SIGTERM unwinds
like Ctrl-C. Property tests: random scenario dicts end in a Scenario or a ScenarioError, never in
another exception.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.cli import main
from bench.scenario.spec import Scenario, ScenarioError, parse_scenario
from tests.test_compare_and_report import synthetic

SCENARIO = """
name = "t"
{top}
[workload]
{workload}
[workload.arrivals]
process = "{process}"
{arrivals}
[workload.content]
{content}
[[strategies]]
name = "p"
kind = "{kind}"
{strategy}
"""


def scenario_text(
    *,
    top: str = "",
    workload: str = "",
    process: str = "constant",
    arrivals: str = "rate_per_s = 10\ncount = 5",
    content: str = "rows = 5",
    kind: str = "poll",
    strategy: str = "interval_s = 1",
) -> str:
    return SCENARIO.format(
        top=top,
        workload=workload,
        process=process,
        arrivals=arrivals,
        content=content,
        kind=kind,
        strategy=strategy,
    )


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``pve argv`` in process: (exit code, stderr). argparse's own refusals exit 2 as well."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def one_message(err: str) -> str:
    """The error as one line (rich may wrap a long line at the console width)."""
    return " ".join(err.split())


# -- flags: (argv, what the message must name) -------------------------------------------------
FLAG_CASES: list[tuple[list[str], str]] = [
    (["cost", "--files-per-day", "nan"], "--files-per-day"),
    (["cost", "--files-per-day", "inf"], "--files-per-day"),
    (["cost", "--files-per-day", "-1000"], "--files-per-day"),
    (["cost", "--files-per-day", "0"], "--files-per-day"),
    (["cost", "--files-per-day", "lots"], "--files-per-day"),
    (["cost", "--interval", "0"], "--interval"),
    (["cost", "--interval", "-60"], "--interval"),
    (["cost", "--interval", "inf"], "--interval"),
    (["cost", "--cpu-share", "5"], "--cpu-share"),
    (["cost", "--cpu-share", "-0.5"], "--cpu-share"),
    (["cost", "--duration-ms", "-1"], "--duration-ms"),
    (["cost", "--duration-ms", "100"], "--duration-ms"),  # removed in 0.3.0: named, not ignored
    (["cost", "--cpu-share", "0.5"], "--cpu-share"),
    (["cost", "--retention-days", "-30"], "--retention-days"),
    (["cost", "--memory", "64"], "--memory"),
    (["cost", "--memory", "200.5"], "--memory"),
    (["cost", "--cpu-s", "nan"], "--cpu-s"),
    (["cost", "--wait-s", "-1"], "--wait-s"),
    (["cost", "--ebs-root-gb", "-8"], "--ebs-root-gb"),
    (["cost", "--samples", "0"], "--samples"),
    (["cost", "--seed", "-1"], "--seed"),
    (["decide"], "--files-per-day"),
    (["decide", "--files-per-day", "-5"], "--files-per-day"),
    (["decide", "--hourly", "1", "2", "3"], "--hourly"),
    (["decide", "--files-per-day", "1000", "--latency-p95", "0"], "--latency-p95"),
    (["decide", "--files-per-day", "1000", "--budget-usd", "-1"], "--budget-usd"),
    (["decide", "--files-per-day", "1000", "--seed", "-1"], "--seed"),
    (["compare", "a", "b", "--alpha", "-1"], "--alpha"),
    (["compare", "a", "b", "--alpha", "2"], "--alpha"),
    (["compare", "a", "b", "--alpha", "0"], "--alpha"),
    (["compare", "a", "b", "--alpha", "nan"], "--alpha"),
    (["compare", "a", "b", "--alpha", "0.05", "--min-effect", "-1"], "--min-effect"),
    (["compare", "a", "b", "--min-effect-s", "-0.1"], "--min-effect-s"),
    (["idle-cost", "--objects", "-5"], "--objects"),
    (["idle-cost", "--objects", "0"], "--objects"),
    (["idle-cost", "--objects", "1.5"], "--objects"),
    (["idle-cost", "--objects", "100000000"], "--objects 100,000,000"),  # memory: refused, with the size
    (["idle-cost", "--objects", "1e8"], "--objects 100,000,000"),
    (["idle-cost", "--sweep-every", "0"], "--sweep-every"),
    (["simulate", "quickstart", "--processing-ms", "-50"], "--processing-ms"),
    (["simulate", "quickstart", "--processing-ms-per-mb", "-1"], "--processing-ms-per-mb"),
    (["simulate", "quickstart", "--days", "0"], "--days"),
    (["simulate", "quickstart", "--days", "-1"], "--days"),
    (["simulate", "quickstart", "--days", "100000"], "--days"),
    (["simulate", "quickstart", "--files-per-day", "nan"], "--files-per-day"),
    (["simulate", "quickstart", "--max-records", "0"], "--max-records"),
    (["simulate", "quickstart", "--jobs", "0"], "--jobs"),
    (["simulate", "quickstart", "--seed", "-1"], "--seed"),
    (["simulate", "quickstart", "--days", "100000", "--files-per-day", "1e7"], "--days/--files-per-day"),
    (["simulate", "quickstart", "--retention", "lifecycle:-3"], "--retention"),
    (["run", "quickstart", "--repetitions", "0"], "--repetitions"),
    (["run", "quickstart", "--repetitions", "1000"], "repetitions"),
    (["run", "quickstart", "--seed", "-1"], "--seed"),
    (["run", "no-such-scenario"], "no-such-scenario"),
    (["validate", "--replicas", "0"], "--replicas"),
]


@pytest.mark.parametrize(("argv", "names"), FLAG_CASES, ids=[" ".join(a) for a, _ in FLAG_CASES])
def test_a_bad_flag_is_exit_2_naming_it(
    argv: list[str], names: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # a default results folder would land here (none may be written)
    code, err = run_cli(argv, capsys)
    assert code == 2, err
    assert names in one_message(err)
    assert "Traceback" not in err
    assert not (tmp_path / "results").exists()  # refused before any work


def test_a_refused_size_says_the_computed_figure(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["idle-cost", "--objects", "100000000"], capsys)
    assert code == 2
    assert "GiB of memory" in err
    code, err = run_cli(["simulate", "quickstart", "--days", "100000", "--files-per-day", "1e7"], capsys)
    assert code == 2
    assert "1,000,000,000,000 files" in one_message(err)
    assert " h:" in one_message(err)  # the duration it would take


# -- --out: a file, unwritable, another run's results ------------------------------------------
def _a_file(tmp: Path) -> Path:
    path = tmp / "taken.txt"
    path.write_text("not a folder\n")
    return path


def _results(tmp: Path) -> Path:
    return synthetic(tmp / "earlier", {"poll-1s": np.full(5, 0.5)})


OUT_CASES: list[tuple[list[str], Callable[[Path], Path], str]] = [
    (["run", "quickstart", "--out"], _a_file, "is a file"),
    (["run", "quickstart", "--out"], lambda t: _a_file(t) / "sub", "is a file"),
    (["run", "quickstart", "--out"], _results, "another run's results"),
    (["simulate", "quickstart", "--out"], _a_file, "is a file"),
    (["simulate", "quickstart", "--out"], _results, "another run's results"),
    (["cost", "--sweep", "--out"], _a_file, "is a file"),
    (["cost", "--sweep", "--out"], _results, "another run's results"),
    (["decide", "--files-per-day", "1000", "--out"], _a_file, "is a file"),
    (["decide", "--files-per-day", "1000", "--json"], lambda t: t, "is a folder"),
    (["idle-cost", "--objects", "10", "--out"], _a_file, "is a file"),
    (["validate", "--live", "x", "--out"], _results, "another run's results"),
    (["calibrate", "nowhere", "--out"], lambda t: t, "is a folder"),
    (["calibrate", "nowhere", "--out"], lambda t: _a_file(t) / "p.toml", "is a file"),
    (["decide", "--files-per-day", "1000", "--json"], lambda t: _a_file(t) / "d.json", "is a file"),
]


@pytest.mark.parametrize(
    ("argv", "make", "message"), OUT_CASES, ids=[f"{' '.join(a)} {m}" for a, _, m in OUT_CASES]
)
def test_a_bad_output_path_is_refused_before_any_work(
    argv: list[str],
    make: Callable[[Path], Path],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    target = make(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, err = run_cli([*argv, str(target)], capsys)
    assert code == 2, err
    flag = argv[-1]
    assert flag in one_message(err)
    assert message in one_message(err)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written, nothing deleted


def test_an_unwritable_out_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A read-only folder (root writes anywhere on disk, but not in /proc)."""
    if os.geteuid() == 0:
        locked = Path("/proc")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    code, err = run_cli(["cost", "--sweep", "--out", str(locked / "pve-new")], capsys)
    assert code == 2
    assert f"--out {locked / 'pve-new'}" in one_message(err)
    assert "writ" in one_message(err)  # "not writable" or "cannot write in"


def test_force_clears_the_stale_results_and_nothing_else(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--force: the earlier run's records, summary and charts go first; other files stay."""
    out = _results(tmp_path)
    (out / "old-chart.png").write_bytes(b"stale")
    (out / "notes.md").write_text("mine\n")
    code, err = run_cli(
        ["simulate", "quickstart", "--out", str(out), "--force", "--quiet", "--format", "svg"], capsys
    )
    assert code == 0, err
    assert not (out / "old-chart.png").exists()
    assert (out / "notes.md").read_text() == "mine\n"
    assert not list(out.glob("*.png"))  # every chart is the new run's (svg)
    assert json.loads((out / "summary.json").read_text())["kind"] == "simulated"


# -- scenario files: (file content, what the message must name) --------------------------------
SCENARIO_CASES: list[tuple[str, str]] = [
    (scenario_text(kind="s3-lambda", strategy="retry_delays_s = [-5, 60]"), "retry_delays_s"),
    (
        scenario_text(kind="hybrid", strategy="sweep_interval_s = 5\nretry_delays_s = [1, nan]"),
        "retry_delays_s",
    ),
    (scenario_text(top="seed = -1"), "seed"),
    (scenario_text(workload="time_scale = 1e-6"), "time_scale"),
    (scenario_text(workload="time_scale = inf"), "time_scale"),
    (scenario_text(process="bursts", arrivals="count = 20\nburst_interval_s = 1e9"), "burst_interval_s"),
    (scenario_text(arrivals="rate_per_s = nan\ncount = 5"), "rate_per_s"),
    (scenario_text(arrivals="rate_per_s = inf\ncount = 5"), "rate_per_s"),
    (scenario_text(arrivals="rate_per_s = 10\nduration_s = 1e12"), "duration_s"),
    (scenario_text(strategy="interval_s = inf"), "interval_s"),
    (scenario_text(strategy="interval_s = 1e9"), "interval_s"),
    (scenario_text(top="drain_timeout_s = 1e12"), "drain_timeout_s"),
    (scenario_text(strategy="interval_s = 1\nmin_age_s = -1"), "min_age_s"),
    (scenario_text(process="diurnal", arrivals="rate_per_s = 1\ncount = 5\nperiod_s = 1e12"), "period_s"),
    ("name = 't'\n[workload\n", "not valid TOML"),
    ("name = 't'\n", "workload"),
]


@pytest.mark.parametrize(("text", "field"), SCENARIO_CASES, ids=[f for _, f in SCENARIO_CASES])
@pytest.mark.parametrize("command", ["run", "simulate"])
def test_a_bad_scenario_file_is_exit_2_naming_file_and_field(
    text: str, field: str, command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    code, err = run_cli([command, str(path), "--quiet"], capsys)
    assert code == 2, err
    assert str(path) in one_message(err)
    assert field in one_message(err)
    assert not (tmp_path / "results").exists()


def test_an_undecodable_scenario_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"name = '\xff\xfe'\n")
    code, err = run_cli(["run", str(path)], capsys)
    assert code == 2
    assert str(path) in one_message(err)
    assert "UTF-8" in err


# too big for this machine: refused before anything is generated, saying the computed size
SIZE_CASES: list[tuple[str, str]] = [
    (scenario_text(arrivals="rate_per_s = 1e6\nduration_s = 3000"), "3,000,000,000 files"),
    (scenario_text(content="rows = 5e8"), "GiB of memory"),
    (scenario_text(content="rows = 500000000"), "workload.content"),
    (scenario_text(arrivals="rate_per_s = 0.001\ncount = 20"), "h of real time"),
    (scenario_text(workload="time_scale = 0.01", arrivals="rate_per_s = 1\ncount = 100"), "h of real time"),
]


@pytest.mark.parametrize(("text", "figure"), SIZE_CASES, ids=[f for _, f in SIZE_CASES])
def test_a_live_run_too_big_for_this_machine_is_refused(
    text: str, figure: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "big.toml"
    path.write_text(text, encoding="utf-8")
    code, err = run_cli(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2, err
    assert figure in one_message(err)
    assert not (tmp_path / "out").exists()


def test_a_simulation_with_a_file_too_big_to_build_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "big.toml"
    path.write_text(scenario_text(content="rows = 500000000"), encoding="utf-8")
    code, err = run_cli(["simulate", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert "workload.content: one file" in one_message(err)


# replay files: (content, what the message must say)
REPLAY_CASES: list[tuple[bytes, str]] = [
    (b"arrival_s\n0\n1e12\n", "arrival_s"),
    (b"arrival_s\n0\ninf\n", "arrival_s"),
    (b"arrival_s\n-1\n", "arrival_s"),
    (b"when\n1\n", "arrival_s"),
    (b"arrival_s\n\xff\xfe\x00\x81\n", "cannot read replay file"),
    (b"", "cannot read replay file"),
]


@pytest.mark.parametrize(("content", "message"), REPLAY_CASES, ids=[repr(c[:12]) for c, _ in REPLAY_CASES])
def test_a_bad_replay_file_names_the_file(
    content: bytes, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    replay = tmp_path / "arrivals.csv"
    replay.write_bytes(content)
    path = tmp_path / "s.toml"
    path.write_text(scenario_text(process="replay", arrivals=f"replay_path = '{replay}'"), encoding="utf-8")
    code, err = run_cli(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2, err
    assert str(replay) in one_message(err)
    assert message in one_message(err)


# pricing, assumptions and latency profile files that are not UTF-8 TOML
@pytest.mark.parametrize(
    ("argv", "content"),
    [
        (["cost", "--pricing"], b"\xff\xfe not toml"),
        (["cost", "--pricing"], b"[unterminated"),
        (["cost", "--assumptions"], b"\xff\xfe not toml"),
        (["decide", "--files-per-day", "1000", "--profile"], b"\xff\xfe not toml"),
        (["simulate", "quickstart", "--profile"], b"[unterminated"),
    ],
    ids=["pricing-bytes", "pricing-syntax", "assumptions-bytes", "profile-bytes", "profile-syntax"],
)
def test_an_undecodable_input_file_names_the_path(
    argv: list[str], content: bytes, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "input.toml"
    path.write_bytes(content)
    code, err = run_cli([*argv, str(path)], capsys)
    assert code == 2, err
    assert str(path) in one_message(err)


# -- results folders: (how to spoil a good one, what the message must name) --------------------
def _drop_summary_key(folder: Path) -> None:
    data = json.loads((folder / "summary.json").read_text())
    del data["strategies"]["poll-1s"]["files"]
    (folder / "summary.json").write_text(json.dumps(data))


def _drop_strategies(folder: Path) -> None:
    data = json.loads((folder / "summary.json").read_text())
    del data["strategies"]
    (folder / "summary.json").write_text(json.dumps(data))


def _truncate_records(folder: Path) -> None:
    lines = (folder / "records.csv").read_text().splitlines()
    (folder / "records.csv").write_text("\n".join(lines[:5]) + "\n")


def _cut_mid_row(folder: Path) -> None:
    text = (folder / "records.csv").read_text()
    (folder / "records.csv").write_text(text[: len(text) // 2])


def _other_columns(folder: Path) -> None:
    (folder / "records.csv").write_text("name,value\na,1\nb,2\n")


def _words_in_numbers(folder: Path) -> None:
    text = (folder / "records.csv").read_text().splitlines()
    head, first = text[0], text[1].split(",")
    first[head.split(",").index("latency_s")] = "fast"
    (folder / "records.csv").write_text("\n".join([head, ",".join(first), *text[2:]]) + "\n")


def _foreign_strategy(folder: Path) -> None:
    text = (folder / "records.csv").read_text()
    (folder / "records.csv").write_text(text.replace("poll-1s,", "someone-else,", 1))


SPOILERS: list[tuple[Callable[[Path], None], str]] = [
    (lambda f: (f / "summary.json").unlink(), "no summary.json"),
    (lambda f: (f / "records.csv").unlink(), "records.csv: missing"),
    (lambda f: (f / "summary.json").write_text("{not json"), "summary.json is not valid JSON"),
    (lambda f: (f / "summary.json").write_bytes(b"\xff\xfe{}"), "summary.json is not valid JSON"),
    (lambda f: (f / "summary.json").write_text("[]"), "summary.json is not a summary"),
    (_drop_summary_key, "summary.json: not a valid schema"),
    (_drop_strategies, "summary.json: not a valid schema"),
    (_truncate_records, "records.csv: 4 row(s)"),
    (_cut_mid_row, "records.csv"),
    (_other_columns, "missing record column(s)"),
    (_words_in_numbers, "latency_s"),
    (_foreign_strategy, "someone-else"),
    (lambda f: (f / "records.csv").write_bytes(b"\xff\xfe\x00\x81"), "records.csv: not a readable"),
    (lambda f: (f / "records.csv").write_text(""), "records.csv: not a readable"),
]
READERS = [
    lambda f, o: ["report", str(f)],
    lambda f, o: ["compare", str(f), str(f)],
    lambda f, o: ["calibrate", str(f), "--out", str(o / "p.toml")],
    lambda f, o: ["simulate", "quickstart", "--replay", str(f), "--out", str(o / "sim")],
]


@pytest.mark.parametrize(("spoil", "message"), SPOILERS, ids=[m for _, m in SPOILERS])
@pytest.mark.parametrize("reader", READERS, ids=["report", "compare", "calibrate", "simulate-replay"])
def test_a_spoilt_results_folder_is_one_error_naming_the_file(
    spoil: Callable[[Path], None],
    message: str,
    reader: Callable[[Path, Path], list[str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    folder = synthetic(tmp_path / "run", {"poll-1s": np.full(20, 0.5)})
    spoil(folder)
    code, err = run_cli(reader(folder, tmp_path), capsys)
    assert code == 2, err
    assert message in one_message(err)
    assert str(folder) in one_message(err)
    assert not list(folder.glob("*.png"))  # nothing drawn
    assert not (tmp_path / "sim").exists()
    assert not (tmp_path / "p.toml").exists()


# -- good inputs next to the bad ones ----------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["cost", "--files-per-day", "1000", "1e6", "--interval", "300", "--retention-days", "0"],
        ["decide", "--files-per-day", "1000", "--seed", "3", "--quiet"],
    ],
    ids=lambda a: " ".join(a),
)
def test_good_flags_still_work(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(argv, capsys)
    assert code == 0, err


def test_a_good_results_folder_is_still_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": np.full(20, 0.5)})
    b = synthetic(tmp_path / "b", {"poll-1s": np.full(20, 0.5)})
    assert run_cli(["report", str(a), "--quiet"], capsys)[0] == 0
    assert run_cli(["compare", str(a), str(b)], capsys)[0] == 0


# -- SIGTERM: like Ctrl-C --------------------------------------------------------------------
def test_sigterm_cleans_up_and_keeps_the_finished_runs_marked_incomplete(tmp_path: Path) -> None:
    """A subprocess run of 40 short strategy runs is sent SIGTERM once the first has finished:
    exit 143, no temp folder left, summary.json holds the finished runs with complete = false."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    path = tmp_path / "long.toml"
    path.write_text(
        scenario_text(top='backend = "folder"\nrepetitions = 20', strategy="interval_s = 0.1")
        + '[[strategies]]\nname = "q"\nkind = "poll"\ninterval_s = 0.1\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", str(path), "--out", str(out), "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen: set[str] = set()
    deadline = time.monotonic() + 120
    while len({n for n in seen if n.startswith("pve-work-")}) < 2 and time.monotonic() < deadline:
        seen |= {p.name for p in scratch.iterdir()}
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert b"SIGTERM" in err
    assert not [p for p in scratch.iterdir() if p.name.startswith("pve-")]  # temp folders cleaned
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is False
    assert "SIGTERM" in summary["incomplete_reason"]
    assert summary["strategies"]["p"]["files"] >= 5  # the finished run is kept, whole
    from bench.results.files import read_results

    assert not read_results(out).summary.complete  # and the folder reads back consistently


# -- properties: scenario validation never fails with anything but a ScenarioError -------------
VALID: dict[str, Any] = {
    "name": "t",
    "workload": {"arrivals": {"process": "poisson", "rate_per_s": 10, "count": 10}},
    "strategies": [{"name": "p", "kind": "poll", "interval_s": 1}],
}
FIELDS = [
    ("seed",),
    ("backend",),
    ("task",),
    ("repetitions",),
    ("drain_timeout_s",),
    ("workload", "time_scale"),
    ("workload", "prefix"),
    ("workload", "key_style"),
    ("workload", "arrivals", "process"),
    ("workload", "arrivals", "rate_per_s"),
    ("workload", "arrivals", "count"),
    ("workload", "arrivals", "duration_s"),
    ("workload", "arrivals", "burst_interval_s"),
    ("workload", "arrivals", "replay_path"),
    ("workload", "content"),
    ("bucket", "retention"),
    ("bucket", "start"),
    ("strategies",),
    ("strategies", 0, "kind"),
    ("strategies", 0, "interval_s"),
    ("strategies", 0, "cursor"),
    ("strategies", 0, "retry_delays_s"),
    ("strategies", 0, "event_loss"),
    ("strategies", 0, "function"),
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["poll", "s3-lambda", "hybrid", "replay", "bursts", "moto", "folder", "keep", "lifecycle:3"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _mutate(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(data))
    node = out
    for step in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(step, {})
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return out
    if isinstance(node, dict):
        node[path[-1]] = value
    return out


def _validates_or_refuses(data: Any) -> None:
    try:
        scenario: Scenario | str = parse_scenario(data, "fuzz.toml")
    except ScenarioError as exc:
        scenario = str(exc)
    assert isinstance(scenario, Scenario) or scenario.startswith("fuzz.toml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), min_size=1, max_size=4))
def test_mutated_scenarios_validate_or_raise_scenario_error(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    data = VALID
    for path, value in changes:
        data = _mutate(data, path, value)
    _validates_or_refuses(data)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "workload", "strategies", "seed", "bucket", "x"]), VALUES))
def test_random_dicts_validate_or_raise_scenario_error(data: dict[str, Any]) -> None:
    _validates_or_refuses(data)


def test_force_clears_a_capacity_sweeps_runs_too(tmp_path: Path) -> None:
    """pve capacity keeps a folder per offered rate under runs/: --force clears those as well."""
    from bench.results.files import prepare_out_folder

    out = tmp_path / "cap"
    rate = out / "runs" / "rate-29.6"
    rate.mkdir(parents=True)
    (out / "capacity.json").write_text("{}")
    (rate / "summary.json").write_text("{}")
    (rate / "records.csv").write_text("key\n")
    (out / "runs" / "notes.md").write_text("mine\n")
    prepare_out_folder(out, force=True)
    assert not rate.exists()
    assert not (out / "capacity.json").exists()
    assert (out / "runs" / "notes.md").read_text() == "mine\n"


def test_force_never_reaches_results_two_levels_below_a_plain_folder(tmp_path: Path) -> None:
    """--out results --force must not delete results/reference/NAME/: only the folder's own runs."""
    from bench.results.files import is_results_folder

    kept = tmp_path / "results" / "reference" / "quickstart"
    kept.mkdir(parents=True)
    (kept / "summary.json").write_text("{}")
    assert not is_results_folder(tmp_path / "results")
    assert is_results_folder(tmp_path / "results" / "reference")
