"""Build the course site: two builds from the same pages, one for learners, one for instructors.

    python notebooks/site/build.py                 # -> build/site/index.html (learners)
    python notebooks/site/build.py --instructors   # -> build/site-instructor/index.html

The learners' site opens on the class's own page (``notebooks/README.md``), then the glossary, the
six notebooks, the seed post and the tool's README. The instructors' site is the same plus
``notebooks/INSTRUCTOR.md`` with every answer: it is a separate build, so a learner never finds it in
the navigation or in the learners' search index.

Pages are staged into ``build/site-src*`` so the repository keeps its own layout. A link to a file
the site does not carry is turned into plain text (so the site has no broken links); charts under
``results/reference`` are copied with their paths, so the README's images work unchanged. Notebooks
are shown as committed (executed), not re-run. Nothing is loaded from outside the site: code is
highlighted by Pygments at build time (no highlight.js from a CDN), and ``hooks.py`` leaves out the
notebook pages' Mermaid loader (it fetches from a CDN when a page has a Mermaid diagram; ours have
none).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
# repository path -> site path, for pages that the site carries under another name
MOVED = {
    "notebooks/README.md": "index.md",
    "notebooks/GLOSSARY.md": "glossary.md",
    "README.md": "tool.md",
    "docs/seed-post.md": "seed-post.md",
}


@dataclass(frozen=True)
class Audience:
    """One build of the site: where its pages are staged and built, and which guides it carries."""

    config: Path
    stage: Path
    site: Path
    guides: tuple[str, ...]


LEARNERS = Audience(HERE / "mkdocs.yml", ROOT / "build" / "site-src", ROOT / "build" / "site", ())
INSTRUCTORS = Audience(
    HERE / "mkdocs-instructor.yml",
    ROOT / "build" / "site-src-instructor",
    ROOT / "build" / "site-instructor",
    ("notebooks/INSTRUCTOR.md",),
)


def stage(audience: Audience = LEARNERS) -> Path:
    """Copy every page and picture the site shows into the audience's staging folder."""
    target_root = audience.stage
    if target_root.exists():
        shutil.rmtree(target_root)
    (target_root / "notebooks").mkdir(parents=True)
    for picture in sorted((ROOT / "results" / "reference").rglob("*.png")):
        target = target_root / picture.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(picture, target)
    if (ROOT / "notebooks" / "diagrams").is_dir():
        shutil.copytree(ROOT / "notebooks" / "diagrams", target_root / "notebooks" / "diagrams")
    shutil.copy2(HERE / "extra.css", target_root / "extra.css")
    (target_root / "pygments.css").write_text(_pygments_css(), encoding="utf-8")
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        document = json.loads(notebook.read_text(encoding="utf-8"))
        for cell in document["cells"]:
            if cell["cell_type"] == "markdown":
                text = "".join(cell["source"])
                cell["source"] = _site_links(text, Path("notebooks"), target_root, rendered=True)
        (target_root / "notebooks" / notebook.name).write_text(json.dumps(document), encoding="utf-8")
    for page in (*MOVED, *audience.guides):
        text = (ROOT / page).read_text(encoding="utf-8")
        site_path = MOVED.get(page, page)
        (target_root / site_path).write_text(
            _site_links(text, Path(page).parent, target_root, at=Path(site_path).parent), encoding="utf-8"
        )
    return target_root


def _pygments_css() -> str:
    """The highlighting rules for Python-Markdown's ``codehilite`` (Pygments runs at build time)."""
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="default").get_style_defs(".codehilite"))


def _site_links(
    markdown: str, folder: Path, stage_root: Path, *, at: Path | None = None, rendered: bool = False
) -> str:
    """Keep links the site can follow (web, anchors, staged files); others become plain text.

    ``folder`` is the page's folder in the repository (links resolve from there), ``at`` its folder
    on the site (links are written relative to it; the same folder unless the page moved). A link
    to a page the site carries under another name (``MOVED``) is pointed there. MkDocs rewrites
    ``.md`` links in Markdown pages but not inside notebooks, so for those (``rendered``) links point
    at the built ``.html`` directly.
    """
    site_folder = folder if at is None else at

    def keep_or_flatten(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        if target.startswith(("http://", "https://", "mailto:", "#")):
            return match.group(0)
        path, _, anchor = target.partition("#")
        repo_path = os.path.normpath(folder / path)
        site_path = MOVED.get(repo_path, repo_path)
        if (stage_root / site_path).exists() or site_path in MOVED.values():
            relative = os.path.relpath(site_path, site_folder)
            if rendered and relative.endswith((".md", ".ipynb")):
                relative = relative.rsplit(".", 1)[0] + ".html"
            return f"{bang}[{text}]({relative}{'#' + anchor if anchor else ''})"
        return text if not bang else f"*(picture: {text})*"

    return LINK.sub(keep_or_flatten, markdown)


def build(strict: bool = True, audience: Audience = LEARNERS) -> Path:
    stage(audience)
    command = [sys.executable, "-m", "mkdocs", "build", "--quiet", "--config-file", str(audience.config)]
    subprocess.run([*command, "--strict"] if strict else command, check=True, cwd=ROOT)
    return audience.site / "index.html"


if __name__ == "__main__":
    print(build(audience=INSTRUCTORS if "--instructors" in sys.argv[1:] else LEARNERS))
