"""Checks on the built HTML book that a green Sphinx build alone does not guarantee.

1. Every page built from a notebook that draws figures shows at least one image: a kernel
   with a non-inline matplotlib backend runs `plt.show()` happily and the figures vanish.
2. No page loads a script or stylesheet from the network: the book must work offline
   (MathJax is bundled by sphinx-mathjax-offline).
3. No cell output shows a NumPy 2 scalar repr such as `np.float64(2.041)`: print numbers
   formatted (f-strings, float()) so the reader sees 2.041.

Usage: python scripts/check_built_book.py [_build/html]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

FIGURE_CALLS = re.compile(r"\bplt\.(show|subplots|figure)\(|\.imshow\(")
IMAGE_TAG = re.compile(r"<img\b[^>]*\bsrc=\"[^\"]*_images/")
REMOTE_ASSET = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"(?:https?:)?//[^\"]+\"")
NUMPY_REPR = re.compile(r"\bnp\.(?:float|int|uint|complex|bool|str)_?\d*\(")
OUTPUT_START = 'class="cell_output'


DIV_TAG = re.compile(r"<div\b|</div>")


def _div_at(html: str, start: int) -> str:
    """The element ``<div ...>...</div>`` that opens at ``start``, nested divs included."""
    depth = 0
    for tag in DIV_TAG.finditer(html, start):
        depth += 1 if tag.group(0) == "<div" else -1
        if depth == 0:
            return html[start:tag.end()]
    return html[start:]


def cell_outputs(html: str) -> list[str]:
    """The HTML of each code cell's output block (myst-nb: ``<div class="cell_output ...">``)."""
    return [_div_at(html, html.rfind("<div", 0, m.start())) for m in re.finditer(OUTPUT_START, html)]


def notebook_draws_figures(notebook: Path) -> bool:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return any(FIGURE_CALLS.search("".join(cell["source"])) for cell in cells if cell["cell_type"] == "code")


def main(html_root: Path) -> int:
    problems = []
    for page in sorted(html_root.joinpath("book").rglob("*.html")):
        source = Path("book", page.relative_to(html_root / "book")).with_suffix(".ipynb")
        html = page.read_text(encoding="utf-8")
        if source.exists() and notebook_draws_figures(source) and not IMAGE_TAG.search(html):
            problems.append(f"{page}: built from {source}, which draws figures, but shows no image")
        for match in REMOTE_ASSET.finditer(html):
            problems.append(f"{page}: loads a remote asset: {match.group(0)[:120]}")
        for output in cell_outputs(html):
            for match in NUMPY_REPR.finditer(output):
                context = output[max(0, match.start() - 40): match.end() + 20]
                problems.append(f"{page}: a NumPy scalar repr in a cell output: ...{context}...")
    checked = len(list(html_root.joinpath("book").rglob("*.html")))
    if checked == 0:
        problems.append(f"no pages found under {html_root / 'book'}")
    for problem in problems:
        print(problem)
    print(f"checked {checked} pages: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")))
