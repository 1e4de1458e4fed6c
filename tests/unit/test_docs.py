"""The README stays a short front page, and the docs site stays whole and true to the tree.

`make docs` (mkdocs build --strict) catches broken links between pages; these catch what it
cannot see: a page left out of the site, a README that grows back into a manual, and a code
path named in the prose that no longer exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "layers" / "leadsync" / "leadsync"
README_MAX_LINES = 150

PAGES = sorted(path.name for path in DOCS.glob("*.md"))
# inline code that names a file or folder of the repository (the prose names code this way,
# never as links, which mkdocs --strict refuses outside docs/)
CODE_PATH = re.compile(r"`([\w./-]+(?:\.(?:py|toml|yaml|md)|/))`")


def nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\s+- [^:]+: (\S+\.md)$", nav, flags=re.MULTILINE)


def test_docs_nav_lists_every_page_once() -> None:
    listed = nav_pages()
    assert sorted(listed) == PAGES
    assert len(set(listed)) == len(listed)


@pytest.mark.parametrize("page", PAGES)
def test_docs_page_starts_with_a_title(page: str) -> None:
    first = (DOCS / page).read_text(encoding="utf-8").split("\n", 1)[0]
    assert first.startswith("# ")


def test_readme_is_short_and_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    for page in PAGES:
        assert f"](docs/{page})" in readme, page


@pytest.mark.parametrize("document", ["README.md", *(f"docs/{page}" for page in PAGES)])
def test_docs_code_paths_exist(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    named = {path for path in CODE_PATH.findall(text) if "/" in path.rstrip("/")}
    # under the repository's root, or under the package (the walk through the files)
    missing = [
        path
        for path in sorted(named)
        if not path.startswith(".local/")
        and not (ROOT / path).exists()
        and not (PACKAGE / path).exists()
    ]
    assert missing == []
