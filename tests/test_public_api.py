"""What notebooks and users may rely on: ``bench``'s exported names, its version, and nothing deeper."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bench

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_IMPORT = re.compile(r"^\s*(?:from|import)\s+(bench[\w.]*)", re.MULTILINE)


@pytest.mark.parametrize("name", sorted(set(bench.__all__) - {"__version__"}))
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(bench, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'draw_results_typo'"):
        _ = bench.draw_results_typo  # type: ignore[attr-defined]


def test_version_comes_from_the_installed_metadata() -> None:
    from importlib import metadata

    assert bench.__version__ == metadata.version("poll-vs-events")
    shown = subprocess.run(
        [sys.executable, "-m", "bench", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == f"pve {bench.__version__}"


def notebook_imports(path: Path) -> set[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return set(NOTEBOOK_IMPORT.findall(code))


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_import_only_the_public_api(notebook: Path) -> None:
    assert notebook_imports(notebook) <= {"bench"}


def test_pve_diagrams_draws_both_architectures(tmp_path: Path) -> None:
    from bench.cli import main

    assert main(["diagrams", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.png", "fanout.png", "polling.png"]
    assert all(p.stat().st_size > 10_000 for p in tmp_path.iterdir())
