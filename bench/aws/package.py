"""The function's deployment package: the entry point, ``event_handlers`` and Pillow, as a zip.

``event_handlers.tasks`` imports Pillow, which Lambda's Python runtime does not include, so the
package carries Pillow built for the function's runtime and architecture: this machine's own
install when it matches (same Python minor version, Linux, same architecture), else a wheel given
with ``--pillow-wheel`` (``pip download`` prints the exact command to get one). On moto no
function code runs, so ``local_package`` may carry this machine's Pillow whatever it is; that is
the one difference from a real deployment besides the endpoint, and the run's summary says so.
"""

from __future__ import annotations

import functools
import io
import platform
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import event_handlers
from bench.errors import InputError

ENTRY_SOURCE = Path(__file__).with_name("lambda_entry.py")
ENTRY_NAME = "pve_aws_handler.py"
ZIP_LIMIT_BYTES = 50 * 1024 * 1024  # direct-upload limit for a zipped package (Lambda quotas)
MACHINES = {"x86_64": ("x86_64", "amd64"), "arm64": ("aarch64", "arm64")}
WHEEL_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}
# The glibc of each runtime's OS. AWS Lambda Developer Guide, "Lambda runtimes": python3.12 and
# later run on Amazon Linux 2023, python3.9-3.11 on Amazon Linux 2; Amazon Linux 2023 User Guide,
# "Comparing AL2 and AL2023": glibc 2.34 against AL2's 2.26 (both read 2026-12-07).
RUNTIME_GLIBC = {"python3.9": (2, 26), "python3.10": (2, 26), "python3.11": (2, 26)}
AL2023_GLIBC = (2, 34)
LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


class PackagingError(InputError):
    """No Pillow for the function's runtime and architecture: says how to get one."""


def _tag(runtime: str) -> str:
    return "cp" + runtime.removeprefix("python").replace(".", "")


def local_matches(runtime: str, architecture: str) -> bool:
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return (
        here == runtime and sys.platform == "linux" and platform.machine().lower() in MACHINES[architecture]
    )


def download_command(runtime: str, architecture: str) -> str:
    version = runtime.removeprefix("python")
    return (
        f"pip download pillow --only-binary=:all: --no-deps --implementation cp --python-version {version} "
        f"--platform manylinux_2_28_{WHEEL_ARCH[architecture]} -d wheels/"
    )


def runtime_glibc(runtime: str) -> tuple[int, int]:
    return RUNTIME_GLIBC.get(runtime, AL2023_GLIBC)


def wheel_fits(platform_tag: str, architecture: str, glibc: tuple[int, int]) -> bool:
    """A manylinux platform tag for ``architecture`` needing at most ``glibc`` (PEP 600/599's
    names); musllinux, plain ``linux_*`` and other systems never load on Lambda's glibc."""
    arch = WHEEL_ARCH[architecture]
    match = re.fullmatch(rf"manylinux_(\d+)_(\d+)_{arch}", platform_tag)
    if match:
        return (int(match[1]), int(match[2])) <= glibc
    legacy = platform_tag.removesuffix(f"_{arch}")
    return legacy != platform_tag and LEGACY_MANYLINUX.get(legacy, (99, 0)) <= glibc


def check_wheel(wheel: Path, runtime: str, architecture: str) -> None:
    """The wheel must be Pillow for this CPython (its ABI, not the free-threaded ``t`` build, or the
    stable ``abi3``), and carry a manylinux tag for the architecture whose glibc the runtime's OS has."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        name, _, _, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename:
        raise PackagingError(f"--pillow-wheel {wheel}: not a wheel file name") from None
    if name != "pillow":
        raise PackagingError(f"--pillow-wheel {wheel}: not a Pillow wheel")
    cpython, glibc = _tag(runtime), runtime_glibc(runtime)
    fits = [
        t
        for t in tags
        if t.interpreter == cpython
        and t.abi in (cpython, "abi3")
        and wheel_fits(t.platform, architecture, glibc)
    ]
    if not fits:
        raise PackagingError(
            f"--pillow-wheel {wheel.name} is not for {runtime} ({cpython}, glibc "
            f"{glibc[0]}.{glibc[1]}) on Linux {architecture}; get one with: "
            f"{download_command(runtime, architecture)}"
        )


def _add_tree(archive: zipfile.ZipFile, root: Path, arcroot: str) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            archive.write(path, f"{arcroot}/{path.relative_to(root).as_posix()}")


def _zip(add_pillow: Callable[[zipfile.ZipFile], None]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.write(ENTRY_SOURCE, ENTRY_NAME)
        _add_tree(archive, Path(event_handlers.__file__).parent, "event_handlers")
        add_pillow(archive)
    data = buffer.getvalue()
    if len(data) > ZIP_LIMIT_BYTES:
        raise PackagingError(
            f"the function package is {len(data) / 1e6:.1f} MB, over Lambda's 50 MB zip limit"
        )
    return data


def _local_pillow(archive: zipfile.ZipFile) -> None:
    import PIL

    pil = Path(PIL.__file__).parent
    _add_tree(archive, pil, "PIL")
    if (pil.parent / "pillow.libs").is_dir():
        _add_tree(archive, pil.parent / "pillow.libs", "pillow.libs")


@functools.lru_cache(maxsize=1)
def code_only_package() -> bytes:
    """The entry point and ``event_handlers`` without Pillow: a function that could not import its
    tasks on Lambda, good only where no function code runs (moto, in tests that time themselves)."""
    return _zip(lambda archive: None)


@functools.lru_cache(maxsize=1)
def local_package() -> bytes:
    """The zip with this machine's Pillow (built once per process)."""
    return _zip(_local_pillow)


@functools.lru_cache(maxsize=8)
def build_package(runtime: str, architecture: str, wheel: Path | None = None) -> bytes:
    """The zip for a function on ``runtime``/``architecture``; refuses a Pillow that would not load."""
    if wheel is None:
        if not local_matches(runtime, architecture):
            raise PackagingError(
                f"the function runs {runtime} on {architecture}, but this machine's Pillow is for python"
                f"{sys.version_info.major}.{sys.version_info.minor} on {sys.platform}/{platform.machine()}: "
                f"get a matching wheel with '{download_command(runtime, architecture)}' and pass it "
                "with --pillow-wheel"
            )
        return local_package()
    check_wheel(wheel, runtime, architecture)

    def from_wheel(archive: zipfile.ZipFile) -> None:
        with zipfile.ZipFile(wheel) as source:
            for info in source.infolist():
                if info.filename.startswith(("PIL/", "pillow.libs/")) and not info.is_dir():
                    archive.writestr(info.filename, source.read(info))

    return _zip(from_wheel)
