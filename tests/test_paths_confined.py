"""Nothing outside the root (issue 23, item 1): one path guard for the writer, the folder poller's
listing and inbox moves, the handler's folder store and every scenario prefix.

A property test throws hostile keys (absolute, ``..``, symlinks out, NUL, very long, unicode) at
every operation that makes a path from a key; a sibling folder outside the root must come out
byte for byte unchanged, and nothing may appear beside the root. Every bundled scenario's
workload and poller setup runs on the folder backend next to such a sibling, and so do hostile
scenarios that bypass validation (the library boundary must hold on its own).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bench.cli import main
from bench.live.backends import BackendEnv, fresh_backend
from bench.live.clients import ApiCallCounter
from bench.live.recorder import Recorder
from bench.live.strategies import RunContext, make_strategy
from bench.live.writer import write_workload
from bench.scenario.spec import (
    Arrivals,
    Content,
    PollStrategy,
    Scenario,
    ScenarioError,
    Workload,
    bundled_scenarios,
    load_scenario,
    parse_scenario,
)
from bench.scenario.workload import FileSpec, PlannedWorkload, plan_workload
from event_handlers.errors import PathRefusedError as StoreRefusedError
from event_handlers.runtime.latency import load_profile
from event_handlers.storage import LocalFolderStore
from pollers import Entry, FolderPoller, PollerConfigError, PollLoop
from pollers.errors import PathRefusedError
from pollers.paths import confine

SIBLING_FILES = {
    "victim.txt": b"keep me",
    "sub/deep.csv": b"a,b\n1,2\n",
    "\u00fcn\u00ef \U0001f600.bin": bytes(range(256)),
}


# -- a world: a root, and a sibling folder the root must never touch -----------------------------------
def make_world(base: Path) -> tuple[Path, Path]:
    """``base/root`` (with a symlink ``esc`` out to the sibling and ``ok`` to a folder inside) and
    ``base/sibling`` holding files."""
    root, sibling = base / "root", base / "sibling"
    for name, data in SIBLING_FILES.items():
        (sibling / name).parent.mkdir(parents=True, exist_ok=True)
        (sibling / name).write_bytes(data)
    (root / "inside").mkdir(parents=True)
    (root / "esc").symlink_to(sibling)
    (root / "ok").symlink_to(root / "inside")
    (root / "esc-file").symlink_to(sibling / "victim.txt")
    return root, sibling


def snapshot(folder: Path) -> dict[str, Any]:
    """Every name under ``folder`` with its kind, bytes (or link target), mode and mtime."""
    seen: dict[str, Any] = {}
    for here, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(here) / name
            st_ = path.lstat()
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                seen[rel] = ("link", os.readlink(path), st_.st_mode)
            elif path.is_dir():
                seen[rel] = ("dir", st_.st_mode, st_.st_mtime_ns)
            else:
                seen[rel] = ("file", path.read_bytes(), st_.st_mode, st_.st_mtime_ns)
    return seen


@contextmanager
def guarded_world() -> Iterator[tuple[Path, Path]]:
    """A fresh world; on exit, the sibling is unchanged and nothing new lies beside the root."""
    with tempfile.TemporaryDirectory(prefix="pve-paths-") as tmp:
        base = Path(tmp)
        root, sibling = make_world(base)
        before = snapshot(sibling)
        yield root, sibling
        assert snapshot(sibling) == before
        assert sorted(p.name for p in base.iterdir()) == ["root", "sibling"]


def ignore(entry: Entry) -> None:
    """The per-file work of a poll loop that only lists and moves."""


def folder_env(root: Path) -> BackendEnv:
    return BackendEnv("folder", ApiCallCounter(), None, folder=root)


def write_one(root: Path, key: str) -> None:
    planned = PlannedWorkload((FileSpec(0, key, 0.0),), Content(), 1.0, 0)
    write_workload(folder_env(root), planned, {key: b"evil"}, Recorder("t", 0), lead_s=0.0)


# -- hostile keys -----------------------------------------------------------------------------------
SEGMENTS = st.sampled_from(
    [
        "..",
        ".",
        "esc",
        "esc-file",
        "ok",
        "inside",
        "sub",
        "victim.txt",
        "",
        "\u00e9\U0001f600",
        "a" * 300,
        "x\x00y",
    ]
)
HOSTILE_KEYS = st.one_of(
    st.lists(SEGMENTS, min_size=1, max_size=6).map("/".join),
    st.lists(SEGMENTS, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.lists(SEGMENTS, min_size=0, max_size=3).map(lambda parts: "{sibling}/" + "/".join(parts)),
    st.text(min_size=1, max_size=40),
    st.just("{sibling}/victim.txt"),
    st.just("../sibling/victim.txt"),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=HOSTILE_KEYS, succeeded=st.booleans())
def test_hostile_keys_create_move_or_delete_nothing_outside_the_root(key: str, succeeded: bool) -> None:
    with guarded_world() as (root, sibling):
        key = key.replace("{sibling}", str(sibling))
        # the benchmark's writer
        with suppress(PathRefusedError, OSError):
            write_one(root, key)
        # the handler's folder store, with the guard the benchmark hands it
        with suppress(StoreRefusedError, OSError):
            LocalFolderStore(root, guard=confine).put(key, b"evil", "text/plain")
        # an inbox told (by a tampered state file, say) to move a file it never listed
        poller = FolderPoller(root, cursor="inbox", min_age_s=0.0, recursive=True)
        poller.acknowledge(Entry(key, 1, 0.0), succeeded=succeeded)
        # and a whole cycle of a recursive inbox over whatever is now under the root
        loop = PollLoop(
            FolderPoller(root, cursor="inbox", min_age_s=0.0, recursive=True), ignore, interval_s=1
        )
        loop.run_once()
        loop.run_once()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=HOSTILE_KEYS)
def test_a_prefix_the_validator_accepts_keeps_every_write_under_the_root(prefix: str) -> None:
    """The validator and the guard agree: what validation lets through, the writer writes inside."""
    with guarded_world() as (root, sibling):
        prefix = prefix.replace("{sibling}", str(sibling))
        try:
            workload = Workload(
                arrivals=Arrivals(process="constant", rate_per_s=1.0, count=2), prefix=prefix, time_scale=1e6
            )
        except ValidationError:
            return
        planned = plan_workload(workload, 0)
        bodies = {spec.key: b"x" for spec in planned.files}
        with suppress(PathRefusedError, OSError):  # a symlink in the prefix is refused at run time
            write_workload(folder_env(root), planned, bodies, Recorder("t", 0), lead_s=0.0)


@pytest.mark.parametrize(
    "key",
    [
        "/etc/passwd",
        "../sibling/victim.txt",
        "esc/victim.txt",
        "esc-file",
        "a/../../sibling/x",
        "x\x00y",
        "a" * 300,
    ],
)
def test_the_guard_refuses_what_would_leave_the_root(tmp_path: Path, key: str) -> None:
    root, _ = make_world(tmp_path)
    with pytest.raises(PathRefusedError, match="refused"):
        confine(root, key)


def test_the_guard_follows_symlinks_that_stay_inside(tmp_path: Path) -> None:
    root, _ = make_world(tmp_path)
    assert confine(root, "ok/new.csv") == (root / "inside" / "new.csv").resolve()
    assert confine(root, "incoming/", allow_empty=True) == root.resolve() / "incoming"
    assert confine(root, "\u00e9\U0001f600 +%.csv").parent == root.resolve()


def test_the_handler_store_with_the_guard_refuses_like_without_it(tmp_path: Path) -> None:
    """The benchmark hands the store the pollers' guard; both refuse every escape, as the handler's
    ``PathRefusedError`` (a permanent failure, not a retry)."""
    root, sibling = make_world(tmp_path)
    for store in (LocalFolderStore(root), LocalFolderStore(root, guard=confine)):
        for key in ("../sibling/victim.txt", str(sibling / "victim.txt"), "esc/victim.txt", "x\x00y"):
            with pytest.raises(StoreRefusedError):
                store.put(key, b"evil", "text/plain")
    assert (sibling / "victim.txt").read_bytes() == b"keep me"


# -- the inbox never moves what it did not find under its root --------------------------------------
def test_inbox_never_moves_a_file_named_by_a_tampered_state_file(tmp_path: Path) -> None:
    root, sibling = make_world(tmp_path)
    state = tmp_path / "state.json"
    deferred = [["../sibling/victim.txt", 7, 0.0, None], [str(sibling / "sub/deep.csv"), 8, 0.0, None]]
    state.write_text(
        json.dumps({"version": 1, "strategy": "inbox", "cursor": {"in_flight": []}, "deferred": deferred})
    )
    before = snapshot(sibling)
    loop = PollLoop(FolderPoller(root, cursor="inbox", state_path=state, min_age_s=0.0), ignore, interval_s=1)
    result = loop.run_once()
    assert result.found == 2  # offered again, as deferred files are
    assert snapshot(sibling) == before
    assert loop.poller.stuck.keys() == {"../sibling/victim.txt", str(sibling / "sub/deep.csv")}
    assert all("refused" in reason for reason in loop.poller.stuck.values())


def test_inbox_moves_a_symlink_itself_never_its_target(tmp_path: Path) -> None:
    root, _ = make_world(tmp_path)
    (root / "inside" / "real.csv").write_bytes(b"x")
    (root / "link.csv").symlink_to(root / "inside" / "real.csv")
    poller = FolderPoller(root, cursor="inbox", min_age_s=0.0, processed_dir=tmp_path / "done")
    found = poller.poll_once()
    assert [e.key for e in found] == ["link.csv"]
    poller.acknowledge(found[0])
    assert (tmp_path / "done" / "link.csv").is_symlink()
    assert (root / "inside" / "real.csv").read_bytes() == b"x"


# -- state files and claims folders inside the root are not input -------------------------------------
def test_state_file_claims_and_moved_files_inside_the_root_are_never_listed(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for name in ("a.csv", "b.csv"):
        (root / name).write_bytes(b"x")
    poller = FolderPoller(
        root,
        cursor="inbox",
        min_age_s=0.0,
        recursive=True,
        state_path=root / "state.json",
        claims_dir=root / "claims",
        processed_dir=root / "done",
        failed_dir=root / "failed",
    )
    loop = PollLoop(poller, ignore, interval_s=1)
    reported: list[str] = []
    loop.listener.files_detected = lambda entries, at: reported.extend(e.key for e in entries)  # type: ignore[method-assign]
    for _ in range(3):
        loop.run_once()
    (root / "c.csv").write_bytes(b"x")
    loop.run_once()
    assert (root / "state.json").exists()
    assert (root / "done" / "a.csv").exists()
    assert sorted(reported) == ["a.csv", "b.csv", "c.csv"]


def test_a_watermark_poller_does_not_list_its_own_state_file(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.csv").write_bytes(b"x")
    poller = FolderPoller(root, cursor="watermark", min_age_s=0.0, state_path=root / "cursor.json")
    assert [e.key for e in poller.poll_once()] == ["a.csv"]
    poller.commit()
    assert poller.poll_once() == []


def test_an_inbox_moving_files_into_its_own_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PollerConfigError, match="must not be the folder polled"):
        FolderPoller(tmp_path, cursor="inbox", processed_dir=tmp_path)


# -- symlinked files: counted, logged, followed only inside the root -----------------------------------
def test_symlinked_files_are_followed_inside_the_root_and_counted_and_logged_outside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root, _ = make_world(tmp_path)
    (root / "inside" / "real.csv").write_bytes(b"data")
    (root / "link.csv").symlink_to(root / "inside" / "real.csv")
    (root / "dangling.csv").symlink_to(root / "nowhere")
    poller = FolderPoller(root, min_age_s=0.0)
    with caplog.at_level(logging.INFO, logger="pollers.folder"):
        first = poller.poll_once()
        second = poller.poll_once()
    assert [(e.key, e.size) for e in first] == [("link.csv", 4)]
    assert second == []
    # esc (a folder outside), esc-file (a file outside), dangling, ok (a folder): refused, each cycle
    assert poller.stats.walk.symlinks_followed == 2
    assert poller.stats.walk.symlinks_refused == 8
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("esc-file" in m for m in warned) == 1  # logged once, not every cycle
    assert any("following symlink link.csv" in r.getMessage() for r in caplog.records)


# -- scenario prefixes, refused at validation ------------------------------------------------------
SCENARIO = """
name = "{name}"
backend = "folder"
[workload]
prefix = "{prefix}"
[workload.arrivals]
process = "constant"
rate_per_s = 1000.0
count = 5
[workload.content]
kind = "csv"
rows = 2
[[strategies]]
name = "inbox"
kind = "poll"
interval_s = 0.2
phase_s = 0
cursor = "inbox"
"""


@pytest.mark.parametrize("prefix", ["/tmp/pve-victim/", "../victim/", "in/../../victim/", "in\\u0000/"])
def test_a_prefix_that_could_leave_the_root_is_refused_naming_the_field(prefix: str) -> None:
    import tomllib

    data = tomllib.loads(SCENARIO.format(name="t", prefix=prefix))
    with pytest.raises(ScenarioError, match=r"workload\.prefix"):
        parse_scenario(data, "hostile.toml")


@pytest.mark.parametrize("prefix", ["processed/", "./failed"])
def test_a_prefix_where_the_folder_inbox_moves_files_is_refused(prefix: str) -> None:
    import tomllib

    data = tomllib.loads(SCENARIO.format(name="t", prefix=prefix))
    with pytest.raises(ScenarioError, match=r"workload\.prefix .* moves handled files"):
        parse_scenario(data, "loop.toml")


@pytest.mark.parametrize("name", ["..", "."])
def test_a_scenario_name_of_dots_is_refused(name: str) -> None:
    import tomllib

    data = tomllib.loads(SCENARIO.format(name=name, prefix="in/"))
    with pytest.raises(ScenarioError, match="only dots"):
        parse_scenario(data, "dots.toml")


@pytest.mark.parametrize("command", ["run", "simulate", "validate"])
def test_pve_refuses_an_escaping_prefix_with_exit_2_and_touches_nothing(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, sibling = make_world(tmp_path)
    path = tmp_path / "hostile.toml"
    path.write_text(SCENARIO.format(name="hostile", prefix=f"{sibling}/"), encoding="utf-8")
    before = snapshot(sibling)
    out = tmp_path / "out"
    argv = {
        "run": ["run", str(path), "--out", str(out)],
        "simulate": ["simulate", str(path), "--out", str(out)],
        "validate": ["validate", "--scenarios", str(path), "--out", str(out)],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "workload.prefix" in err
    assert "absolute" in err
    assert snapshot(sibling) == before


# -- every bundled scenario's workload and poller setup, and hostile ones --------------------------
def folder_version(scenario: Scenario) -> Scenario:
    """The scenario on the folder backend with few files and no waiting: its own poll strategies
    (every cursor), else one inbox poller."""
    polls = [s for s in scenario.strategies if s.kind == "poll"]
    strategies = [p.model_copy(update={"backend": None, "interval_s": 0.1}) for p in polls] or [
        PollStrategy(kind="poll", name="inbox", interval_s=0.1, cursor="inbox")
    ]
    workload = scenario.workload.model_dump()
    workload["arrivals"] = {"process": "constant", "rate_per_s": 1000.0, "count": 12}
    workload["content"].update(width=32, height=32, rows=min(workload["content"]["rows"], 20), size_bytes=64)
    data = scenario.model_dump()
    data.update(backend="folder", workload=workload, strategies=[s.model_dump() for s in strategies])
    data["bucket"] = {"retention": "keep"}
    return Scenario.model_validate(data)


def play(scenario: Scenario, backend_dir: Path, work: Path, prepare: Any = None) -> list[str | int]:
    """For each poll strategy on a fresh folder backend: write the workload, set the strategy up,
    run two cycles by hand, stop. Returns, per strategy, what the writer and the poller did: the
    files the loop handled, or which of them refused the prefix."""
    planned = plan_workload(scenario.workload, scenario.seed)
    bodies = {spec.key: planned.body(spec) for spec in planned.files}
    outcomes: list[str | int] = []
    for spec in scenario.strategies:
        with fresh_backend("folder", workdir=backend_dir) as env:
            assert env.folder is not None
            if prepare is not None:
                prepare(env.folder)
            workdir = Path(tempfile.mkdtemp(dir=work))
            ctx = RunContext(scenario, env, Recorder(spec.name, 0), load_profile("instant"), 0, workdir)
            try:
                write_workload(env, planned, bodies, ctx.recorder, lead_s=0.0)
            except PathRefusedError:
                outcomes.append("writer refused")
            try:
                run = make_strategy(spec, ctx)
            except PathRefusedError:
                outcomes.append("poller refused")
                continue
            run.setup()
            loop = run.loop  # type: ignore[attr-defined]
            for _ in range(2):
                loop.run_once()
            run.stop()
            outcomes.append(loop.stats.processed + loop.stats.failed)
    return outcomes


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_bundled_scenario_setup_on_the_folder_backend_leaves_a_sibling_unchanged(
    tmp_path: Path, name: str
) -> None:
    _, sibling = make_world(tmp_path / "world")
    before = snapshot(sibling)
    scenario = folder_version(load_scenario(name))
    (tmp_path / "work").mkdir()
    handled = play(scenario, tmp_path, tmp_path / "work")
    assert snapshot(sibling) == before
    assert handled
    assert all(isinstance(n, int) and n > 0 for n in handled)


def hostile_prefixes(sibling: Path, backend_dir: Path) -> list[str]:
    depth = len(Path("pve-x/data").parts)  # fresh_backend's root lies two folders below backend_dir
    up = os.path.relpath(sibling, backend_dir)
    return [f"{sibling}/", "../" * depth + up + "/", "link/", "link/sub/", "../data/link/"]


def test_hostile_scenarios_past_validation_still_touch_nothing_outside(tmp_path: Path) -> None:
    """A scenario built in code, past the validator (``model_copy`` does not validate): the writer,
    the poller and the watched folder refuse at the library boundary."""
    _, sibling = make_world(tmp_path / "world")
    before = snapshot(sibling)
    base = folder_version(load_scenario("pollers"))
    (tmp_path / "work").mkdir()
    backend_dir = tmp_path / "backends"
    backend_dir.mkdir()

    def plant_link(root: Path) -> None:
        (root / "link").symlink_to(sibling)

    for prefix in hostile_prefixes(sibling, backend_dir):
        hostile = base.model_copy(update={"workload": base.workload.model_copy(update={"prefix": prefix})})
        outcomes = play(hostile, backend_dir, tmp_path / "work", prepare=plant_link)
        assert snapshot(sibling) == before, prefix
        strategies = len(hostile.strategies)
        assert outcomes == ["writer refused", "poller refused"] * strategies, prefix


def test_a_symlink_planted_in_the_fresh_root_is_exit_2_naming_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Validation cannot see a symlink that appears in the backend's fresh root at run time (a race):
    the writer and the watched folder refuse it, and ``pve run`` ends with exit 2, not a traceback."""
    import bench.live.runner as runner

    _, sibling = make_world(tmp_path / "world")
    before = snapshot(sibling)
    real_fresh_backend = runner.fresh_backend

    @contextmanager
    def planted(kind: str, **options: Any) -> Iterator[BackendEnv]:
        with real_fresh_backend(kind, workdir=tmp_path, **options) as env:
            assert env.folder is not None
            (env.folder / "link").symlink_to(sibling)
            yield env

    monkeypatch.setattr(runner, "fresh_backend", planted)
    path = tmp_path / "planted.toml"
    path.write_text(SCENARIO.format(name="planted", prefix="link/"), encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "workload.prefix 'link/'" in err
    assert "symlink" in err
    assert snapshot(sibling) == before
