"""Forward + backward of ``rnnlab.scratch.LSTM`` against ``torch.nn.LSTM``, in one run, on this CPU.

Shapes from the project's speed target: batch 32, time 100, input 32, hidden 128, float32.
Prints the median time of each and their ratio (target: scratch / torch <= 2).

    python benchmarks/bench_lstm.py [--repeats 20] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

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

    t_scratch = median_seconds(scratch_step, args.repeats)
    t_torch = median_seconds(torch_step, args.repeats)
    print(f"shapes: batch={BATCH} time={TIME} input={INPUT} hidden={HIDDEN} float32; torch threads={torch.get_num_threads()}")
    print(f"scratch.LSTM forward+backward: {t_scratch * 1e3:8.2f} ms")
    print(f"torch.nn.LSTM forward+backward: {t_torch * 1e3:8.2f} ms")
    print(f"ratio scratch/torch: {t_scratch / t_torch:.2f}  (target <= 2.00)")


if __name__ == "__main__":
    main()
