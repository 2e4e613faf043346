"""Repository-wide pytest hooks: a per-notebook timing table for nbval runs.

`pytest --nbval-lax book` runs each notebook cell as one test item. This plugin adds up the
setup, call and teardown time of every cell per notebook (the kernel start is in the first
cell's setup) and prints one line per notebook at the end of the run.
"""

from __future__ import annotations

from collections import defaultdict

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
