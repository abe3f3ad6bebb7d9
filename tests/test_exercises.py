"""Each notebook's exercise, done as a student does it: the scaffold filled in with the solution's values,
the notebook run top to bottom from a copy outside the repository, then the exercise cells run a second
time in the same kernel (a student who tries again); what they print is checked against the ranges of
notebooks/INSTRUCTOR.md's answers table (slow: each notebook runs live)."""

from __future__ import annotations

import copy
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.test_instructor_guide import ANSWERS, Answer
from tests.test_notebooks_and_readme import BUDGET_S

ROOT = Path(__file__).resolve().parent.parent
EXERCISE_TAG = "exercise"  # the scaffold cell (and notebook 6's check cell) carry it

# What a student types into each scaffold: (the scaffold's text, the solution's), each found exactly once.
FILLS: dict[str, list[tuple[str, str]]] = {
    "01_polling_vs_events": [
        ("intervals = ()", "intervals = (2, 2.5, 3, 3.5)"),
        ("interval_for_bill = None", "interval_for_bill = 3"),
    ],
    "02_what_does_it_cost": [("intervals = ()", "intervals = (60, 20, 10)")],
    "03_when_events_go_wrong": [("loss = None", "loss = 0.3")],
    "04_reproduce_the_comparison": [("EX_PROFILE = None", 'EX_PROFILE = "aws"')],
    "05_which_one_should_i_use": [
        ("EX_RATE = None", "EX_RATE = 2_000_000"),
        ("EX_P95_S = None", "EX_P95_S = 120"),
        ("EX_RETENTION_DAYS = None", "EX_RETENTION_DAYS = 90"),
    ],
    "06_wiring_it_up": [
        ('source_arn = f"arn:aws:s3:::${bucket_name}"', "source_arn = bucket_arn(bucket_name)"),
        (
            '    "ArnLike": {"aws:SourceArn": source_arn},\n}',
            '    "ArnLike": {"aws:SourceArn": source_arn},\n'
            '    "StringEquals": {"aws:SourceAccount": ACCOUNT},\n}',
        ),
    ],
    "07_your_own_traffic": [("EX_BURSTS = None", "EX_BURSTS = 24")],
}

# answer id -> the pattern whose first group is the value as the exercise cells print it
EXERCISE: dict[str, str] = {
    "nb01.exercise.poll3s.p50": r"^poll-3s\s+median ([\d.]+) s",
    "nb01.exercise.s3lambda.p50": r"^s3-lambda\s+median ([\d.]+) s",
    "nb01.idle_list_3s": r"^idle LIST \$([\d.]+) a month",
    "nb02.idle_list_60s": r"^every 60 s: idle LIST \$([\d.]+)",
    "nb02.idle_list_20s": r"^every 20 s: idle LIST \$([\d.]+)",
    "nb02.idle_list_10s": r"^every 10 s: idle LIST \$([\d.]+)",
    "nb02.exercise.break_even_60s": r"^every 60 s: .*break-even with S3 -> Lambda ([\d,]+) files/day",
    "nb02.exercise.break_even_20s": r"^every 20 s: .*break-even with S3 -> Lambda ([\d,]+) files/day",
    "nb02.exercise.break_even_10s": r"^every 10 s: .*break-even with S3 -> Lambda ([\d,]+) files/day",
    "nb03.exercise.missed": r"^loss 0.3: S3 -> Lambda missed (\d+) of 50",
    "nb03.exercise.hybrid_processed": r"the hybrid processed (\d+) of 50",
    "nb03.exercise.sweep": r"(\d+) found by its sweep",
    "nb03.exercise.twice": r"(\d+) processed twice$",
    "nb04.exercise.events_sqs": r"^events-sqs\s+(\S+)",
    "nb04.exercise.notes": r"^notes: .*(latency_profile)",
    "nb05.exercise.recommended": r"^(.+?) \| ",
    "nb06.exercise.route": r"^(the route is right)$",
    "nb07.exercise.busiest_minute": r"^busiest minute ([\d,]+) files",
    "nb07.exercise.verdict": r"^(.+?) \| ",
    "nb07.exercise.saving": r"events save \$([\d.,]+) a month",
}


