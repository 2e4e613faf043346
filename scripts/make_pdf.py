"""Build the PDF edition of the book: every page in one file, `_build/rnn-lab.pdf`.

1. `jupyter-book build . --builder singlehtml` writes the whole book as one HTML page into
   `_build/singlehtml`. It shares the Sphinx environment (`_build/.doctrees`) with the html build,
   so run right after `make book` with the same `_config.yml` it re-reads and re-executes nothing;
   run alone, it executes the notebooks as `_config.yml` says.
2. Debian's Chromium, headless through Playwright, opens that page from 127.0.0.1 with every other
   host blocked, waits until MathJax has typeset every formula and every image has loaded, adds a
   printed table of contents, starts every chapter on a new page, and prints it: A4, backgrounds,
   page numbers, a tagged PDF with an outline (bookmarks) from the headings. Links inside the book
   stay links inside the PDF; the Chinese terms come out in Noto CJK (`fonts-noto-cjk`).
3. `check_in_browser.check_pdf` checks the result: page count, every chapter title in the text,
   the images, the Chinese terms, the outline and the internal links.

Usage: python scripts/make_pdf.py [--output _build/rnn-lab.pdf] [--config _config.yml]
                                  [--path-output .] [--skip-build] [--no-check]
Exit status: 0 done (or skipped: no Chromium), 1 a failed build, print or check.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_in_browser import (
    LOAD_IMAGES,
    MATHJAX_TIMEOUT_MS,
    ROOT,
    WAIT_FOR_MATHJAX,
    PageWatch,
    browser_context,
    check_pdf,
    chromium_missing,
    serve,
    toc_files,
)

# Same flags as the html build (Makefile: JB_FLAGS), so both builds share one Sphinx environment.
JB_FLAGS = ["-W", "-n", "--keep-going"]

# Chromium's own fallback for the Chinese terms is Noto Sans CJK *JP* (the pages are lang="en"); the
# face below puts the Simplified Chinese variant first for CJK characters only (unicode-range).
PRINT_CSS = """
@font-face { font-family: "RNN Lab CJK"; font-weight: 100 500;
  src: local("Noto Sans CJK SC"), local("NotoSansCJKsc-Regular");
  unicode-range: U+2E80-2FFF, U+3000-303F, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF; }
@font-face { font-family: "RNN Lab CJK"; font-weight: 600 900;
  src: local("Noto Sans CJK SC Bold"), local("NotoSansCJKsc-Bold");
  unicode-range: U+2E80-2FFF, U+3000-303F, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF; }
