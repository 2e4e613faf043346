"""Open the built book in a real browser (headless Chromium) and check what a reader gets.

The built HTML is served from 127.0.0.1 (a thread running `http.server` on a free port) and opened
with Playwright driving Debian's Chromium (`/usr/bin/chromium`; never `playwright install`). Every
request to any other host is blocked and reported. For every page of the book it checks that

1. MathJax typeset every formula: each `.math` element holds an `mjx-container`, MathJax reported no
   error (`mjx-merror`), and no raw `$...$`, `$$`, `\\(`, `\\[` or LaTeX command is left in the prose
   (code blocks and cell outputs in `<pre>`/`<code>` are not prose and are not checked);
2. every `<img>` loaded (natural width > 0; lazy images are switched to eager first);
3. the console shows no error and the page raises no uncaught exception;
4. the page asks for nothing but 127.0.0.1 and gets no 4xx/5xx answer;
5. every link in the sidebar answers 200, and the sidebars together reach every page of the toc;
6. a page built from a notebook offers its `.ipynb` in the download menu, and that file answers 200;

and that the search page finds "LSTM" and `index.html` redirects to the first page. A full-page
screenshot of every page goes under `--screenshots` so a person can look at them. With `--pdf`, it
also checks the PDF edition (`scripts/make_pdf.py`): page count, every chapter title in the text,
embedded images, the Chinese terms as text (in a CJK font), an outline and internal links.

Usage: python scripts/check_in_browser.py _build/html [--screenshots _build/screenshots]
                                                      [--pdf _build/rnn-lab.pdf]
Exit status: 0 all good (or skipped: no Chromium), 1 with the list of failures, 2 bad usage.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import functools
import http.server
import json
import os
import re
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOC = ROOT / "_toc.yml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
HOW_TO_GET_CHROMIUM = "install Debian's Chromium with `apt-get install chromium` (never `playwright install`)"
SEARCH_TERM = "LSTM"
CHINESE_PROBE = "循环神经网络"  # "recurrent neural network": the book's central term
# Folders of the build that hold assets, not pages; pages checked on their own (search) or not at all.
ASSET_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "_panels_static", "reports"}
NOT_BOOK_PAGES = {"genindex.html", "search.html", "py-modindex.html", "index.html"}
MATHJAX_TIMEOUT_MS = 60_000
SHOW = 5  # examples shown per kind of problem on one page
SCREENSHOT_TIMEOUT_MS = 180_000  # the API page is over 100 000 pixels tall


# ---------------------------------------------------------------------------------------------
# Pure helpers (unit-tested in tests/test_check_in_browser.py without a browser or a build)

# Elements whose text is not prose: code, typeset math, scripts, figures drawn as SVG.
SKIP_TAGS = {"pre", "code", "kbd", "samp", "script", "style", "textarea", "svg", "math", "mjx-container",
             "mjx-assistive-mml", "template"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
             "wbr", "param"}
SKIP_CLASSES = {"highlight", "sig"}  # code cells; API signatures (`dt.sig`), code too


class _ProseParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.skip_at: int | None = None  # depth of the element whose content is being skipped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        self.stack.append(tag)
        classes = set((dict(attrs).get("class") or "").split())
        if self.skip_at is None and (tag in SKIP_TAGS or classes & SKIP_CLASSES):
            self.skip_at = len(self.stack)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or tag not in self.stack:
            return
        while self.stack:  # close whatever the end tag closes (tolerates unclosed <p>, <li>)
            depth = len(self.stack)
            if self.skip_at is not None and depth <= self.skip_at:
                self.skip_at = None
            if self.stack.pop() == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.skip_at is None:
            self.parts.append(data)


def prose_text(html: str) -> str:
    """The text of an HTML fragment without code, typeset math, scripts and SVG.

    `<pre>`, `<code>`, `<kbd>`, `<samp>`, elements of class `highlight` (code cells), `mjx-container`
    (what MathJax made of a formula) and `<script>`/`<style>`/`<svg>` are dropped with their content,
    so a `$` in code or a printed price cannot look like raw math.
    """
    parser = _ProseParser()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


RAW_MATH = [  # in order of priority where two start at the same place; a pair counts as one problem
    ("display math left as $$", re.compile(r"\$\$(?:[^$]{0,400}?\$\$)?", re.S)),
    ("raw \\( or \\) delimiter", re.compile(r"\\\((?:.{0,200}?\\\))?|\\\)", re.S)),
    ("raw \\[ or \\] delimiter", re.compile(r"\\\[(?:.{0,400}?\\\])?|\\\]", re.S)),
    ("raw LaTeX environment", re.compile(r"\\begin\{(\w+\*?)\}(?:.{0,800}?\\end\{\1\})?|\\end\{", re.S)),
    # $x$, $h_t = f(x)$: a dollar, no space, up to 200 characters on one line, no space, a dollar.
    # "$5 and $6" does not match (a space before the second dollar); "\$" is an escaped dollar.
    ("inline math left as $...$", re.compile(r"(?<![\\$])\$(?=[^\s$])[^$\n]{0,200}?(?<=[^\s$\\])\$(?!\$)")),
    ("raw LaTeX command", re.compile(r"\\[A-Za-z]{2,}")),
]


def find_raw_math(text: str) -> list[str]:
    """Every piece of `text` that looks like LaTeX that MathJax did not typeset, as "kind: context".

    Text given here should be prose only (`prose_text`): a `$` in code is not math.
    """
    matches = sorted((m.start(), rank, m.end(), kind)
                     for rank, (kind, pattern) in enumerate(RAW_MATH) for m in pattern.finditer(text))
    found, reported_to, last_kind = [], -1, ""
    for begin, _, end, kind in matches:
        # Inside what was just reported (`\\(\\sigma\\)` is one problem, not three), or more of
        # the same a few characters on ("\\tanh, not \\sigma" is one place).
        if begin < reported_to or (kind == last_kind and begin - reported_to < 20):
            reported_to = max(reported_to, end)
            continue
        reported_to, last_kind = end, kind
        snippet = " ".join(text[max(0, begin - 15): min(end, begin + 60) + 15].split())
        found.append(f"{kind}: {snippet}")
    return found


def raw_math_in_html(html: str) -> list[str]:
    """`find_raw_math` on the prose of an HTML fragment (see `prose_text`)."""
    return find_raw_math(prose_text(html))


def is_local(url: str, port: int) -> bool:
    """Whether `url` stays on this machine's book server (127.0.0.1:`port`) or needs no network."""
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return parts.scheme in {"http", "https"} and parts.hostname == "127.0.0.1" and parts.port == port


