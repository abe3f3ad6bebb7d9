"""The layering the README promises, read from the imports themselves.

``pollers`` and ``event_handlers`` know nothing of ``bench`` or of each other; inside ``bench`` a
stage imports only the stages below it, so the simulator never leans on the live harness.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each bench stage and the stages it may import; modules at bench/'s top level (reproduce, the public
# API) and the top packages below sit above every stage and may import any.
BENCH_STAGES: dict[str, set[str]] = {
    "scenario": set(),
    "results": {"scenario"},
    "cost": {"scenario", "results"},
    # simulate: pve decide's view beside a simulation's monthly projection (bench.decide.beside)
    "simulate": {"scenario", "results", "cost", "decide"},
    "live": {"scenario", "results", "cost"},
    "report": {"scenario", "results", "cost", "simulate"},
    "decide": {"scenario", "results", "cost"},  # pve decide: bills, ranges and feasibility, no live runs
    "aws": {"scenario", "results", "cost", "live"},  # deploys and runs on a real account (issue 15)
    "traffic": {"scenario", "results", "cost", "decide"},  # your own traffic, per prefix (issue 27)
}
# Packages on top like those modules (the pve command line, one module per command group): no stage
# may import them (they are in no stage's set above), they may import any stage.
TOP_PACKAGES = {"cli"}
# Top-level modules beneath every stage: any stage may import them, they import no stage.
BASE_MODULES = {"errors", "requirements", "atomic"}
PACKAGES_BENCH_MAY_NOT_BE_IMPORTED_BY = ("pollers", "event_handlers")


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports, at any depth (imports inside functions count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("package", PACKAGES_BENCH_MAY_NOT_BE_IMPORTED_BY)
def test_mechanisms_import_neither_bench_nor_each_other(package: str) -> None:
    forbidden = {"bench", *PACKAGES_BENCH_MAY_NOT_BE_IMPORTED_BY} - {package}
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module in imported_modules(path)
        if top(module) in forbidden
    ]
    assert offenders == []


def bench_stage(path: Path) -> str | None:
    parts = path.relative_to(ROOT / "bench").parts
    return parts[0] if len(parts) > 1 and parts[0] not in TOP_PACKAGES else None


def test_every_bench_subpackage_is_a_declared_stage() -> None:
    stages = {p.name for p in (ROOT / "bench").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert stages == set(BENCH_STAGES) | TOP_PACKAGES
    assert not TOP_PACKAGES & set(BENCH_STAGES)


def test_bench_stages_import_only_the_stages_below_them() -> None:
    offenders = []
    for path in sorted((ROOT / "bench").rglob("*.py")):
        stage = bench_stage(path)
        if stage is None:
            continue
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] != "bench" or len(parts) < 2:
                continue
            target = parts[1]
            if target != stage and target not in BENCH_STAGES[stage] | BASE_MODULES:
                offenders.append(f"{path.relative_to(ROOT)} ({stage}) imports {module}")
    assert offenders == []


@pytest.mark.parametrize("base", sorted(BASE_MODULES))
def test_base_modules_import_no_stage(base: str) -> None:
    modules = imported_modules(ROOT / "bench" / f"{base}.py")
    others = {f"bench.{name}" for name in BASE_MODULES}  # beneath every stage, beside each other
    assert [m for m in modules if m.startswith("bench.") and m not in others] == []


def test_the_layering_check_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself can fail: a simulator module importing the live harness is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from bench.live.runner import run_scenario\n", encoding="utf-8")
    assert "bench.live.runner" in imported_modules(bad)
    assert "live" not in BENCH_STAGES["simulate"]
