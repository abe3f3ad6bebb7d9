"""The function's deployment package: the entry point, ``event_handlers`` and Pillow, as a zip.

``event_handlers.tasks`` imports Pillow, which Lambda's Python runtime does not include, so the
package carries this machine's Pillow. Its compiled parts must match the function: the same
Python minor version (the plan names the runtime after this interpreter) and Linux on the same
architecture. ``check_packaging`` refuses a mismatch before anything is deployed.
"""

from __future__ import annotations

import functools
import io
import platform
import sys
import zipfile
from pathlib import Path

import event_handlers

ENTRY_SOURCE = Path(__file__).with_name("lambda_entry.py")
ENTRY_NAME = "pve_aws_handler.py"
ZIP_LIMIT_BYTES = 50 * 1024 * 1024  # direct-upload limit for a zipped package (Lambda quotas)
MACHINES = {"x86_64": ("x86_64", "amd64"), "arm64": ("aarch64", "arm64")}


def check_packaging(architecture: str) -> None:
    """Pillow from this machine only runs on Lambda if this machine is Linux on ``architecture``."""
    machine = platform.machine().lower()
    if sys.platform != "linux" or machine not in MACHINES.get(architecture, ()):
        raise ValueError(
            f"the function package carries this machine's Pillow ({sys.platform}/{machine}), which "
            f"cannot run on Lambda {architecture}; deploy from Linux on {architecture} (e.g. CloudShell) "
            "or set function.architecture to match"
        )


def _add_tree(archive: zipfile.ZipFile, root: Path, arcroot: str) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            archive.write(path, f"{arcroot}/{path.relative_to(root).as_posix()}")


@functools.lru_cache(maxsize=1)
def build_package() -> bytes:
    """The zip (built once per process): entry point at the top, then the packages it imports."""
    import PIL

    pil = Path(PIL.__file__).parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.write(ENTRY_SOURCE, ENTRY_NAME)
        _add_tree(archive, Path(event_handlers.__file__).parent, "event_handlers")
        _add_tree(archive, pil, "PIL")
        libs = pil.parent / "pillow.libs"
        if libs.is_dir():
            _add_tree(archive, libs, "pillow.libs")
    data = buffer.getvalue()
    if len(data) > ZIP_LIMIT_BYTES:
        raise ValueError(f"the function package is {len(data) / 1e6:.1f} MB, over Lambda's 50 MB zip limit")
    return data
