"""The course site builds, and every page loads in a real headless browser with its pictures and links.

Debian's chromium (``/usr/bin/chromium``, installed by ``.ci/run``) is driven by Playwright; the site
is served from 127.0.0.1. Nothing leaves the machine: off-site links are listed, not followed, and a
request a page makes to any other host is recorded and refused (the site must work offline).
Learners land on the class page; the instructors' guide with the answers is a separate build.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


MACHINE_PATH = re.compile(r"(/work/|/root/|/home/[a-z]|/Users/|site-packages|/tmp/pve-)")


def _builder() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_site", ROOT / "notebooks" / "site" / "build.py")
    assert spec is not None
    assert spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = builder  # its dataclasses look their module up there
    spec.loader.exec_module(builder)
    return builder


@pytest.fixture(scope="module")
def instructors_site() -> Path:
    builder = _builder()
    return Path(builder.build(strict=True, audience=builder.INSTRUCTORS)).parent


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    index = _builder().build(strict=True)

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
        outside: list[str] = []

        def refuse_outside(route: Any) -> None:
            url = route.request.url
            if url.startswith(site) or url.startswith("data:"):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        page.route("**/*", refuse_outside)
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
    assert outside == [], "pages load from outside the site (it must work offline)"


def test_the_readme_pictures_are_on_the_tool_page(site: str) -> None:
    html = (ROOT / "build" / "site" / "tool.html").read_text(encoding="utf-8")
    assert "results/reference/cost/monthly_cost.png" in html


def test_learners_land_on_the_class_page_with_the_six_notebooks(site: str) -> None:
    html = (ROOT / "build" / "site" / "index.html").read_text(encoding="utf-8")
    assert "A two-hour class" in html
    assert "pytest" not in html  # the developer README is a page of its own, not the front page
    for notebook in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        assert f'href="notebooks/{notebook.stem}.html"' in html, notebook.name
    assert 'href="glossary.html"' in html


def test_the_instructors_guide_is_only_in_the_instructors_build(site: str, instructors_site: Path) -> None:
    learners = ROOT / "build" / "site"
    assert not list(learners.rglob("INSTRUCTOR*"))
    index = json.loads((learners / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert not [d["location"] for d in index["docs"] if "Expected answers" in d["text"]]
    assert (instructors_site / "notebooks" / "INSTRUCTOR.html").is_file()
    instructors_nav = (instructors_site / "index.html").read_text(encoding="utf-8")
    assert "INSTRUCTOR.html" in instructors_nav


def test_no_page_shows_a_path_of_the_machine_that_built_it(site: str) -> None:
    found = {
        str(page.relative_to(ROOT / "build" / "site")): sorted(set(MACHINE_PATH.findall(page.read_text())))
        for page in (ROOT / "build" / "site").rglob("*.html")
    }
    assert {page: hits for page, hits in found.items() if hits} == {}


def test_nothing_in_the_site_names_a_host_to_load_from(site: str) -> None:
    loads = re.compile(r"""(?:src=|import\(|url\()["']?https?://""")
    pages = [p for p in (ROOT / "build" / "site").rglob("*") if p.suffix in {".html", ".css", ".js"}]
    assert [str(p.relative_to(ROOT)) for p in pages if loads.search(p.read_text(errors="replace"))] == []
