"""The pure helpers of scripts/check_in_browser.py: no browser and no built book needed.

The browser check itself runs from `make test` after the book build (it needs `_build/html`).
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import check_in_browser as cib  # noqa: E402

# ---- prose_text: what counts as prose


def test_prose_text_drops_code_math_and_scripts():
    html = ('<p>Cost: <code>$5$</code> and</p><pre>x = "$a$"</pre>'
            '<div class="highlight"><span>\\(y\\)</span></div>'
            '<span class="math"><mjx-container>\\(h_t\\)</mjx-container></span>'
            '<script>var s = "$$";</script><svg><text>$z$</text></svg><p>end</p>')
    assert cib.prose_text(html) == "Cost:  andend"


def test_prose_text_keeps_text_after_void_and_unclosed_elements():
    html = "<ul><li>one<br>two<li>three</ul><p>a<img src='x.png'>b</p><pre>code</pre><p>after</p>"
    assert cib.prose_text(html) == "onetwothreeabafter"


def test_prose_text_decodes_entities():
    assert cib.prose_text("<p>&#36;x&#36; &amp; y</p>") == "$x$ & y"


# ---- find_raw_math: what counts as raw math


@pytest.mark.parametrize("text, kind", [
    ("the state $h_t$ at step t", "inline math left as $...$"),
    ("a formula $W x + b$ here", "inline math left as $...$"),
    ("display $$\\sum_t h_t$$ math", "display math left as $$"),
    ("the state \\(h_t\\) at", "raw \\( or \\) delimiter"),
    ("\\[ y = W h \\]", "raw \\[ or \\] delimiter"),
    ("\\begin{aligned} a &= b \\end{aligned}", "raw LaTeX environment"),
    ("the gate is \\sigma(z)", "raw LaTeX command"),
])
def test_find_raw_math_flags_untypeset_latex(text, kind):
    found = cib.find_raw_math(text)
    assert found and found[0].startswith(kind + ":"), found


@pytest.mark.parametrize("text", [
    "It costs $5 and $6 on Monday.",  # prices: a space before the second dollar
    "A single $ sign, and an escaped \\$ one.",
    "Plain prose with no formulas at all.",
    "Cost $ 5$",  # a space after the opening dollar
    "",
])
def test_find_raw_math_leaves_prose_alone(text):
    assert cib.find_raw_math(text) == []


def test_find_raw_math_reports_each_place_once_with_context():
    found = cib.find_raw_math("first \\(a\\) then $$b$$ then $c$.")
    assert len(found) == 3, found
    assert "\\(a\\)" in found[0] and "$$b$$" in found[1] and "$c$" in found[2]


def test_raw_math_in_html_ignores_dollars_in_code_and_typeset_math():
    typeset = '<p>The state <span class="math"><mjx-container>h</mjx-container></span> and <code>$x$</code>.</p>'
    assert cib.raw_math_in_html(typeset) == []
    untypeset = '<p>The state <span class="math notranslate nohighlight">\\(h_t\\)</span>.</p>'
    assert cib.raw_math_in_html(untypeset)[0].startswith("raw \\( or \\) delimiter")


# ---- URLs, pages, toc, titles


@pytest.mark.parametrize("url, local", [
    ("http://127.0.0.1:8123/book/intro.html", True),
    ("data:image/png;base64,AAAA", True),
    ("http://127.0.0.1:9999/book/intro.html", False),  # another local server
    ("http://localhost:8123/x.js", False),
    ("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js", False),
    ("https://fonts.googleapis.com/css", False),
])
def test_is_local(url, local):
    assert cib.is_local(url, 8123) is local


def test_book_pages_skips_assets_indexes_and_the_redirect(tmp_path):
    for rel in ["index.html", "search.html", "genindex.html", "book/intro.html", "book/ch06/index.html",
                "_static/x.html", "_sources/book/intro.html", "reports/a.html"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("<html></html>")
    assert cib.book_pages(tmp_path) == ["book/ch06/index.html", "book/intro.html"]


def test_screenshot_name():
    assert cib.screenshot_name("book/ch06_applications/index.html") == "book__ch06_applications__index.png"


def _write_book(tmp_path: Path) -> Path:
    (tmp_path / "book" / "part").mkdir(parents=True)
    (tmp_path / "book" / "intro.md").write_text("---\ntitle: x\n---\n(intro)=\n# RNN *Lab*\n\n## Notation\n")
    (tmp_path / "book" / "part" / "a.md").write_text("```python\n# not a heading\n```\n# The {term}`LSTM <lstm>` cell\n")
    cells = [{"cell_type": "code", "source": ["# a comment\n"]},
             {"cell_type": "markdown", "source": ["(ch-b)=\n", "# 2. Background (背景介绍)\n", "text"]}]
    (tmp_path / "book" / "b.ipynb").write_text(json.dumps({"cells": cells}))
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: P\n    chapters:\n"
                   "      - file: book/b.ipynb\n        sections:\n          - file: book/part/a\n")
    return toc


def test_toc_files_and_chapter_titles(tmp_path):
    toc = _write_book(tmp_path)
    assert cib.toc_files(toc) == ["book/intro", "book/b", "book/part/a"]
    assert cib.chapter_titles(toc) == {"book/intro": "RNN Lab", "book/b": "2. Background (背景介绍)",
                                       "book/part/a": "The LSTM cell"}


def test_chapter_titles_names_a_missing_file(tmp_path):
    toc = _write_book(tmp_path)
    (tmp_path / "book" / "b.ipynb").unlink()
    with pytest.raises(FileNotFoundError, match="book/b"):
        cib.chapter_titles(toc)


def test_the_books_own_toc_has_a_title_for_every_file():
    titles = cib.chapter_titles(cib.TOC)
    assert len(titles) == len(cib.toc_files(cib.TOC)) > 10
    assert all(titles.values())


# ---- the PDF check reports what is missing


def test_check_pdf_lists_every_failure(tmp_path):
    from pypdf import PdfWriter

    toc = _write_book(tmp_path)
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    pdf = tmp_path / "blank.pdf"
    with pdf.open("wb") as handle:
        writer.write(handle)
    failures, facts = cib.check_pdf(pdf, toc)
    assert facts["pages"] == 1 and facts["images"] == 0
    text = "\n".join(failures)
    assert "1 pages, expected at least 9" in text
    for title in ["RNN Lab", "2. Background (背景介绍)", "The LSTM cell"]:
        assert "lacks the title of" in text and repr(title) in text
    assert "embeds 0 images" in text and "循环神经网络" in text and "no internal links" in text


def test_check_pdf_names_a_missing_file(tmp_path):
    failures, _ = cib.check_pdf(tmp_path / "none.pdf", _write_book(tmp_path))
    assert failures and "no such file" in failures[0]


# ---- the local server


def test_serve_answers_on_loopback_and_stops(tmp_path):
    (tmp_path / "page.html").write_text("<p>hi</p>")
    with cib.serve(tmp_path) as base:
        assert base.startswith("http://127.0.0.1:")
        assert cib.http_status(base + "page.html") == 200
        assert cib.http_status(base + "missing.html") == 404
    with pytest.raises(OSError):
        urllib.request.urlopen(base + "page.html", timeout=2)


def test_serve_refuses_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected a built book"):
        with cib.serve(tmp_path / "nothing"):
            pass


def test_main_rejects_a_folder_that_is_not_a_built_book(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cib.main([str(tmp_path)])
    assert exit_info.value.code == 2
    assert "expected a built book" in capsys.readouterr().err


def test_find_raw_math_reports_one_formula_once():
    assert len(cib.find_raw_math("the gate \\(\\sigma(W x)\\) and $\\tanh(z)$ here")) == 2


def test_squash_matches_what_pdf_extraction_gives_for_chinese_and_ligatures():
    # Chromium's PDF maps some Noto CJK glyphs back to Kangxi radicals (U+2F79 for 网).
    assert cib._squash("循环神经\u2f79络 ( 第\u2f00章 )\n\ufb01rst") == "循环神经网络(第一章)first"


def test_pdf_contents_entries_follow_the_toc(tmp_path):
    import make_pdf

    entries = make_pdf.toc_entries(_write_book(tmp_path))
    assert entries == [{"doc": "book/intro", "depth": -1, "caption": None},
                       {"doc": "book/b", "depth": 0, "caption": "P"},
                       {"doc": "book/part/a", "depth": 1, "caption": None}]


def test_prose_text_skips_api_signatures():
    html = ('<dl class="py function"><dt class="sig sig-object py" id="f"><em>chars</em>=<em>'
            "'[\\\\]^_'</em></dt><dd><p>Text \\(x\\)</p></dd></dl>")
    assert cib.prose_text(html) == "Text \\(x\\)"


def test_find_raw_math_reports_neighbouring_commands_as_one_place():
    found = cib.find_raw_math("see the section \\tanh, not \\sigma for why, and much later on \\odot")
    assert len(found) == 2 and "\\tanh, not \\sigma" in found[0] and "\\odot" in found[1], found