@media print {
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  img, figure, table, .cell_output, div.math, mjx-container[display="true"] { break-inside: avoid; }
  h1, h2, h3, h4, .rubric { break-after: avoid; }
  .rnnlab-chapter { break-before: page; }
  nav.rnnlab-contents { break-after: page; }
  nav.rnnlab-contents div { margin-top: 0.2em; }
  nav.rnnlab-contents p.caption { font-weight: bold; margin: 0.9em 0 0.2em; }
  nav.rnnlab-contents a { text-decoration: none; }
  #jb-print-toc { display: none !important; }  /* the theme's "Contents" of this one page */
}
"""

# Runs in the single page: marks chapters, adds the contents (the sidebar's tree, which links to
# the chapters' anchors in this page) after the book's title, and unlinks anchors that lead off
# this page to the build server (source downloads, the index): in a PDF they would be dead links.
# Runs in the single page: marks where each document starts (a new page in print), adds a
# table of contents after the book's title (the toc's parts and files, linked to the documents'
# anchors in this page), and unlinks anchors that lead off this page to the build server (source
# downloads, the index): in a PDF they would be dead links.
PREPARE_PRINT = """([css, ownPath, entries]) => {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.appendChild(style);
  const root = document.documentElement;
  for (const name of ['--pst-font-family-base', '--pst-font-family-heading']) {
    const fonts = getComputedStyle(root).getPropertyValue(name).trim();
    root.style.setProperty(name, '"RNN Lab CJK", ' + (fonts || 'sans-serif'));
  }
  const article = document.querySelector('article.bd-article');
  const starts = Array.from(article.querySelectorAll('span[id^="document-"]'));
  starts.forEach(span => {  // the root document comes first, without such a marker
    const next = span.nextElementSibling;
    if (next) next.classList.add('rnnlab-chapter');
  });
  const contents = document.createElement('nav');
  contents.className = 'rnnlab-contents';
  const heading = document.createElement('h2');
  heading.textContent = 'Contents';
  contents.appendChild(heading);
  const missing = [];
  for (const entry of entries) {
    if (entry.caption) {
      const caption = document.createElement('p');
      caption.className = 'caption';
      caption.textContent = entry.caption;
      contents.appendChild(caption);
    }
    const marker = document.getElementById('document-' + entry.doc);
    const section = entry.depth < 0 ? article.querySelector('section') : marker && marker.nextElementSibling;
    const title = section && section.querySelector('h1, h2, h3, h4, h5, h6');
    if (!title) { missing.push(entry.doc); continue; }
    const copy = title.cloneNode(true);
    copy.querySelectorAll('.headerlink').forEach(e => e.remove());
    const line = document.createElement('div');
    line.style.marginLeft = (1.5 * Math.max(entry.depth, 0)) + 'em';
    const link = document.createElement('a');
    link.href = '#' + (entry.depth < 0 ? section.id : marker.id);
    link.textContent = copy.textContent.trim();
    line.appendChild(link);
    contents.appendChild(line);
  }
  const title = article.querySelector('h1');
  if (title) title.after(contents); else article.prepend(contents);
  let unlinked = 0;
  document.querySelectorAll('a[href]').forEach(a => {
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    if ((url.pathname === location.pathname || url.pathname === ownPath) && url.hash) {
      a.setAttribute('href', url.hash);  // e.g. citations written as book/intro.html#id2
    } else { a.removeAttribute('href'); unlinked += 1; }
  });
  const printedImages = new Set(Array.from(document.images)
    .filter(img => img.getClientRects().length > 0).map(img => img.src));
  return {chapters: starts.length, entries: contents.querySelectorAll('a').length, missing, unlinked,
          images: printedImages.size};
}"""


def toc_entries(toc_path: Path) -> list[dict[str, object]]:
    """The contents of the PDF: each file of the toc with its depth (-1 the root) and part caption."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    entries: list[dict[str, object]] = [{"doc": str(toc["root"]), "depth": -1, "caption": None}]

    def walk(items: list[dict], depth: int, caption: str | None) -> None:
        for item in items or []:
            if "file" in item:
                entries.append({"doc": re.sub(r"\.(md|ipynb)$", "", str(item["file"])), "depth": depth,
                                "caption": caption})
                caption = None
            walk(item.get("sections", []), depth + 1, None)

    for part in toc.get("parts", []):
        walk(part.get("chapters", []), 0, part.get("caption"))
    walk(toc.get("chapters", []), 0, None)
    return entries


FOOTER = ('<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def build_singlehtml(source: Path, path_output: Path, config: Path | None, log: Path) -> tuple[int, int]:
    """Run the singlehtml build; returns (exit status, notebooks it executed). Full log in `log`."""
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(source), "--builder", "singlehtml",
               "--path-output", str(path_output), *JB_FLAGS]
    if config is not None:
        command += ["--config", str(config)]
    print("$ " + " ".join(command), flush=True)
    executed = 0
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out, subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=source) as process:
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            plain = re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip())
            if "Executing notebook" in plain:
                executed += 1
            if re.search(r"WARNING|ERROR|Executed notebook|updating environment|build succeeded|"
                         r"build finished|Traceback", plain) and "Kernel is running over TCP" not in plain:
                print("  " + plain, flush=True)
    return process.returncode, executed


