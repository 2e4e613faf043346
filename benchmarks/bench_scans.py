"""The parallel forms of ``rnnlab.modern`` against their loops, for long sequences, in one run.

For each recurrence and each length T it times ``mode="recurrent"`` (T dependent steps) and
``mode="parallel"`` (a chunked matrix form or a scan) on the same inputs, checks that they agree,
and prints the median times and the ratio loop / parallel (> 1: the parallel form is faster).

    python benchmarks/bench_scans.py [--repeats 5] [--lengths 256 1024 4096] [--threads 1]

Timings are wall-clock medians in NumPy on this CPU; on a busy machine compare ratios, not
milliseconds. This is a measurement, not a test: nothing fails when a ratio is small.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np

from rnnlab import modern

BATCH, DK, DV, WIDTH, STATE = 4, 16, 16, 16, 16


def median_seconds(step, repeats: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cases(T: int, rng: np.random.Generator):
    """(name, function of mode) pairs on random inputs of length T."""
    q, k, v = rng.standard_normal((3, BATCH, T, DK))
    k = k / np.linalg.norm(k, axis=-1, keepdims=True)
    decay = rng.uniform(0.9, 1.0, (BATCH, T))
    beta = rng.uniform(0.1, 1.0, (BATCH, T))
    x = rng.standard_normal((BATCH, T, WIDTH))
    delta = np.exp(rng.standard_normal((BATCH, T, WIDTH)) - 2)
    A = -np.exp(rng.standard_normal((WIDTH, STATE)))
    B, C = rng.standard_normal((2, BATCH, T, STATE))
    W, b = rng.standard_normal((2, WIDTH, WIDTH)) / 4, rng.standard_normal((3, WIDTH))
    yield "linear attention + decay (chunked)", lambda mode: modern.linear_attention(q, k, v, decay=decay, mode=mode)
    yield "Gated DeltaNet (chunked, UT solve)", lambda mode: modern.delta_rule(q, k, v, beta, decay=decay, mode=mode)
    yield "Mamba-2 SSD (chunked)", lambda mode: modern.ssd(x, decay, B, C, mode=mode)
    yield "Mamba S6 selective scan (scan)", lambda mode: modern.selective_scan(x, delta, A, B, C, mode=mode)
    yield "RG-LRU (scan)", lambda mode: modern.rg_lru(x, W[0], b[0], W[1], b[1], b[2], mode=mode)
    i_pre, f_pre = rng.standard_normal((2, BATCH, T))
    yield "mLSTM (chunked, stabilised)", lambda mode: modern.mlstm(q, k, v, i_pre, f_pre + 3, mode=mode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: the library's choice)")
    args = parser.parse_args()
    limit = contextlib.nullcontext()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(args.threads)
    rng = np.random.default_rng(0)
    print(f"B = {BATCH}, dk = dv = {DK}, D = N = {WIDTH}, float64, median of {args.repeats}")
    print(f"{'recurrence':38s} {'T':>6s} {'loop ms':>10s} {'parallel ms':>12s} {'loop/par':>9s} {'max |diff|':>11s}")
    with limit:
        for T in args.lengths:
            for name, run in cases(T, rng):
                diff = float(np.abs(run("recurrent") - run("parallel")).max())
                loop = median_seconds(lambda run=run: run("recurrent"), args.repeats)
                par = median_seconds(lambda run=run: run("parallel"), args.repeats)
                print(f"{name:38s} {T:6d} {1e3 * loop:10.1f} {1e3 * par:12.1f} {loop / par:9.1f} {diff:11.1e}")


if __name__ == "__main__":
    main()
