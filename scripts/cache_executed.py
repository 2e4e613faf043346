"""Put the notebooks that nbval executed into the jupyter-cache that the book build reads.

`make test` runs every notebook once, under nbval (``pytest --nbval-lax --nbval-keep DIR``),
and then builds the book with ``execute_notebooks: cache``. This script is the bridge: for
every notebook in ``_toc.yml`` it takes the executed copy from DIR, checks that its code is
the code of the notebook in the tree (cell for cell, so a stale copy cannot slip in), and
caches it under the key myst-nb looks up (the hash of the code cells and the kernelspec).
It fails, naming them, if any notebook has no executed copy: the build would otherwise
execute those itself and the run would silently take twice as long.

    python scripts/cache_executed.py _build/executed --cache _build/.jupyter_cache
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn


def toc_notebooks(root: Path) -> list[Path]:
    """The ``.ipynb`` files that ``_toc.yml`` lists, relative to ``root``, in toc order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files: list[Path] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    path = Path(node[key]).with_suffix(".ipynb")
                    if (root / path).is_file():
                        files.append(path)
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return files


def code_sources(nb: nbformat.NotebookNode) -> list[str]:
    """The source of each code cell, the part of a notebook that its cache key depends on."""
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def cache_executed(root: Path, executed: Path, cache_path: Path) -> list[str]:
    """Cache every toc notebook's executed copy; return the problems found (empty if none)."""
    cache = get_cache(cache_path)
    problems = []
    for rel in toc_notebooks(root):
        copy = executed / rel
        if not copy.is_file():
            problems.append(f"{rel}: no executed copy in {executed} (did nbval run and pass it?)")
            continue
        source = nbformat.read(root / rel, as_version=4)
        ran = nbformat.read(copy, as_version=4)
        if code_sources(ran) != code_sources(source):
            problems.append(f"{rel}: the executed copy in {executed} has different code (stale copy?)")
            continue
        missing = [i for i, cell in enumerate(ran.cells) if cell.cell_type == "code" and cell.execution_count is None]
        if missing:
            problems.append(f"{rel}: code cells {missing} were not executed")
            continue
        cache.cache_notebook_bundle(
            CacheBundleIn(ran, str((root / rel).resolve())), check_validity=False, overwrite=True
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("executed", type=Path, help="folder that nbval --nbval-keep wrote")
    parser.add_argument("--cache", type=Path, default=Path("_build/.jupyter_cache"))
    parser.add_argument("--root", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    problems = cache_executed(args.root, args.executed, args.cache)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"cached {len(toc_notebooks(args.root))} executed notebooks in {args.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