def print_pdf(singlehtml: Path, page_path: str, output: Path, entries: list[dict[str, object]]) -> dict[str, object]:
    """Open `singlehtml/<page_path>` (the whole book) in headless Chromium and print it to `output`.

    singlehtml writes the root document's page (book/intro.html) with links relative to its own
    root (`_static/...`), so the page is opened from a copy at that root, `rnn-lab.html`.
    """
    blocked: list[str] = []
    output.parent.mkdir(parents=True, exist_ok=True)
    (singlehtml / "rnn-lab.html").write_bytes((singlehtml / page_path).read_bytes())
    with serve(singlehtml) as base, browser_context(base, blocked) as context:
        page = context.new_page()
        watch = PageWatch(page, urlsplit(base).port or 80)
        page.set_default_timeout(300_000)
        # The theme's search script asks for searchindex.js, which singlehtml does not write.
        page.route(base + "searchindex.js", lambda route: route.fulfill(status=200, body="",
                                                                         content_type="text/javascript"))
        page.goto(base + "rnn-lab.html", wait_until="load")
        mathjax = page.evaluate(WAIT_FOR_MATHJAX, MATHJAX_TIMEOUT_MS)
        images = page.evaluate(LOAD_IMAGES, 60_000)
        page.emulate_media(media="print")
        prepared = page.evaluate(PREPARE_PRINT, [PRINT_CSS, "/" + page_path, entries])
        page.pdf(path=str(output), format="A4", print_background=True, outline=True, tagged=True,
                 margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
                 display_header_footer=True, header_template="<span></span>", footer_template=FOOTER)
        formulas = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        page.close()
    problems = watch.problems + [f"blocked a request to another host: {url}" for url in sorted(set(blocked))]
    problems += [f"image not loaded: {src}" for src in images["broken"]]
    problems += [f"the contents has no entry for {doc}: its title was not found" for doc in prepared["missing"]]
    if mathjax.get("timeout") or (mathjax["hasMath"] and not mathjax["loaded"]):
        problems.append("MathJax did not typeset the formulas")
    return {"problems": problems, "formulas": formulas, **prepared}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="the book's folder (default: the repository)")
    parser.add_argument("--path-output", type=Path,
                        help="jupyter-book's --path-output: builds go to <this>/_build (default: --source)")
    parser.add_argument("--config", type=Path, help="the book's config (default: jupyter-book's, _config.yml)")
    parser.add_argument("--output", type=Path, help="the PDF (default: <path-output>/_build/rnn-lab.pdf)")
    parser.add_argument("--skip-build", action="store_true", help="print the existing _build/singlehtml")
    parser.add_argument("--no-check", action="store_true", help="do not check the PDF afterwards")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    path_output = (args.path_output or source).resolve()
    build = path_output / "_build"
    output = args.output or build / "rnn-lab.pdf"
    if reason := chromium_missing():
        print(f"SKIPPED: the PDF is printed by Chromium: {reason}")
        return 0
    start = time.perf_counter()
    build_failure = None
    if not args.skip_build:
        status, executed = build_singlehtml(source, path_output, args.config, build / "pdf-build.log")
        if executed:
            print(f"note: the singlehtml build executed {executed} notebook(s); right after `make book` with the "
                  "same config it re-uses that build's results instead")
        if status != 0:  # with --keep-going the page is still written: print it, then fail
            build_failure = f"the singlehtml build failed (exit {status}); full log: {build / 'pdf-build.log'}"
    built = time.perf_counter()
    # singlehtml writes the whole book into the root document's page; index.html only redirects.
    page_path = toc_files(source / "_toc.yml")[0] + ".html"
    if not (build / "singlehtml" / page_path).is_file():
        print(f"{build / 'singlehtml' / page_path} missing: run without --skip-build")
        return 1
    print(f"== printing {build / 'singlehtml' / page_path} with headless Chromium", flush=True)
    result = print_pdf(build / "singlehtml", page_path, output, toc_entries(source / "_toc.yml"))
    printed = time.perf_counter()
    print(f"  {result['chapters']} documents, {result['formulas']} formulas, {result['images']} images, "
          f"{result['entries']} contents entries, {result['unlinked']} links off the page removed")
    failures = list(result["problems"])  # type: ignore[call-overload]
    if build_failure:
        failures.insert(0, build_failure)
    if not args.no_check:
        pdf_failures, facts = check_pdf(output, source / "_toc.yml", min_images=int(result["images"]))  # type: ignore[call-overload]
        failures += pdf_failures
        print(f"  {output}: " + ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in facts.items()))
    checked = time.perf_counter()
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"PDF: {output} ({'OK' if not failures else f'{len(failures)} failure(s)'}); build {built - start:.0f} s, "
          f"print {printed - built:.0f} s, check {checked - printed:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
