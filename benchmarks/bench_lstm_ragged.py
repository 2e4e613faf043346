"""Ragged, bidirectional forward + backward: ``rnnlab.scratch.LSTM(lengths=...)`` against
``torch.nn.LSTM`` on packed sequences, in one run, on this CPU.

Shapes as in ``bench_lstm.py`` (batch 32, time 100, input 32, hidden 128, float32), with
``bidirectional=True`` and lengths drawn uniformly from 1..100 (seeded; one sequence is full
length). Prints the median time of each and their ratio (target: scratch / torch <= 2.5).

    python benchmarks/bench_lstm_ragged.py [--repeats 20] [--threads N]

Torch's time includes ``pack_padded_sequence`` and ``pad_packed_sequence``, the price of
padding there, as scratch's includes its sorting and per-sequence reversal. Timings are
wall-clock medians; on a busy machine, compare ratios, not milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib

import numpy as np
import torch
from bench_lstm import BATCH, HIDDEN, INPUT, TIME, median_seconds
from threadpoolctl import threadpool_limits

from rnnlab import scratch
from rnnlab.torch import run_rnn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: each library's choice)")
    args = parser.parse_args()
    limits = contextlib.nullcontext()
    if args.threads:
        torch.set_num_threads(args.threads)
        limits = threadpool_limits(args.threads)

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, TIME + 1, size=BATCH)
    lengths[0] = TIME
    x = rng.standard_normal((BATCH, TIME, INPUT)).astype(np.float32)
    dout = rng.standard_normal((BATCH, TIME, 2 * HIDDEN)).astype(np.float32)
    dout *= (np.arange(TIME)[None, :] < lengths[:, None])[..., None]  # padded outputs are constants

    model = scratch.LSTM(INPUT, HIDDEN, bidirectional=True, seed=0)

    def scratch_step():
        model(x, lengths=lengths)
        model.backward(dout)

    torch.manual_seed(0)
    twin = torch.nn.LSTM(INPUT, HIDDEN, batch_first=True, bidirectional=True)
    x_t = torch.from_numpy(x).requires_grad_(True)
    dout_t = torch.from_numpy(dout)

    def torch_step():
        twin.zero_grad(set_to_none=True)
        x_t.grad = None
        out, _ = run_rnn(twin, x_t, lengths=lengths)
        out.backward(dout_t)

    with limits:
        t_scratch = median_seconds(scratch_step, args.repeats)
        t_torch = median_seconds(torch_step, args.repeats)
    print(f"shapes: batch={BATCH} time={TIME} input={INPUT} hidden={HIDDEN} float32, bidirectional, "
          f"lengths {lengths.min()}..{lengths.max()} (mean {lengths.mean():.1f}); torch threads={torch.get_num_threads()}")
    print(f"scratch.LSTM forward+backward (lengths):        {t_scratch * 1e3:8.2f} ms")
    print(f"torch.nn.LSTM forward+backward (packed):         {t_torch * 1e3:8.2f} ms")
    print(f"ratio scratch/torch: {t_scratch / t_torch:.2f}  (target <= 2.50)")


if __name__ == "__main__":
    main()
