"""Repository-wide pytest hooks for nbval runs.

`pytest --nbval-lax book` runs each notebook cell as one test item. Two plugins here:

* timing: the setup, call and teardown time of every cell is added up per notebook (the kernel
  start is in the first cell's setup) and one line per notebook is printed at the end of the run
  (under pytest-xdist the reports reach the controller, so the table covers every worker);
* ``--nbval-keep DIR``: each notebook whose cells all passed is written, with the outputs nbval
  collected, to DIR, for the book build to read instead of executing it a second time.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add the duration of each phase of a notebook cell to its notebook's total."""
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] += report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print "notebook — seconds", slowest first, with the total."""
    if not _NOTEBOOK_SECONDS:
        return
    width = max(len(path) for path in _NOTEBOOK_SECONDS)
    terminalreporter.section("notebook execution times")
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{path:<{width}} — {seconds:8.1f} s")
    total = sum(_NOTEBOOK_SECONDS.values())
    terminalreporter.write_line(f"{'total':<{width}} — {total:8.1f} s")


# --- Keeping what nbval executed -------------------------------------------------------------
# `make test` runs every notebook under nbval and then builds the book with -W. Executing each
# notebook twice was half of the test time, so nbval's run is kept: with --nbval-keep DIR every
# notebook whose cells all passed is written, with its outputs, to DIR (same relative path), and
# `scripts/cache_executed.py` puts those into the jupyter-cache that the book build reads.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--nbval-keep",
        metavar="DIR",
        default=None,
        help="write each notebook that passed under nbval, with its outputs, into DIR",
    )


_FAILED_NOTEBOOKS: set[str] = set()


def _notebook_file(item: pytest.Item):
    """The nbval file collector of a notebook cell item, or None for any other item."""
    parent = item.parent
    if parent is None or not str(getattr(parent, "path", "")).endswith(".ipynb"):
        return None
    return parent if hasattr(parent, "nb") and hasattr(item, "cell") else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """After a cell ran, copy the outputs nbval collected into the notebook it read."""
    report = yield
    notebook = _notebook_file(item)
    if notebook is None or not item.config.getoption("nbval_keep"):
        return report
    if report.failed:
        _FAILED_NOTEBOOKS.add(str(notebook.path))
    elif call.when == "call":
        count = getattr(notebook, "_kept_count", 0) + 1
        notebook._kept_count = count
        outputs = [nbformat.from_dict(dict(out)) for out in (item.test_outputs or [])]
        for out in outputs:
            if out.output_type == "execute_result":
                out.execution_count = count
        item.cell.outputs = outputs
        item.cell.execution_count = count
    return report


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After a notebook's last cell, write the executed notebook (only if every cell passed)."""
    notebook = _notebook_file(item)
    keep = item.config.getoption("nbval_keep")
    if notebook is None or not keep:
        return
    if nextitem is not None and nextitem.parent is notebook:
        return
    path = Path(notebook.path)
    if str(path) in _FAILED_NOTEBOOKS:
        return
    target = Path(keep) / path.resolve().relative_to(Path(item.config.rootpath).resolve())
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(notebook.nb)
    nbformat.write(notebook.nb, target)
