"""The course site builds, and every page loads in a real headless browser with its pictures and links.

Debian's chromium (``/usr/bin/chromium``, installed by ``.ci/run``) is driven by Playwright; the site
is served from 127.0.0.1. Nothing leaves the machine: off-site links are listed, not followed.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_site", ROOT / "notebooks" / "site" / "build.py")
    assert spec is not None
    assert spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    index = builder.build(strict=True)

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(index.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def pages(base_folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(base_folder)) for p in base_folder.rglob("*.html") if p.name != "404.html"
    )


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # 127.0.0.1 only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_every_page_loads_with_its_pictures_and_links(site: str) -> None:
    from playwright.sync_api import sync_playwright

    folder = ROOT / "build" / "site"
    names = pages(folder)
    assert "index.html" in names
    assert any(n.startswith("notebooks/") for n in names)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        for name in names:
            response = page.goto(f"{site}/{name}", wait_until="load")
            if response is None or response.status != 200:
                problems.append(f"{name}: status {response.status if response else 'none'}")
                continue
            broken_images = page.evaluate(
                "[...document.images].filter(i => i.src.startsWith(location.origin)"
                " && !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
            )
            problems += [f"{name}: picture {src} does not render" for src in broken_images]
            links = page.evaluate(
                "[...document.links].map(a => a.href).filter(h => h.startsWith(location.origin))"
            )
            for link in sorted(set(links)):
                target = link.split("#")[0]
                if status(target) != 200:
                    problems.append(f"{name}: broken link {link}")
        browser.close()
    assert problems == []


def test_the_readme_pictures_are_on_the_home_page(site: str) -> None:
    html = (ROOT / "build" / "site" / "index.html").read_text(encoding="utf-8")
    assert "results/reference/cost/monthly_cost.png" in html
