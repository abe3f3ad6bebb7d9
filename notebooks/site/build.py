"""Build the course site: stage the README, notebooks, guides and charts, then run MkDocs.

    python notebooks/site/build.py            # -> build/site/index.html

Pages are staged into ``build/site-src`` so the repository keeps its own layout. A README link to a
file the site does not carry is turned into plain text (so the site has no broken links); charts
under ``results/reference`` are copied with their paths, so the README's images work unchanged.
Notebooks are shown as committed (executed), not re-run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).resolve().parent / "mkdocs.yml"
STAGE = ROOT / "build" / "site-src"
SITE = ROOT / "build" / "site"
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
GUIDES = ("notebooks/INSTRUCTOR.md",)
MOVED = {"docs/seed-post.md": "seed-post.md", "README.md": "index.md"}  # repository path -> site path


def stage() -> Path:
    """Copy every page and picture the site shows into ``build/site-src``."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    (STAGE / "notebooks").mkdir(parents=True)
    for picture in sorted((ROOT / "results" / "reference").rglob("*.png")):
        target = STAGE / picture.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(picture, target)
    for extra in ("notebooks/diagrams",):
        if (ROOT / extra).is_dir():
            shutil.copytree(ROOT / extra, STAGE / extra)
    shutil.copy2(ROOT / "docs" / "seed-post.md", STAGE / "seed-post.md")
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        document = json.loads(notebook.read_text(encoding="utf-8"))
        for cell in document["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = _site_links("".join(cell["source"]), Path("notebooks"), rendered=True)
        (STAGE / "notebooks" / notebook.name).write_text(json.dumps(document), encoding="utf-8")
    for guide in GUIDES:
        if (ROOT / guide).is_file():
            page = (ROOT / guide).read_text(encoding="utf-8")
            (STAGE / guide).write_text(_site_links(page, Path(guide).parent), encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (STAGE / "index.md").write_text(_site_links(readme, Path()), encoding="utf-8")
    return STAGE


def _site_links(markdown: str, folder: Path, *, rendered: bool = False) -> str:
    """Keep links the site can follow (web, anchors, staged files); others become plain text.

    ``folder`` is the page's folder in the repository; a link to a page the site carries under
    another name (``MOVED``) is pointed there. MkDocs rewrites ``.md`` links in Markdown pages but
    not inside notebooks, so for those (``rendered``) links point at the built ``.html`` directly.
    """

    def keep_or_flatten(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        if target.startswith(("http://", "https://", "mailto:", "#")):
            return match.group(0)
        path, _, anchor = target.partition("#")
        repo_path = os.path.normpath(folder / path)
        site_path = MOVED.get(repo_path, repo_path)
        if (STAGE / site_path).exists():
            relative = os.path.relpath(site_path, folder)
            if rendered and relative.endswith((".md", ".ipynb")):
                relative = relative.rsplit(".", 1)[0] + ".html"
            return f"{bang}[{text}]({relative}{'#' + anchor if anchor else ''})"
        return text if not bang else f"*(picture: {text})*"

    return LINK.sub(keep_or_flatten, markdown)


def build(strict: bool = True) -> Path:
    stage()
    command = [sys.executable, "-m", "mkdocs", "build", "--quiet", "--config-file", str(CONFIG)]
    subprocess.run([*command, "--strict"] if strict else command, check=True, cwd=ROOT)
    return SITE / "index.html"


if __name__ == "__main__":
    print(build())
