"""A reader of the project finds everything its documents refer to inside it."""

from __future__ import annotations

import re

from tests.conftest import ROOT

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def documents() -> list:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_in_the_docs_is_a_file_of_the_repository():
    for doc in documents():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue  # a web address
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT), f"{doc.name} points outside the repository: {target}"
            assert path.exists(), f"{doc.name} links to a missing file: {target}"


def test_the_readme_points_to_the_product_page_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](../" not in readme  # nothing outside the repository
    assert "(docs/product.md)" in readme
    assert "Who uses it" in (ROOT / "docs" / "product.md").read_text(encoding="utf-8")
