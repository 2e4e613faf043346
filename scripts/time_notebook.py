"""Run notebooks top to bottom and print each cell's wall-clock and CPU seconds.

Usage: python scripts/time_notebook.py book/ch01_background.ipynb [more.ipynb ...]

The book's budget is 60 s per notebook and 30 s per cell on 2 CPU cores. Wall time depends on
what else the machine is doing; the kernel's CPU time (user + system, all its threads) does much
less, so on a busy machine read the CPU column. Notebooks run from their own folder, as in the
book build, with the environment of this process (set OPENBLAS_NUM_THREADS=1 as the Makefile does).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

CELL_BUDGET_S = 30.0
NOTEBOOK_BUDGET_S = 60.0


def _kernel_cpu_seconds(client: NotebookClient) -> float:
    """User + system CPU seconds used so far by the kernel process and its children."""
    process = psutil.Process(client.km.provisioner.process.pid)
    total = sum(process.cpu_times()[:2])
    for child in process.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


def time_notebook(path: Path, timeout: int = 600) -> tuple[float, float]:
    """Execute one notebook; print a line per slow cell; return (wall, cpu) seconds in total."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    wall_total = cpu_total = 0.0
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cpu0, wall0 = _kernel_cpu_seconds(client), time.perf_counter()
            client.execute_cell(cell, index)
            wall, cpu = time.perf_counter() - wall0, _kernel_cpu_seconds(client) - cpu0
            wall_total, cpu_total = wall_total + wall, cpu_total + cpu
            flag = "  OVER 30 s" if max(wall, cpu) > CELL_BUDGET_S else ""
            if wall > 1.0 or cpu > 1.0:
                print(f"  cell [{index:2d}]  wall {wall:6.1f} s  cpu {cpu:6.1f} s{flag}")
    return wall_total, cpu_total


def main(paths: list[str]) -> int:
    over = False
    for name in paths:
        print(f"== {name}")
        wall, cpu = time_notebook(Path(name))
        flag = "  OVER 60 s" if max(wall, cpu) > NOTEBOOK_BUDGET_S else ""
        over |= bool(flag)
        print(f"   total   wall {wall:6.1f} s  cpu {cpu:6.1f} s{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
