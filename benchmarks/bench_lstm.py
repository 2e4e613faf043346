"""Forward + backward of ``rnnlab.scratch.LSTM`` against ``torch.nn.LSTM``, in one run, on this CPU.

Shapes from the project's speed target: batch 32, time 100, input 32, hidden 128, float32.
Prints the median time of each and their ratio (target: scratch / torch <= 2).

    python benchmarks/bench_lstm.py [--repeats 20] [--threads N]

``--threads N`` gives NumPy's BLAS and torch the same thread count (default: each library's own
choice). Timings are wall-clock medians; on a busy machine, compare ratios, not milliseconds.
It also reports how long ``import rnnlab.scratch`` takes in a fresh interpreter (target: < 0.5 s).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from rnnlab import scratch

BATCH, TIME, INPUT, HIDDEN = 32, 100, 32, 128


def median_seconds(step, repeats: int) -> float:
    step()  # warm-up: allocations, lazy initialisation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_seconds(module: str) -> float:
    """Wall time of ``import module`` in a fresh interpreter (best of 3)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(3)]
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()
    limits = contextlib.nullcontext()
    if args.threads:
        torch.set_num_threads(args.threads)
        limits = threadpool_limits(args.threads)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, TIME, INPUT)).astype(np.float32)
    dout = rng.standard_normal((BATCH, TIME, HIDDEN)).astype(np.float32)

    model = scratch.LSTM(INPUT, HIDDEN, seed=0)

    def scratch_step():
        model(x)
        model.backward(dout)

    torch.manual_seed(0)
    twin = torch.nn.LSTM(INPUT, HIDDEN, batch_first=True)
    x_t = torch.from_numpy(x).requires_grad_(True)
    dout_t = torch.from_numpy(dout)

    def torch_step():
        twin.zero_grad(set_to_none=True)
        x_t.grad = None
        out, _ = twin(x_t)
        out.backward(dout_t)

    with limits:
        t_scratch = median_seconds(scratch_step, args.repeats)
        t_torch = median_seconds(torch_step, args.repeats)
    print(f"shapes: batch={BATCH} time={TIME} input={INPUT} hidden={HIDDEN} float32; torch threads={torch.get_num_threads()}")
    print(f"scratch.LSTM forward+backward: {t_scratch * 1e3:8.2f} ms")
    print(f"torch.nn.LSTM forward+backward: {t_torch * 1e3:8.2f} ms")
    print(f"ratio scratch/torch: {t_scratch / t_torch:.2f}  (target <= 2.00)")
    print(f"import rnnlab.scratch: {import_seconds('rnnlab.scratch'):.3f} s  (target < 0.5 s)")


if __name__ == "__main__":
    main()