@dataclass(frozen=True)
class Attempt:
    """The outputs of the exercise cells on the first run (with the notebook) and on the second."""

    first: str
    second: str
    notebook_s: float


def filled(path: Path) -> nbformat.NotebookNode:
    """The notebook as a learner gets it (no outputs), its scaffold filled in with the solution."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    scaffolds = [c for c in notebook.cells if EXERCISE_TAG in c.metadata.get("tags", [])]
    for old, new in FILLS[path.stem]:
        holders = [c for c in scaffolds if old in c.source]
        assert len(holders) == 1, f"{path.stem}: {old!r} in {len(holders)} scaffold cells"
        assert holders[0].source.count(old) == 1, f"{path.stem}: {old!r} more than once"
        holders[0].source = holders[0].source.replace(old, new)
    return notebook


def _text(cells: list[nbformat.NotebookNode]) -> str:
    texts = []
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts.append(output.get("text") or data.get("text/markdown") or data.get("text/plain", ""))
    return "\n".join(texts)


def attempt(path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Attempt:
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    shutil.copy2(path, folder / path.name)
    monkeypatch.chdir(folder)
    notebook = filled(folder / path.name)
    client = NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    exercise = [i for i, c in enumerate(notebook.cells) if EXERCISE_TAG in c.metadata.get("tags", [])]
    assert exercise, f"{path.stem}: no cell tagged {EXERCISE_TAG!r}"
    with client.setup_kernel():
        started = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)  # raises on the first error, naming the cell
        notebook_s = time.perf_counter() - started
        again = [copy.deepcopy(notebook.cells[i]) for i in exercise]
        for index, cell in zip(exercise, again, strict=True):
            cell.outputs = []
            client.execute_cell(cell, index)
    return Attempt(_text([notebook.cells[i] for i in exercise]), _text(again), notebook_s)


def _holds(answer: Answer, shown: str) -> None:
    if answer.low is None:
        assert shown == answer.expected, f"{answer.id}: {shown!r}, expected {answer.expected!r}"
        return
    assert answer.high is not None
    number = float(shown.replace(",", ""))
    assert answer.low <= number <= answer.high, f"{answer.id}: {number} outside {answer.low}-{answer.high}"


NOTEBOOKS = sorted(FILLS)


def test_every_exercise_answer_is_in_the_guide_and_names_its_notebook() -> None:
    guide = {a.id: a for a in ANSWERS}
    assert set(EXERCISE) <= set(guide)
    for id_ in EXERCISE:
        assert any(stem.startswith(guide[id_].notebook) for stem in NOTEBOOKS), id_


def test_each_scaffold_holds_the_text_its_solution_replaces() -> None:
    """A scaffold edited so the fill no longer applies fails here, without running anything."""
    for stem in NOTEBOOKS:
        filled(ROOT / "notebooks" / f"{stem}.ipynb")


@pytest.mark.slow
@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_the_exercise_works_twice_in_one_kernel_as_its_solution_says(
    stem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: object
) -> None:
    done = attempt(ROOT / "notebooks" / f"{stem}.ipynb", tmp_path, monkeypatch)
    record_property("seconds", round(done.notebook_s, 1))  # type: ignore[operator]
    print(f"{stem}: the notebook with its exercise filled in ran in {done.notebook_s:.1f} s")
    answers = [a for a in ANSWERS if a.id in EXERCISE and stem.startswith(a.notebook)]
    assert answers, stem
    for output in (done.first, done.second):
        for answer in answers:
            match = re.search(EXERCISE[answer.id], output, re.MULTILINE)
            assert match is not None, f"{answer.id}: not printed by the exercise cells:\n{output[-2000:]}"
            _holds(answer, match.group(1).strip())
    if stem == "02_what_does_it_cost":  # the solution says the break-even moves up with a shorter interval
        shown = re.findall(r"break-even with S3 -> Lambda ([\d,]+)", done.first)
        rates = [float(m.replace(",", "")) for m in shown]
        assert len(rates) == 3, rates
        assert rates == sorted(rates), rates
    assert done.notebook_s < BUDGET_S, f"{stem} took {done.notebook_s:.0f} s with its exercise filled in"
