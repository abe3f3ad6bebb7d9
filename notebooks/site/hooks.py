"""MkDocs hooks for the course site (named in mkdocs.yml).

mkdocs-jupyter puts a script into every notebook page that imports Mermaid from a CDN when the page
draws a Mermaid diagram. Ours draw none, so the script would never run; it is removed before the
page is written or indexed for search, so the site names no outside host to load from and a
learner's search never lands in JavaScript.
"""

from __future__ import annotations

import re
from typing import Any

MERMAID_LOADER = re.compile(
    r"<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>", re.S
)


def on_page_content(html: str, **_: Any) -> str:
    if 'class="jp-Mermaid' in html:  # a page that draws a diagram keeps its loader
        return html
    return MERMAID_LOADER.sub("", html)