def toc_files(toc_path: Path = TOC) -> list[str]:
    """The files of a jb-book `_toc.yml` in reading order (root first), without suffixes."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    if not isinstance(toc, dict) or "root" not in toc:
        raise ValueError(f"{toc_path}: expected a jb-book toc with a `root` key, got {type(toc).__name__}")
    files = [str(toc["root"])]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(str(entry["file"]))
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return [re.sub(r"\.(md|ipynb)$", "", f) for f in files]


def _clean_heading(text: str) -> str:
    text = re.sub(r"\{[\w:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)  # {term}`LSTM <lstm>` -> LSTM
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](link) -> text
    text = re.sub(r"[`*]", "", text)
    return " ".join(text.split())


def first_heading(source: Path) -> str:
    """The first level-1 heading (`# Title`) of a MyST Markdown file or of a notebook's Markdown."""
    if source.suffix == ".ipynb":
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = source.read_text(encoding="utf-8")
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # front matter
    in_fence = False
    for line in text.splitlines():
        if re.match(r"\s*(```|~~~|:::)", line):
            in_fence = not in_fence
        if not in_fence and (match := re.match(r"#\s+(.+?)\s*#*\s*$", line)):
            return _clean_heading(match.group(1))
    raise ValueError(f"{source}: no level-1 heading (`# Title`) found")


def chapter_titles(toc_path: Path = TOC) -> dict[str, str]:
    """For each file of the toc, its title: the first heading of `<file>.ipynb` or `<file>.md`."""
    titles = {}
    for name in toc_files(toc_path):
        candidates = [toc_path.parent / f"{name}{suffix}" for suffix in (".ipynb", ".md")]
        source = next((c for c in candidates if c.exists()), None)
        if source is None:
            raise FileNotFoundError(f"{toc_path}: lists {name}, but neither {name}.ipynb nor {name}.md exists")
        titles[name] = first_heading(source)
    return titles


QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _squash(text: str) -> str:
    """Text in NFKC without whitespace or soft hyphens, to match text that PDF extraction re-flowed.

    NFKC undoes ligatures (ﬁ -> fi) and the Kangxi radicals that Noto CJK's glyphs map back to
    (⼀ U+2F00 -> 一 U+4E00, ⽹ U+2F79 -> 网 U+7F51); Sphinx's curly quotes become straight ones.
    """
    return re.sub(r"[\s\u00ad]+", "", unicodedata.normalize("NFKC", text).translate(QUOTES))


def _pattern(text: str) -> re.Pattern[str]:
    """A pattern for `text` in squashed PDF text (see `_squash`).

    Chromium's PDF maps some glyphs of Noto CJK back to the CJK Radicals Supplement, which NFKC
    leaves alone (⻔ U+2ED4 for 门, ⻓ U+2ED3 for 长, ⻅ U+2EC5 for 见): a Chinese character
    also matches any radical there.
    """
    parts = [f"(?:{re.escape(ch)}|[\u2e80-\u2fdf])" if "\u3400" <= ch <= "\u9fff" else re.escape(ch)
             for ch in _squash(text)]
    return re.compile("".join(parts))


def book_pages(html_root: Path) -> list[str]:
    """The built pages of the book (relative paths), without assets, indexes, search and redirect."""
    pages = []
    for path in sorted(html_root.rglob("*.html")):
        rel = path.relative_to(html_root)
        if rel.parts[0] in ASSET_DIRS or (len(rel.parts) == 1 and rel.name in NOT_BOOK_PAGES):
            continue
        pages.append(rel.as_posix())
    return pages


def screenshot_name(page: str) -> str:
    """`book/ch06_applications/index.html` -> `book__ch06_applications__index.png`."""
    return re.sub(r"\.html$", "", page).replace("/", "__") + ".png"


# ---------------------------------------------------------------------------------------------
# The PDF edition


def _pdf_objects(reader: Any) -> tuple[int, set[str], int, list[str]]:
    """Images (distinct XObjects), font names, internal links and links to 127.0.0.1 of a PDF."""
    images: set[tuple[int, int]] = set()
    fonts: set[str] = set()
    internal, local_uris = 0, []

    def scan_resources(resources: Any, seen: set[int]) -> None:
        if resources is None or id(resources) in seen:
            return
        seen.add(id(resources))
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            # Type0 fonts name theirs in /BaseFont; Chromium's Type3 fonts (Noto CJK among them)
            # only in their /FontDescriptor.
            for part in [font.get_object(), *(font.get_object().get("/DescendantFonts") or [])]:
                part = part.get_object()
                descriptor = part.get("/FontDescriptor")
                names = [part.get("/BaseFont"), descriptor.get_object().get("/FontName") if descriptor else None]
                fonts.update(str(name).lstrip("/") for name in names if name)
        for ref in (resources.get("/XObject") or {}).values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                key = (ref.idnum, ref.generation) if hasattr(ref, "idnum") else (id(xobject), 0)
                images.add(key)
            elif xobject.get("/Subtype") == "/Form":
                scan_resources(xobject.get("/Resources"), seen)

    for page in reader.pages:
        scan_resources(page.get("/Resources"), set())
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            action = action.get_object() if action is not None else {}
            if "/Dest" in annot or action.get("/S") == "/GoTo":
                internal += 1
            uri = str(action.get("/URI", ""))
            if re.match(r"https?://(127\.0\.0\.1|localhost)\b", uri):
                local_uris.append(uri)
    return len(images), fonts, internal, local_uris


def _outline_entries(reader: Any, outline: Any) -> list[tuple[str, int | None]]:
    """Every bookmark of a PDF (nested ones too) as (title, index of the page it leads to)."""
    entries: list[tuple[str, int | None]] = []
    for item in outline:
        if isinstance(item, list):
            entries += _outline_entries(reader, item)
        else:
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a bookmark without a usable destination
                page = None
            entries.append((str(item.title), page))
    return entries


