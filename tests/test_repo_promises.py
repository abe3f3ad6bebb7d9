"""The repository keeps the promises its README makes about itself."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert block is not None, "the README opens with a bash block"
    return [line.split("   #")[0].strip() for line in block[1].splitlines() if line.strip()]


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    run, test = readme_commands()
    assert run.endswith("pve run quickstart")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()


def test_the_test_command_lints_type_checks_and_runs_both_suites() -> None:
    test = readme_commands()[1]
    for step in ("ruff check .", "ruff format --check .", "mypy", "pytest", "pytest -m slow"):
        assert f"&& {step}" in test


def test_the_moto_floor_is_the_release_that_url_encodes_notification_keys() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"moto\[[^\]]*\]>=5\.1\.9(,<[0-9.]+)?"', pyproject)
