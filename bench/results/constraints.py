"""The exact package versions behind ``results/reference/``: written once, checked on every run.

``constraints.txt`` at the repository root pins every distribution that ``poll-vs-events[dev]``
pulls in (its requirement closure, not everything else installed on the machine). Install with
``pip install -e ".[dev]" -c constraints.txt`` to reproduce the reference results with the same
moto, boto3, numpy, pandas and matplotlib; each summary records whether the running environment
matches it, and which packages differ.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

PROJECT = "poll-vs-events"
EXTRAS = ("dev",)
FILE = Path(__file__).resolve().parents[2] / "constraints.txt"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_closure(project: str = PROJECT, extras: tuple[str, ...] = EXTRAS) -> dict[str, str]:
    """Every installed distribution ``project[extras]`` needs, transitively: canonical name -> version."""
    found: dict[str, str] = {}
    pending: list[tuple[str, tuple[str, ...]]] = [(project, extras)]
    while pending:
        name, wanted = pending.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in ("", *wanted)):
                continue
            key = _canonical(req.name)
            if key in found:
                continue
            try:
                found[key] = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                continue
            pending.append((req.name, tuple(req.extras)))
    found.pop(_canonical(project), None)
    return dict(sorted(found.items()))


def render(pins: dict[str, str]) -> str:
    header = (
        "# The exact versions that produced results/reference/ (written by `pve reproduce --pin`).\n"
        '# Reproduce with: python -m pip install -e ".[dev]" -c constraints.txt\n'
    )
    return header + "".join(f"{name}=={version}\n" for name, version in pins.items())


def read_pins(path: Path = FILE) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[_canonical(match[1])] = match[2]
    return pins


def write_pins(path: Path = FILE) -> Path:
    path.write_text(render(requirement_closure()), encoding="utf-8")
    return path


@dataclass(frozen=True)
class ConstraintsCheck:
    """How the running environment stands against the pinned one."""

    file: str
    sha256: str | None
    differs: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # name -> (installed, pinned)

    @property
    def matches(self) -> bool:
        return self.sha256 is not None and not self.differs

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "matches": self.matches,
            "differs": {k: {"installed": v[0], "pinned": v[1]} for k, v in self.differs.items()},
        }


def check_constraints(path: Path = FILE) -> ConstraintsCheck:
    if not path.is_file():
        return ConstraintsCheck(path.name, None)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    differs: dict[str, tuple[str | None, str]] = {}
    for name, pinned in read_pins(path).items():
        try:
            installed: str | None = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pinned:
            differs[name] = (installed, pinned)
    return ConstraintsCheck(path.name, digest, differs)