def check_pdf(pdf: Path, toc_path: Path = TOC, *, min_pages: int | None = None, min_images: int = 1,
              chinese: str = CHINESE_PROBE) -> tuple[list[str], dict[str, Any]]:
    """Check the PDF edition; returns (failures, facts such as the page and image counts).

    Every file of the toc must have its title in the outline (bookmarks) and, as text, on the page
    that outline entry leads to; `chinese` must be in the text. Only those pages' text is extracted
    (pypdf takes minutes over 400 pages); the whole text only when something is not found there.
    `min_pages` defaults to three pages per file of the toc.
    """
    from pypdf import PdfReader

    titles = chapter_titles(toc_path)
    min_pages = 3 * len(titles) if min_pages is None else min_pages
    if not pdf.is_file():
        return [f"{pdf}: no such file (build it with `make pdf`)"], {}
    reader = PdfReader(pdf)
    pages = len(reader.pages)
    texts: dict[int, str] = {}

    def text_of(number: int) -> str:
        if number not in texts:
            texts[number] = _squash(reader.pages[number].extract_text() or "")
        return texts[number]

    def anywhere(pattern: re.Pattern[str]) -> bool:
        return any(pattern.search(text_of(number)) for number in range(pages))

    images, fonts, internal, local_uris = _pdf_objects(reader)
    outline = _outline_entries(reader, reader.outline)
    facts = {"pages": pages, "images": images, "internal_links": internal, "outline_entries": len(outline),
             "megabytes": round(pdf.stat().st_size / 1e6, 1)}
    failures = []
    if pages < min_pages:
        failures.append(f"{pdf}: {pages} pages, expected at least {min_pages}")
    for name, title in titles.items():
        pattern = re.compile(f"^{_pattern(title).pattern}$")
        targets = [page for entry, page in outline if pattern.match(_squash(entry))]
        if not targets:
            failures.append(f"{pdf}: the outline (bookmarks) lacks {name}: {title!r}")
        if not any(page is not None and page >= 0 and _pattern(title).search(text_of(page)) for page in targets) \
                and not anywhere(_pattern(title)):
            failures.append(f"{pdf}: the text lacks the title of {name}: {title!r}")
    if images < min_images:
        failures.append(f"{pdf}: embeds {images} images, expected at least {min_images}")
    if chinese and not any(_pattern(chinese).search(text) for text in list(texts.values())) \
            and not anywhere(_pattern(chinese)):
        failures.append(f"{pdf}: the text lacks {chinese!r}: Chinese glyphs missing (apt-get install fonts-noto-cjk)")
    if chinese and not any("CJK" in font for font in fonts):
        failures.append(f"{pdf}: no CJK font embedded (fonts: {sorted(fonts)[:8]})")
    if internal == 0:
        failures.append(f"{pdf}: no internal links")
    for uri in sorted(set(local_uris))[:SHOW]:
        failures.append(f"{pdf}: a link to the build server, dead outside it: {uri}")
    facts["pages_read"] = len(texts)
    return failures, facts


# ---------------------------------------------------------------------------------------------
# Serving and browsing


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the browser closed a connection
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: expected a built book (a folder), found nothing")
    server = _QuietServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def http_status(url: str) -> int:
    """The HTTP status of a GET (local server only; no redirects to follow in a static build)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def chromium_missing() -> str | None:
    """Why the browser check cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: {HOW_TO_GET_CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed: `make venv` (pip install -e '.[all]')"
    return None


@contextlib.contextmanager
def browser_session(base: str, blocked: list[str]) -> Iterator[Any]:
    """Headless Chromium; yields `new_context()`, which makes a fresh context (a first-time reader:
    empty cache and localStorage) in which every request off `base`'s server is aborted and recorded."""
    from playwright.sync_api import sync_playwright

    port = urlsplit(base).port or 80

    def route(route: Any) -> None:
        if is_local(route.request.url, port):  # never matched by `off_server`; kept as a safeguard
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    # Matched inside Playwright's driver: requests to the book's server never wait on Python.
    off_server = re.compile(rf"^(?!http://127\.0\.0\.1:{port}/)")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)

        def new_context() -> Any:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light",
                                          service_workers="block")
            context.set_default_timeout(30_000)
            context.route(off_server, route)
            return context

        try:
            yield new_context
        finally:
            browser.close()


