"""The README is an index and the docs stand on their own: every link resolves inside the
repository, every file they name exists, and each page says which package it describes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
TOP = {path.name for path in ROOT.iterdir() if path.is_dir() and not path.name.startswith(".")}


def _prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of the page's headings."""
    headings = re.findall(r"^#+ (.+)$", _prose(page.read_text(encoding="utf-8")), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def _ids(pages: list[Path]) -> list[str]:
    return [str(page.relative_to(ROOT)) for page in pages]


def test_the_readme_is_an_index():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    linked = {target.split("#")[0] for target in LINK.findall("\n".join(lines))}
    assert {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")} <= linked, "every page is in the index"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_link_resolves_inside_the_repository(page: Path):
    text = _prose(page.read_text(encoding="utf-8"))
    assert "../shared" not in text
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.is_relative_to(ROOT), f"{target} leaves the repository"
        assert linked.exists(), f"{target} does not exist"
        if anchor:
            assert anchor in _anchors(linked), f"{target}: no such heading in {linked.name}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_file_a_page_names_exists(page: Path):
    for name in CODE.findall(page.read_text(encoding="utf-8")):
        path = name.split("::")[0]
        if "/" in path and path.split("/")[0] in TOP and re.fullmatch(r"[\w./-]+", path):
            assert (ROOT / path).exists(), f"{page.name} names {path}, which is not in the tree"


DOCS = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("page", DOCS, ids=_ids(DOCS))
def test_each_page_opens_with_what_it_describes_in_the_tree(page: Path):
    opening = page.read_text(encoding="utf-8").split("\n\n")[1]
    named = [name for name in CODE.findall(opening) if name.split("/")[0] in TOP]
    assert named and all((ROOT / name).exists() for name in named), opening
