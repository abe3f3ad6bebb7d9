"""Where and with what a run was made, captured automatically (as pyperf does)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.results.constraints import check_constraints
from bench.results.model import Environment, ProfileInfo

PACKAGES = ("boto3", "botocore", "moto", "pandas", "numpy", "matplotlib", "watchdog", "pillow")


def capture_environment(started: datetime | None = None) -> Environment:
    started = started or datetime.now(UTC)
    return Environment.model_validate(
        {
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "packages": {name: _version(name) for name in PACKAGES},
            "pve_version": _version("poll-vs-events"),
            "constraints": check_constraints().as_dict(),
            "git_commit": git_commit(),
            "started_at": started.isoformat(timespec="seconds"),
            "hostname": platform.node(),
        }
    )


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def git_commit(folder: Path | None = None) -> str | None:
    """The commit of the checkout this code runs from, with ``-dirty`` if its code has changes
    (results and notebooks, which runs write, do not count)."""
    folder = folder or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results", ":!notebooks"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def profile_info(profile: Any) -> ProfileInfo:
    """What a results file records of the latency profile a run used."""
    return ProfileInfo.model_validate(
        {
            "name": profile.name,
            "adds_delay": profile.adds_delay,
            "description": profile.description,
            "source": profile.path,
            "routes": {
                r: {"kind": d.kind, **dict(d.params), "source": d.source} for r, d in profile.routes.items()
            },
        }
    )