@contextlib.contextmanager
def browser_context(base: str, blocked: list[str]) -> Iterator[Any]:
    """One such context (see `browser_session`)."""
    with browser_session(base, blocked) as new_context:
        context = new_context()
        try:
            yield context
        finally:
            context.close()


class PageWatch:
    """Console errors, uncaught exceptions and failed local requests of one page."""

    def __init__(self, page: Any, port: int) -> None:
        self.problems: list[str] = []
        self.port = port
        self.failed_urls: set[str] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        page.on("response", self._response)
        page.on("requestfailed", self._request_failed)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed_urls.add(response.url)
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _request_failed(self, request: Any) -> None:
        # Requests off the server are blocked on purpose and reported as such by the caller.
        if is_local(request.url, self.port) and request.url not in self.failed_urls:
            self.failed_urls.add(request.url)
            self.problems.append(f"request failed ({request.failure}): {request.url}")

    def _console(self, message: Any) -> None:
        # "Failed to load resource" repeats what _response, _request_failed and the blocking report.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            where = message.location.get("url", "") if message.location else ""
            self.problems.append(f"console error: {message.text}" + (f" (at {where})" if where else ""))


# MathJax 3: `window.MathJax` is Sphinx's configuration object until the loader replaces it;
# `MathJax.startup.promise` resolves once the first typesetting pass is over.
WAIT_FOR_MATHJAX = """async (timeoutMs) => {
  const hasMath = document.querySelector('.math') !== null;
  const loader = document.querySelector('script[src*="mathjax" i], script[src*="tex-" i]');
  if (!loader) return {loaded: false, hasMath};
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > timeoutMs) return {loaded: false, hasMath, timeout: true};
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  return {loaded: true, hasMath};
}"""

INSPECT_MATH = """() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const untypeset = math.filter(e => !e.querySelector('mjx-container'))
                        .map(e => e.textContent.trim().slice(0, 80));
  const errors = Array.from(document.querySelectorAll('mjx-merror'))
                      .map(e => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 80));
  const article = document.querySelector('article.bd-article') || document.querySelector('main')
                  || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll('mjx-container, script, style, svg').forEach(e => e.remove());
  return {count: math.length, typeset: document.querySelectorAll('mjx-container').length,
          untypeset, errors, html: copy.innerHTML};
}"""

# Lazy images load when scrolled to; switching them to eager loads them all, hidden ones included.
LOAD_IMAGES = """async (timeoutMs) => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  const settled = img => img.complete ? Promise.resolve() : new Promise(r => {
    img.addEventListener('load', r, {once: true}); img.addEventListener('error', r, {once: true}); });
  await Promise.race([Promise.all(images.map(settled)), new Promise(r => setTimeout(r, timeoutMs))]);
  return {count: images.length,
          broken: images.filter(img => !(img.complete && img.naturalWidth > 0))
                        .map(img => img.getAttribute('src') || img.outerHTML.slice(0, 120))};
}"""

LINKS = """() => ({
  sidebar: Array.from(document.querySelectorAll('.bd-sidebar-primary a[href]')).map(a => a.href),
  downloads: Array.from(document.querySelectorAll('.dropdown-download-buttons a[href]')).map(a => a.href),
})"""


def _examples(kind: str, items: list[str]) -> list[str]:
    shown = [f"{kind}: {item}" for item in items[:SHOW]]
    if len(items) > SHOW:
        shown.append(f"{kind}: ... and {len(items) - SHOW} more")
    return shown


