"""Functions a reader can hold in mind (issue 24, item 2), read from the code itself.

Every ``.py`` under ``pollers/``, ``event_handlers/`` and ``bench/`` is walked with ``ast``: no
function over 80 lines, no parameter list over 8 (``self``/``cls`` not counted, nor ``*args`` and
``**kwargs``), no dataclass, pydantic model or NamedTuple with more than 15 annotated fields (its
own and inherited); and no scenario spec read as ``getattr(spec, "field", default)``, which
restates the pydantic default (the spec's type says which fields it has). A justified exception
goes in ``ALLOWED`` below with its one-line reason; an entry that no longer breaks a limit is an
error too, so the list only ever shrinks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pollers", "event_handlers", "bench")

MAX_FUNCTION_LINES = 80
MAX_PARAMETERS = 8
MAX_FIELDS = 15

# (limit, "path::qualified name") -> why it may stay over the limit.
_POLLER_SETTINGS = (
    "public constructor (FolderPoller/S3Poller are a named contract): keyword-only settings with "
    "safe defaults; an options object would break every caller and still leave more than 8"
)

ALLOWED: dict[tuple[str, str], str] = {
    # Justified: summary.json's published schema (bench/results/model.py), the fields ARE the contract.
    ("fields", "bench/results/model.py::StrategyResult"): (
        "one strategy in summary.json: its 33 fields are the published JSON keys, read by attribute"
    ),
    ("fields", "bench/results/model.py::Run"): (
        "summary.json's top level: its 16 fields are the published JSON keys, read by attribute"
    ),
    ("params", "bench/decide/rank.py::Workload.__init__"): (
        "pve decide's public constructor keeps every knob by its flat name (its noqa says so)"
    ),
    # Justified: the pollers' public constructors (each def carries a matching noqa).
    ("params", "pollers/loop.py::PollLoop.__init__"): (
        "public constructor (PollLoop(...) is the pollers' documented entry point): keyword-only "
        "collaborators and test clocks with safe defaults; an options object would break every caller"
    ),
    ("params", "pollers/s3.py::S3Poller.__init__"): _POLLER_SETTINGS,
    ("params", "pollers/folder.py::FolderPoller.__init__"): _POLLER_SETTINGS,
}


@dataclass(frozen=True)
class Breach:
    """One limit broken at one place: ``where`` names the file and line, ``key`` the allowlist entry."""

    limit: str
    key: str
    where: str
    size: int

    def __str__(self) -> str:
        name = self.key.split("::")[1]
        return (
            f"{self.where} {name}"
            if self.limit == "getattr"
            else f"{self.where} {name}: {self.size} {self.limit}"
        )


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _parameter_count(args: ast.arguments) -> int:
    """Named parameters; a leading ``self``/``cls`` is the receiver (a patch function's too)."""
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    if names and names[0] in {"self", "cls"}:
        names = names[1:]
    return len(names)


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _fields(cls: ast.ClassDef, classes: dict[str, list[ast.ClassDef]]) -> int:
    """A record's fields with those it inherits from the packages' own classes (a base named once):
    splitting a wide model into a base and a subclass does not make it narrower to read."""
    total = _own_fields(cls)
    for base in cls.bases:
        found = classes.get(_base_name(base), [])
        if len(found) == 1 and found[0] is not cls:
            total += _fields(found[0], classes)
    return total


def _own_fields(cls: ast.ClassDef) -> int:
    """Annotated names in the class body, ``ClassVar`` left out (it is no field)."""
    return sum(
        1
        for stmt in cls.body
        if isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and "ClassVar" not in ast.unparse(stmt.annotation)
    )


def _model_class_names(trees: dict[Path, ast.Module]) -> set[str]:
    """Names of the classes whose annotations are fields: pydantic, NamedTuple, their subclasses."""
    models = {"BaseModel", "NamedTuple", "TypedDict", "BaseSettings"}
    classes = [node for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for cls in classes:
            if cls.name not in models and any(_base_name(b) in models for b in cls.bases):
                models.add(cls.name)
                grew = True
    return models


def _is_record_class(cls: ast.ClassDef, models: set[str]) -> bool:
    if any(_decorator_name(d) == "dataclass" for d in cls.decorator_list):
        return True
    return any(_base_name(b) in models for b in cls.bases)


def _walk(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Every function and class, nested ones too, with its qualified name."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from _walk(node, f"{name}.")
        else:
            yield from _walk(node, prefix)


def breaches() -> list[Breach]:
    """Every place in the three packages that breaks one of the limits, allowlisted or not."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in _source_files()}
    models = _model_class_names(trees)
    classes: dict[str, list[ast.ClassDef]] = {}
    for cls in (n for tree in trees.values() for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        classes.setdefault(cls.name, []).append(cls)
    found: list[Breach] = []
    for path, tree in trees.items():
        rel = path.relative_to(ROOT).as_posix()
        for name, node in _walk(tree):
            key, where = f"{rel}::{name}", f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ClassDef):
                fields = _fields(node, classes)
                if _is_record_class(node, models) and fields > MAX_FIELDS:
                    found.append(Breach("fields", key, where, fields))
                continue
            assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = (node.end_lineno or node.lineno) - first + 1
            if lines > MAX_FUNCTION_LINES:
                found.append(Breach("lines", key, where, lines))
            params = _parameter_count(node.args)
            if params > MAX_PARAMETERS:
                found.append(Breach("params", key, where, params))
        found += _spec_getattrs(tree, rel)
    return found


SPEC_NAMES = {"spec", "strategy"}


def _spec_getattrs(tree: ast.AST, rel: str) -> list[Breach]:
    """``getattr(spec, "x", default)``: a field read by name with a default of its own."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"):
            continue
        if len(node.args) == 3 and isinstance(node.args[0], ast.Name) and node.args[0].id in SPEC_NAMES:
            field_name = ast.literal_eval(node.args[1]) if isinstance(node.args[1], ast.Constant) else "?"
            key = f"{rel}::getattr({node.args[0].id}, {field_name!r})"
            found.append(Breach("getattr", key, f"{rel}:{node.lineno}", 1))
    return found


def _unallowed(limit: str) -> str:
    """The breaches of one limit no allowlist entry excuses, one ``file:line name: size`` a line."""
    return "\n".join(str(b) for b in breaches() if b.limit == limit and (b.limit, b.key) not in ALLOWED)


def test_no_function_is_longer_than_80_lines() -> None:
    offenders = _unallowed("lines")
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines:\n{offenders}"


def test_no_parameter_list_is_longer_than_8() -> None:
    offenders = _unallowed("params")
    assert not offenders, f"parameter lists over {MAX_PARAMETERS}:\n{offenders}"


def test_no_record_class_has_more_than_15_fields() -> None:
    offenders = _unallowed("fields")
    assert not offenders, f"dataclasses/models with more than {MAX_FIELDS} fields:\n{offenders}"


def test_no_spec_field_is_read_by_name_with_a_default_of_its_own() -> None:
    offenders = _unallowed("getattr")
    assert not offenders, f"typed access instead of getattr(spec, name, default):\n{offenders}"


def test_every_allowlist_entry_still_breaks_its_limit() -> None:
    """An exception that is no longer needed goes, so the list cannot hide a new breach later."""
    live = {(b.limit, b.key) for b in breaches()}
    stale = "\n".join(f"{limit} {key}" for limit, key in sorted(set(ALLOWED) - live))
    assert not stale, f"allowlist entries that break no limit any more, remove them:\n{stale}"


def test_the_walker_sees_each_kind_of_breach(tmp_path: Path) -> None:
    """The checks themselves: a long function, a long parameter list and a wide model are found."""
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    fields = "\n".join(f"    f{i}: int" for i in range(MAX_FIELDS + 1))
    source = (
        "from pydantic import BaseModel\n"
        f"def long():\n{body}\n"
        f"def wide({', '.join(f'a{i}' for i in range(MAX_PARAMETERS + 1))}): pass\n"
        "class Base(BaseModel):\n    pass\n"
        f"class Wide(Base):\n{fields}\n"
        "class Fine:\n    def m(self, a, b, c, d, e, f, g, h): pass\n"
        "def read(spec): return getattr(spec, 'cursor', 'seen-set'), getattr(spec, 'kind')\n"
    )
    tree = ast.parse(source)
    models = _model_class_names({tmp_path: tree})
    names = dict(_walk(tree))
    wide_model = names["Wide"]
    assert isinstance(wide_model, ast.ClassDef)
    assert _is_record_class(wide_model, models)
    assert _own_fields(wide_model) == MAX_FIELDS + 1
    split = ast.parse("class A(BaseModel):\n    a: int\n    b: int\nclass B(A):\n    c: int\n")
    first, second = (n for n in split.body if isinstance(n, ast.ClassDef))
    assert _fields(second, {"A": [first], "B": [second]}) == 3
    long_fn, wide_fn, method = names["long"], names["wide"], names["Fine.m"]
    assert isinstance(long_fn, ast.FunctionDef)
    assert isinstance(wide_fn, ast.FunctionDef)
    assert isinstance(method, ast.FunctionDef)
    assert (long_fn.end_lineno or 0) - long_fn.lineno + 1 > MAX_FUNCTION_LINES
    assert _parameter_count(wide_fn.args) == MAX_PARAMETERS + 1
    assert _parameter_count(method.args) == MAX_PARAMETERS
    assert [str(b) for b in _spec_getattrs(tree, "x.py")] == [
        f"x.py:{MAX_FUNCTION_LINES + 25} getattr(spec, 'cursor')"
    ]
