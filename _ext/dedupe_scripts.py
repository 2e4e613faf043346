"""Write each inline script once per page (works around a Sphinx 7.4 duplicate).

In Sphinx 7.4, `app.add_js_file(None, body=...)` called after the HTML builder has started (as
sphinx-thebe does at `env-before-read-docs`) lands in the page twice: once as `_JavaScript(None)`
and again as `_JavaScript('')` when the builder collects the registry's scripts, and the two do not
compare equal. sphinx-thebe's script declares `const THEBE_JS_URL`, so its second copy throws
"SyntaxError: Identifier 'THEBE_JS_URL' has already been declared" on every page of the book.
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    attributes = getattr(script, "attributes", {}) or {}
    return (str(getattr(script, "filename", script) or ""),
            tuple(sorted((str(k), str(v)) for k, v in attributes.items())))


def drop_duplicate_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Keep the first of scripts with the same file (or none) and attributes (the body included)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        if (key := _key(script)) not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: the list is the builder's, which later handlers may extend


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)  # after the others' page scripts
    return {"parallel_read_safe": True, "parallel_write_safe": True}