def check_page(context: Any, base: str, page_path: str, screenshots: Path | None,
               notebook: bool, blocked: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Open one page and return (its problems, what it found: formulas, images, links)."""
    port = urlsplit(base).port or 80
    page = context.new_page()
    watch = PageWatch(page, port)
    problems: list[str] = []
    blocked.clear()
    try:
        response = page.goto(urljoin(base, page_path), wait_until="load")
        if response is None or response.status != 200:
            return [f"opening the page answered {response.status if response else 'nothing'}"], {}
        mathjax = page.evaluate(WAIT_FOR_MATHJAX, MATHJAX_TIMEOUT_MS)
        if mathjax.get("timeout"):
            problems.append(f"MathJax did not finish within {MATHJAX_TIMEOUT_MS / 1000:.0f} s")
        elif mathjax["hasMath"] and not mathjax["loaded"]:
            problems.append("the page has formulas but loads no MathJax")
        math = page.evaluate(INSPECT_MATH)
        problems += _examples("formula not typeset", math["untypeset"])
        problems += _examples("MathJax error", math["errors"])
        problems += _examples("raw math in the text", raw_math_in_html(math["html"]))
        images = page.evaluate(LOAD_IMAGES, 20_000)
        problems += _examples("image not loaded", images["broken"])
        if screenshots is not None:  # before the download menu is opened
            page.screenshot(path=str(screenshots / screenshot_name(page_path)), full_page=True,
                            timeout=SCREENSHOT_TIMEOUT_MS)
        links = page.evaluate(LINKS)
        if notebook:
            source = urljoin(base, "_sources/" + re.sub(r"\.html$", ".ipynb", page_path))
            if source not in links["downloads"]:
                problems.append(f"the download menu does not offer {source} (it offers {links['downloads']})")
            else:
                page.click(".dropdown-download-buttons button")
                item = page.locator(f'.dropdown-download-buttons a[href$="{Path(source).name}"]')
                if not item.first.is_visible():
                    problems.append("the download menu opens, but its .ipynb entry is not visible")
                page.keyboard.press("Escape")
                if (status := http_status(source)) != 200:
                    problems.append(f"the notebook download answers {status}: {source}")
        problems += watch.problems
        problems += _examples("request to another host (blocked)", sorted(set(blocked)))
        facts = {"formulas": math["count"], "images": images["count"], "sidebar": links["sidebar"]}
        return problems, facts
    finally:
        page.close()


def check_search(context: Any, base: str, screenshots: Path | None, blocked: list[str]) -> list[str]:
    """The search page, asked for SEARCH_TERM, lists at least one page of the book."""
    port = urlsplit(base).port or 80
    page = context.new_page()
    watch = PageWatch(page, port)
    blocked.clear()
    problems = []
    try:
        page.goto(urljoin(base, f"search.html?q={SEARCH_TERM}"), wait_until="load")
        try:
            page.wait_for_selector("#search-results ul.search li a", timeout=30_000)
        except Exception:  # Playwright's TimeoutError
            summary = page.locator("#search-results").inner_text() if page.locator("#search-results").count() else ""
            problems.append(f"searching for {SEARCH_TERM!r} shows no result ({summary.strip()[:120]!r})")
        else:
            hrefs = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
            if not any("/book/" in href for href in hrefs):
                problems.append(f"searching for {SEARCH_TERM!r} finds no page of the book: {hrefs[:SHOW]}")
        if screenshots is not None:
            page.screenshot(path=str(screenshots / "search.png"), full_page=True)
        return problems + watch.problems + _examples("request to another host (blocked)", sorted(set(blocked)))
    finally:
        page.close()


def check_redirect(context: Any, base: str, first_page: str) -> list[str]:
    """`index.html` (what a browser opens first) leads to the book's first page."""
    page = context.new_page()
    try:
        page.goto(urljoin(base, "index.html"))
        page.wait_for_url(f"**/{first_page}", timeout=10_000)
        return []
    except Exception as error:  # Playwright's TimeoutError, or a failed navigation
        return [f"index.html does not lead to {first_page} (now at {page.url}): {str(error).splitlines()[0]}"]
    finally:
        page.close()


def _worker(base: str, tasks: list[str], screenshots: Path | None, toc_path: Path, first_page: str,
            log: Any) -> tuple[dict[str, list[str]], set[str]]:
    """Check `tasks` (pages, "search.html", "index.html") in one browser; returns (failures, sidebar URLs)."""
    failures: dict[str, list[str]] = {}
    sidebar: set[str] = set()
    blocked: list[str] = []
    with browser_session(base, blocked) as new_context:
        for task in tasks:
            start = time.perf_counter()
            context = new_context()
            facts: dict[str, Any] = {}
            try:
                if task == "search.html":
                    problems = check_search(context, base, screenshots, blocked)
                elif task == "index.html":
                    problems = check_redirect(context, base, first_page)
                else:
                    notebook = (toc_path.parent / re.sub(r"\.html$", ".ipynb", task)).exists()
                    problems, facts = check_page(context, base, task, screenshots, notebook, blocked)
            except Exception as error:  # a timeout on one page should not hide the others' results
                problems = [f"the check itself failed: {type(error).__name__}: {str(error).splitlines()[0]}"]
            finally:
                context.close()
            sidebar.update(url.split("#")[0] for url in facts.get("sidebar", []))
            if problems:
                failures[task] = problems
            log(f"  {task:<48} {facts.get('formulas', 0):5d} formulas {facts.get('images', 0):3d} images"
                f"  {time.perf_counter() - start:5.1f} s  {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return failures, sidebar


def check_book(html_root: Path, screenshots: Path | None = None, toc_path: Path = TOC,
               log: Any = print, workers: int = 2) -> dict[str, list[str]]:
    """Run every browser check on the built book; returns {page: [problems]} (only pages with problems).

    `workers` browsers share the pages (each page's renderer is one busy process; two use two cores).
    """
    failures: dict[str, list[str]] = {}
    expected = [f"{name}.html" for name in toc_files(toc_path)]
    pages = book_pages(html_root)
    for page in expected:
        if page not in pages:
            failures.setdefault(page, []).append("listed in _toc.yml but not built")
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    tasks = pages + ["search.html", "index.html"]
    # Longest pages first, dealt in turn, so the workers finish at about the same time.
    tasks.sort(key=lambda task: -(html_root / task).stat().st_size)
    shares = [tasks[i::workers] for i in range(max(1, workers))]
    sidebar_targets: set[str] = set()
    with serve(html_root) as base:
        with concurrent.futures.ThreadPoolExecutor(len(shares)) as pool:
            futures = [pool.submit(_worker, base, share, screenshots, toc_path, expected[0], log)
                       for share in shares]
            for future in futures:
                found, sidebar = future.result()
                sidebar_targets |= sidebar
                for task, problems in found.items():
                    failures.setdefault(task, []).extend(problems)
        port = urlsplit(base).port or 80
        for url in sorted(sidebar_targets):
            if not is_local(url, port):
                failures.setdefault("sidebar", []).append(f"links off the book: {url}")
            elif (status := http_status(url)) != 200:
                failures.setdefault("sidebar", []).append(f"link answers {status}: {url}")
        reached = {url[len(base):] for url in sidebar_targets if url.startswith(base)}
        for page in expected[1:]:  # the root page is the logo's and the home entry's target
            if page not in reached:
                failures.setdefault("sidebar", []).append(f"no sidebar links to {page}")
    order = {task: number for number, task in enumerate(expected + pages + ["search.html", "index.html"])}
    return dict(sorted(failures.items(), key=lambda item: order.get(item[0], len(order))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path, help="the built book, e.g. _build/html")
    parser.add_argument("--screenshots", type=Path, help="save a full-page screenshot of every page here")
    parser.add_argument("--pdf", type=Path, help="also check this PDF edition (scripts/make_pdf.py)")
    parser.add_argument("--toc", type=Path, default=TOC, help="the book's _toc.yml (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="browsers checking pages side by side (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (args.html / "search.html").is_file():
        parser.error(f"{args.html}: expected a built book (with search.html); build it first (make book)")
    if reason := chromium_missing():
        print(f"SKIPPED: the browser check needs Chromium: {reason}")
        return 0
    start = time.perf_counter()
    print(f"== the built book in headless Chromium ({args.html})")
    failures = check_book(args.html, args.screenshots, args.toc, workers=args.workers)
    if args.pdf is not None:
        pdf_failures, facts = check_pdf(args.pdf, args.toc)
        print(f"  {args.pdf}: " + ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in facts.items()))
        if pdf_failures:
            failures["PDF"] = pdf_failures  # each message starts with the PDF's path
    for where, problems in failures.items():
        for problem in problems:
            print(f"FAIL {where}: {problem}")
    count = sum(len(problems) for problems in failures.values())
    shots = f"; screenshots in {args.screenshots}" if args.screenshots else ""
    print(f"browser check: {'OK' if not count else f'{count} failure(s)'} in {time.perf_counter() - start:.0f} s"
          + shots)
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main())
