"""Checks on the book's sources that need no notebook run: glossary, labels, citations, terms."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import make_glossary  # noqa: E402  (a script, not part of the package)


def _toc_pages() -> list[Path]:
    """The book's pages in reading order, as _toc.yml lists them."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries:
            names.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc["parts"]:
        walk(part["chapters"])
    pages = []
    for name in names:
        for suffix in (".ipynb", ".md"):
            if (ROOT / f"{name}{suffix}").exists():
                pages.append(ROOT / f"{name}{suffix}")
                break
        else:
            raise AssertionError(f"_toc.yml lists {name}, which has no .ipynb or .md file")
    return pages


def _markdown(page: Path) -> str:
    """The page's prose: a .md file, or the markdown cells of a notebook."""
    if page.suffix == ".md":
        return page.read_text(encoding="utf-8")
    cells = json.loads(page.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


PAGES = _toc_pages()
PROSE = {page: _markdown(page) for page in PAGES}
TERMS = make_glossary.load_terms()


def test_glossary_page_is_generated_from_its_data_file():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_glossary.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_glossary_entry_points_at_a_label_that_exists():
    labels = {label for text in PROSE.values() for label in re.findall(r"^\(([\w-]+)\)=", text, re.M)}
    missing = sorted({entry["first"] for entry in TERMS} - labels)
    assert not missing, f"glossary 'first' labels with no (label)= target in the book: {missing}"


def test_every_term_role_names_a_glossary_entry():
    known = {entry["term"].lower() for entry in TERMS} | {entry["zh"].lower() for entry in TERMS}
    # {term}`text` links to "text"; {term}`shown text <target>` links to "target".
    used = {" ".join((m.group(2) or m.group(1)).split()).lower() for text in PROSE.values()
            for m in re.finditer(r"\{term\}`([^`<]+?)(?:\s*<([^>]+)>)?`", text)}
    assert not used - known, f"{{term}} roles with no glossary entry: {sorted(used - known)}"


def test_labels_are_unique():
    seen: dict[str, Path] = {}
    for page, text in PROSE.items():
        for label in re.findall(r"^\(([\w-]+)\)=", text, re.M):
            assert label not in seen, f"label {label} defined in {seen[label].name} and {page.name}"
            seen[label] = page


def test_every_cited_key_is_in_the_bibliography():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, re.M))
    cited = {key.strip() for text in PROSE.values()
             for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text) for key in group.split(",")}
    assert not cited - keys, f"cited but not in references.bib: {sorted(cited - keys)}"
    assert len(keys) == len(re.findall(r"^@\w+\{", bib, re.M)), "a key appears twice in references.bib"


def test_no_page_apologises_for_a_missing_citation():
    for page, text in PROSE.items():
        assert "not in the book's bibliography" not in text and "not in this book's bibliography" not in text, page.name


@pytest.mark.parametrize("entry", TERMS, ids=lambda e: e["term"])
def test_each_term_has_its_chinese_name_on_the_page_that_first_uses_it(entry):
    """The first page (in reading order) whose prose uses the English term also gives the Chinese."""
    term = entry["term"]
    stem = rf"{re.escape(term[:-1])}(?:y|ies)" if term.endswith("y") else rf"{re.escape(term)}(?:s|es)?"
    pattern = re.compile(rf"(?<![\w-]){stem}(?![\w-])", re.I)
    for page in PAGES:
        if page.name == "glossary.md":
            continue
        if pattern.search(PROSE[page]):
            assert entry["zh"] in PROSE[page], (
                f"{page.relative_to(ROOT)} is the first page to use {entry['term']!r} but never "
                f"gives its Chinese term {entry['zh']!r}")
            return
    pytest.fail(f"no page uses the glossary term {entry['term']!r}")
