"""The registry is the only place that knows a strategy kind (issue 24): no module outside it
(and scenario parsing) decides by comparing a kind with a string literal. A stage that needs to
know something about a kind asks the kind's row (``bench.scenario.kinds.facet``,
``bench.cost.deployments.row``), so a new kind cannot fall through a string test unnoticed.

The rule is read from the syntax tree: a comparison (``==``, ``!=``, ``in``, ``not in``), a
``match`` case, or a ``.startswith(...)`` call, where one side is a kind (a name or attribute
called ``kind`` or ending in ``_kind``, a ``["kind"]`` subscript, or ``str()`` of one) and the
other a string constant (or a tuple/list/set of them) that is a strategy or deployment kind's
value, or for ``startswith`` a prefix of one. Other "kind" vocabularies (content kinds "csv",
backend kinds, message kinds "done") use values no strategy kind has, so they pass.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cost.deployment import DeploymentKind
from bench.scenario.kinds import Kind

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("bench", "pollers", "event_handlers")
# where a kind is known by its value: the registry, the deployment table, and scenario parsing
ALLOWED = {
    "bench/scenario/kinds.py",
    "bench/kinds.py",
    "bench/cost/deployment.py",
    "bench/cost/deployments.py",
    "bench/scenario/spec.py",
}
KIND_VALUES = frozenset(k.value for k in Kind) | frozenset(k.value for k in DeploymentKind)


def _is_kind_name(name: str) -> bool:
    return name == "kind" or name.endswith("_kind")


def _is_kind(node: ast.expr) -> bool:
    """``node`` reads a kind: ``kind``, ``x.kind``, ``x._kind``, ``x["kind"]``, ``str(kind)``,
    or an attribute or item of one (``kind.value``, ``rows["kind"].iloc[0]``)."""
    if isinstance(node, ast.Name):
        return _is_kind_name(node.id)
    if isinstance(node, ast.Attribute):
        return _is_kind_name(node.attr) or _is_kind(node.value)
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and _is_kind_name(key.value):
            return True
        return _is_kind(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return len(node.args) == 1 and _is_kind(node.args[0])
    return False


def _strings(node: ast.AST) -> list[str]:
    """The string constants ``node`` is, or holds as a tuple/list/set display."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for e in node.elts for s in _strings(e)]
    return []


def _kind_values(node: ast.AST, *, prefix: bool = False) -> list[str]:
    """The strategy/deployment kind values among ``node``'s string constants (or, with
    ``prefix``, the constants that begin one)."""
    found = _strings(node)
    if prefix:
        return [s for s in found if s and any(v.startswith(s) for v in KIND_VALUES)]
    return [s for s in found if s in KIND_VALUES]


def _compared(node: ast.Compare) -> Iterator[str]:
    sides = [node.left, *node.comparators]
    for left, op, right in zip(sides, node.ops, sides[1:], strict=False):
        if isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
            for a, b in ((left, right), (right, left)):
                if _is_kind(a):
                    yield from _kind_values(b)


def _started(node: ast.Call) -> Iterator[str]:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "startswith" and _is_kind(func.value) and node.args:
        yield from _kind_values(node.args[0], prefix=True)


def _matched(node: ast.Match) -> Iterator[str]:
    if _is_kind(node.subject):
        for case in node.cases:
            for pattern in ast.walk(case.pattern):
                if isinstance(pattern, ast.MatchValue):
                    yield from _kind_values(pattern.value)


def kind_literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Each (line, value) where ``tree`` compares a kind with a kind's literal value."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            yield from ((node.lineno, v) for v in _compared(node))
        elif isinstance(node, ast.Call):
            yield from ((node.lineno, v) for v in _started(node))
        elif isinstance(node, ast.Match):
            yield from ((node.lineno, v) for v in _matched(node))


def offences(root: Path = ROOT) -> list[str]:
    found = []
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel in ALLOWED:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            found += [f"{rel}:{line}: kind compared with {value!r}" for line, value in kind_literals(tree)]
    return found


def test_no_module_outside_the_registry_compares_a_kind_with_a_kind_literal() -> None:
    found = offences()
    assert not found, "ask the kind's row instead of comparing its value:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'if kind == "poll": pass',
        'if "s3-sqs-lambda" != spec.kind: pass',
        'if d.kind in ("s3-lambda", "hybrid"): pass',
        'if self._kind not in {"inotify"}: pass',
        'if deployment_kind == "poll-ec2": pass',
        'if str(option.kind).startswith("poll"): pass',
        'if rows["kind"].iloc[0].startswith("s3"): pass',
        'match s.kind:\n    case "scheduled-poll": pass',
    ],
)
def test_the_rule_flags_each_way_of_comparing_a_kind_with_its_literal(source: str) -> None:
    assert list(kind_literals(ast.parse(source)))


@pytest.mark.parametrize(
    "source",
    [
        'if content.kind == "csv": pass',  # a content kind
        'if env.kind == "folder": pass',  # a backend's environment
        'if message.kind in ("done", "error"): pass',  # a message kind
        'if name == "poll": pass',  # not a kind
        "if kind is Kind.POLL: pass",  # the enum, not a literal
        'if backend_kind.startswith("x"): pass',  # no kind begins so
    ],
)
def test_the_rule_leaves_other_kinds_and_enum_comparisons_alone(source: str) -> None:
    assert not list(kind_literals(ast.parse(source)))
