"""The notebooks run top to bottom (slow), and the README's numbers are the committed results'."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from bench.reproduce import BLOCKS, blocks, readme_blocks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REFERENCE = ROOT / "results" / "reference"


def test_there_are_four_notebooks_committed_with_their_outputs() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_polling_vs_events.ipynb",
        "02_what_does_it_cost.ipynb",
        "03_when_events_go_wrong.ipynb",
        "04_reproduce_the_comparison.ipynb",
    ]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert all(c.get("outputs") is not None for c in code), path.name
        assert sum(bool(c.get("outputs")) for c in code) >= len(code) // 2, (
            f"{path.name} was saved without outputs"
        )
        first = notebook.cells[0].source
        assert "What you will learn" in first, path.name
        assert "Exercises" in notebook.cells[-1].source, path.name


def test_readme_blocks_match_the_committed_results() -> None:
    """Every number in the README's findings and quickstart table is read from results/reference."""
    assert readme_blocks(ROOT / "README.md") == blocks(REFERENCE)
    assert set(BLOCKS) == {"quickstart", "findings"}


def test_every_reference_folder_says_how_it_was_made() -> None:
    folders = [p for p in REFERENCE.iterdir() if p.is_dir()]
    assert len(folders) >= 14
    for folder in folders:
        command = (folder / "COMMAND.txt").read_text().strip()
        # the benchmark baseline is made by pytest-benchmark, every other folder by pve
        assert command.startswith(("pve ", "python -m pytest benchmarks")), folder.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    """Executed as a student would, from the notebooks folder (each under 90 s on 2 cores)."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert errors == []
