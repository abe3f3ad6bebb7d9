"""CLI conventions (issue 24, item 7): ``--json [PATH]`` means the same on every command, ``pve aws
template`` prints unless ``--out``, tables fit a 100-column terminal without cutting a header or a
number, results folders are named once, and results carry no absolute path of this machine."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from bench.cli import main
from bench.cli.output import fit_table
from bench.results.portable import REPOSITORY, portable_path

REGION = "us-east-1"
QUICKSTART = REPOSITORY / "results" / "reference" / "quickstart"


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# -- --json [PATH] ----------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [["--json"], ["--json", "-"]], ids=["flag", "dash"])
def test_decide_json_without_a_path_or_dash_is_stdout_and_only_json(
    spelling: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["decide", "--files-per-day", "1000", "--samples", "4", "--out", "chart", *spelling]
    assert main(argv) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)  # stdout parses as JSON: the table went elsewhere
    assert {"options", "recommendation"} <= set(document)
    assert "every option, ranked" in captured.err  # the table, on stderr
    assert not (tmp_path / "-").exists()
    assert _files(tmp_path) == ["chart", "chart/decide.png"]


def test_decide_json_with_a_path_writes_that_file_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "ranking.json"
    argv = ["decide", "--files-per-day", "1000", "--samples", "4", "--out", str(tmp_path / "c")]
    assert main([*argv, "--json", str(target)]) == 0
    assert "options" in json.loads(target.read_text(encoding="utf-8"))
    assert _files(target.parent) == ["ranking.json"]  # no temporary file left beside it
    assert "every option, ranked" in capsys.readouterr().out  # a file target: the table stays on stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["aws", "plan", "quickstart", "--region", REGION, "--json"],
        ["aws", "plan", "quickstart", "--region", REGION, "--json", "-"],
        ["aws", "plan", "--json", "quickstart", "--region", REGION],  # the old flag, before SCENARIO
    ],
    ids=["flag", "dash", "flag-first"],
)
def test_aws_plan_json_to_stdout_in_every_spelling(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["region"] == REGION
    assert _files(tmp_path) == []


def test_aws_plan_json_with_a_path_writes_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plan.json"
    assert main(["aws", "plan", "quickstart", "--region", REGION, "--json", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["region"] == REGION
    assert capsys.readouterr().out == ""


TRAFFIC = Path(__file__).parent / "fixtures" / "traffic" / "access-log.txt"


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["traffic", str(TRAFFIC), "--json"], "profiles"),
        (
            ["decide", "--traffic", str(TRAFFIC), "--samples", "4", "--executor", "thread", "--json"],
            "decisions",
        ),
    ],
    ids=["traffic", "decide-traffic"],
)
def test_traffic_json_without_a_path_is_stdout_and_only_json(
    argv: list[str],
    key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)[key]
    assert not (tmp_path / "-").exists()


def test_aws_template_prints_to_stdout_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["aws", "template", "quickstart", "--region", REGION]) == 0
    template = json.loads(capsys.readouterr().out)
    assert template["Resources"]
    assert _files(tmp_path) == []


# -- results folders ----------------------------------------------------------------------------


def test_decide_writes_under_results_decide_and_a_timestamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["decide", "--files-per-day", "1000", "--samples", "4", "--quiet"]) == 0
    (stamp,) = (tmp_path / "results" / "decide").iterdir()
    assert stamp.name[:8].isdigit()
    assert stamp.name.endswith("Z")
    assert (stamp / "decide.png").is_file()


# -- tables at 100 columns ------------------------------------------------------------------------


def _render(table: Table, width: int = 100) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    for part in fit_table(console, table):
        console.print(part)
    return out.getvalue()


def _assert_fits_uncut(text: str, width: int, headers: list[str]) -> None:
    assert "\u2026" not in text, text  # rich's ellipsis: a cut header or number
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width, text
    for header in headers:
        assert f" {header} " in text, header


def test_the_run_table_fits_100_columns_without_a_cut() -> None:
    from bench.report.table import summary_table
    from bench.results.files import read_results

    table = summary_table(read_results(QUICKSTART).summary)
    text = _render(table)
    _assert_fits_uncut(text, 100, [str(c.header) for c in table.columns])
    for strategy in ("poll-1s", "poll-5s", "events-sqs"):  # each part repeats the strategy
        assert text.count(f" {strategy} ") >= 2
    assert "inv = function invocations" in text  # the legend of the short headers


def test_the_decide_table_fits_100_columns_without_a_cut() -> None:
    from bench.cost.assumptions import load_assumptions
    from bench.cost.model import load_pricing
    from bench.decide.rank import Workload, decide
    from bench.decide.table import decision_table
    from event_handlers.runtime.latency import load_profile

    profile, assumptions, pricing = load_profile("aws"), load_assumptions(None), load_pricing()
    (decision,) = decide([Workload(100_000)], profile, assumptions, pricing, samples=4, seed=0)
    table = decision_table(decision, profile.name, pricing.label, assumptions.path)
    _assert_fits_uncut(_render(table), 100, [str(c.header) for c in table.columns])


def test_a_table_too_wide_for_any_squeeze_is_split_and_nothing_is_cut() -> None:
    table = Table(title="wide", caption="a caption under the last part")
    table.add_column("name", no_wrap=True)
    headers = [f"column-{i:02d}" for i in range(12)]
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    table.add_row("row-a", *[f"{1234567 * i:,}" for i in range(12)])
    text = _render(table, width=60)
    _assert_fits_uncut(text, 60, headers)
    assert "12,345,670" in text
    assert text.count("row-a") >= 2
    assert text.count("a caption under the last part") == 1
    assert all(c.width is None for c in table.columns)  # the caller's table left as it was


def test_pve_report_honours_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, folder, ignore=shutil.ignore_patterns("*.png", "*.svg"))
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["report", str(folder)]) == 0
    out = capsys.readouterr().out
    table_lines = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert table_lines
    assert "\u2026" not in out
    assert max(len(line) for line in table_lines) <= 100


# -- no absolute paths ------------------------------------------------------------------------------


def test_a_path_inside_the_repository_is_stored_relative_else_by_name(tmp_path: Path) -> None:
    assert portable_path(REPOSITORY / "bench" / "scenarios" / "quickstart.toml") == (
        "bench/scenarios/quickstart.toml"
    )
    assert portable_path(tmp_path / "mine" / "my.toml") == "my.toml"
    assert portable_path("") == ""


def test_a_run_summary_stores_the_scenario_file_without_this_machines_path(tmp_path: Path) -> None:
    from bench.results.build import build_run
    from bench.results.model import Environment, ProfileInfo, RunKind
    from bench.scenario.spec import bundled_scenarios, load_scenario

    bundled = bundled_scenarios()["quickstart"]
    for given, stored in ((bundled, "bench/scenarios/quickstart.toml"), (tmp_path / "x.toml", "x.toml")):
        run = build_run(
            RunKind.LIVE,
            load_scenario("quickstart"),
            {},
            profile=ProfileInfo(name="instant"),
            environment=Environment(python="3.11"),
            scenario_file=str(Path(given).resolve()),
        )
        assert run.scenario_file == stored


ABSOLUTE = re.compile(r"(?<![\w.~])/(?:home|root|work|tmp|Users|private|var/folders)/|\b[A-Z]:\\[A-Za-z]")


@pytest.mark.parametrize("notebook", sorted((REPOSITORY / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_no_notebook_output_holds_an_absolute_path(notebook: Path) -> None:
    """What a notebook printed (its paths, its warnings) is committed: none of this machine's paths."""
    found = [
        line
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for output in cell.get("outputs", [])
        for text in [output.get("text", ""), *output.get("data", {}).get("text/plain", [])]
        for line in ("".join(text) if isinstance(text, list) else text).splitlines()
        if ABSOLUTE.search(line)
    ]
    assert found == []


def test_the_recorded_command_line_holds_no_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.cli.output import _command_line

    scenario = REPOSITORY / "bench" / "scenarios" / "quickstart.toml"
    argv = ["pve", "run", str(scenario), "--out", str(tmp_path / "out"), f"--pricing={tmp_path / 'p.toml'}"]
    monkeypatch.setattr("sys.argv", argv)
    assert _command_line() == "pve run bench/scenarios/quickstart.toml --out out --pricing=p.toml"
    monkeypatch.setattr("sys.argv", ["pve", "run", "quickstart", "--out", "results/x", "--seed", "-1"])
    assert _command_line() == "pve run quickstart --out results/x --seed -1"
