"""The instructor's guide's expected answers hold: each row of its answers table is found in the
executed notebook's outputs within its range, and the deterministic ones are recomputed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from bench import Requirements, break_even, decide_for, load_pricing, required_deployments, two_sig

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "notebooks" / "INSTRUCTOR.md"
NOTEBOOK = {
    "02": "02_what_does_it_cost",
    "04": "04_reproduce_the_comparison",
    "05": "05_which_one_should_i_use",
    "06": "06_wiring_it_up",
    "07": "07_your_own_traffic",
}


@dataclass(frozen=True)
class Answer:
    id: str
    notebook: str
    expected: str
    low: float | None
    high: float | None


def guide_answers() -> list[Answer]:
    text = GUIDE.read_text(encoding="utf-8")
    table = text.split("<!-- answers:start -->", 1)[1].split("<!-- answers:end -->", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in table.strip().splitlines()[2:]]
    out = []
    for cells in rows:
        id_, notebook, _what, expected, low, high = (c.strip() for c in cells)
        out.append(
            Answer(
                id_,
                notebook,
                expected,
                None if low == "-" else float(low),
                None if high == "-" else float(high),
            )
        )
    return out


def outputs(notebook: str, tag: str | None = None) -> str:
    document = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK[notebook]}.ipynb", as_version=4)
    texts = []
    for cell in document.cells:
        if cell.cell_type != "code" or (tag and tag not in cell.metadata.get("tags", [])):
            continue
        for output in cell.outputs:
            data = output.get("data", {})  # a displayed Markdown's text is its text/markdown
            texts.append(output.get("text") or data.get("text/markdown") or data.get("text/plain", ""))
    return "\n".join(texts)


def parameters(notebook: str) -> dict[str, object]:
    document = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK[notebook]}.ipynb", as_version=4)
    cell = next(c for c in document.cells if "parameters" in c.metadata.get("tags", []))
    namespace: dict[str, object] = {}
    exec(cell.source, namespace)  # the notebook's own parameters cell: assignments only
    return namespace


# id -> (cell tag or None, pattern whose first group is the value as the notebook shows it)
SHOWN: dict[str, tuple[str | None, str]] = {
    "nb04.poll1s.p50": ("answer-run-table", r"^poll-1s\s+poll\s+\d+\s+\d+\s+([\d.]+) s"),
    "nb04.month.poll1min.p50": ("answer-month", r"^poll-1min\s+([\d.]+) s"),
    "nb04.month.s3lambda.p50": ("answer-month", r"^s3-lambda\s+([\d.]+) s"),
    "nb04.month.s3lambda.bill": ("answer-month", r"^s3-lambda\s.*\$([\d.,]+)\s*$"),
    "nb04.month.poll1s.bill": ("answer-month", r"^poll-1s\s.*\$([\d.,]+)\s*$"),
    "nb02.break_even.defaults": ("answer-requirements", r"^defaults \(inputs kept, 2 AZs\): \*\*(.+?)\*\*"),
    "nb02.break_even.inputs_deleted": ("answer-requirements", r"; inputs deleted: \*\*([\d,]+) files/day"),
    "nb02.break_even.deleted_one_instance": (
        "answer-requirements",
        r"; inputs deleted, one instance: \*\*([\d,]+) files/day",
    ),
    "nb05.recommended": ("answer-recommendation", r"^Recommended: (.+)$"),
    "nb05.bill": ("answer-recommendation", r"^Its bill: \$([\d.,]+)"),
    "nb07.bursty.verdict": ("answer-fleet", r"^bursty/\s+(.+?)\s{2,}"),
    "nb07.steady.saving": ("answer-fleet", r"^steady/\s+.*\$([\d.]+)\s*$"),
    "nb07.bursty.sqs_p95": (
        "answer-lesson",
        r"^S3 -> SQS -> Lambda\s+[\d.]+ s, \$[\d.]+\s+[\d.]+ s, \$[\d.]+\s+([\d.]+) s",
    ),
    "nb05.p95": ("answer-recommendation", r"p95 ([\d.]+) s$"),
    "nb06.seed_arn": (None, r"^seed's SourceArn:\s+(\S+)"),
    "nb06.object_events": (None, r"(\d+) object event"),
    "nb06.plan_resources": (None, r"run id \w+: (\d+) resources"),
}


def _exercise() -> tuple[str | None, float, str]:
    (team,) = decide_for([2_000_000], latency_p95_s=120, retention_days=90, interval_s=60)
    best = next(o for o in team.options if o.name == team.recommendation)
    cannot = ", ".join(o.name for o in team.options if not o.feasible)
    return team.recommendation, best.monthly_point, cannot


def _defaults() -> tuple[str | None, float, float]:
    p = parameters("05")
    (mine,) = decide_for(
        [p["FILES_PER_DAY"]],
        profile=p["PROFILE"],
        latency_p95_s=p["LATENCY_P95_S"],
        retention_days=p["RETENTION_DAYS"],
        interval_s=p["INTERVAL_S"],
        memory_mb=p["MEMORY_MB"],
        cpu_s=p["CPU_S"],
        wait_s=p["WAIT_S"],
    )
    best = next(o for o in mine.options if o.name == mine.recommendation)
    return mine.recommendation, best.monthly_point, best.latency.p95


def _idle_list_usd(interval_s: float) -> float:
    """An idle inbox poller's month of LISTs: one request per cycle, at the table's LIST price."""
    pricing = load_pricing()
    return pricing.month_s / interval_s * pricing["s3_put_copy_post_list"]


def _inbox_break_even(interval_s: float = 60, **requirements: str) -> str:
    """Notebook 2's pair (the inbox poller and S3 -> Lambda, its work model) built to the same
    requirements, and where their bills cross, as the notebook shows it."""
    built = required_deployments(
        Requirements.build(**requirements), interval_s=interval_s, memory_mb=128, cpu_s=0.05, wait_s=0.05
    )
    poller = next(d for d in built if d.cursor == "inbox")
    events = next(d for d in built if d.kind == "s3-lambda")
    rate = break_even(poller, events)
    return "never within the range" if rate is None else two_sig(rate)


# id -> the value recomputed with the library (seeded, so the same on every machine)
RECOMPUTED: dict[str, Callable[[], object]] = {
    "nb01.idle_list_3s": lambda: _idle_list_usd(3),
    "nb02.idle_list_60s": lambda: _idle_list_usd(60),
    "nb02.idle_list_20s": lambda: _idle_list_usd(20),
    "nb02.idle_list_10s": lambda: _idle_list_usd(10),
    "nb02.break_even.defaults": lambda: _inbox_break_even(),
    "nb02.break_even.inputs_deleted": lambda: _inbox_break_even(inputs="delete"),
    "nb02.break_even.deleted_one_instance": lambda: _inbox_break_even(inputs="delete", availability="single"),
    "nb02.exercise.break_even_60s": lambda: _inbox_break_even(60, inputs="delete"),
    "nb02.exercise.break_even_20s": lambda: _inbox_break_even(20, inputs="delete"),
    "nb02.exercise.break_even_10s": lambda: _inbox_break_even(10, inputs="delete"),
    "nb05.recommended": lambda: _defaults()[0],
    "nb05.bill": lambda: _defaults()[1],
    "nb05.p95": lambda: _defaults()[2],
    "nb05.exercise.recommended": lambda: _exercise()[0],
    "nb05.exercise.bill": lambda: _exercise()[1],
    "nb05.exercise.cannot_run": lambda: _exercise()[2],
}

ANSWERS = guide_answers()


def test_the_guide_lists_every_checked_answer_and_only_those() -> None:
    from tests.test_exercises import EXERCISE  # the exercises' answers, checked as students run them

    assert {a.id for a in ANSWERS} == set(SHOWN) | set(RECOMPUTED) | set(EXERCISE)


def _holds(answer: Answer, value: object) -> None:
    if answer.low is None:
        assert str(value) == answer.expected, answer.id
    else:
        assert answer.high is not None
        number = float(str(value).replace(",", ""))
        assert answer.low <= number <= answer.high, (
            f"{answer.id}: {number} outside {answer.low}-{answer.high}"
        )


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.id)
def test_the_guides_expected_value_lies_in_its_own_range(answer: Answer) -> None:
    if answer.low is not None:
        _holds(answer, answer.expected)


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a.id in SHOWN], ids=lambda a: a.id)
def test_the_executed_notebook_shows_the_expected_answer(answer: Answer) -> None:
    tag, pattern = SHOWN[answer.id]
    match = re.search(pattern, outputs(answer.notebook, tag), re.MULTILINE)
    assert match is not None, f"{answer.id}: not found in notebook {answer.notebook}'s outputs"
    _holds(answer, match.group(1).strip())


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a.id in RECOMPUTED], ids=lambda a: a.id)
def test_the_library_recomputes_the_expected_answer(answer: Answer) -> None:
    _holds(answer, RECOMPUTED[answer.id]())
