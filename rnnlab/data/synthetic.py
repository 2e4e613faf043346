"""Small synthetic sequence tasks whose answer depends on order or on memory.

* ``event_order_task``: which of two marked events came first; averaging over time is at chance.
* ``adding_problem``: Hochreiter & Schmidhuber (1997), in the form of Arjovsky, Shah & Bengio (2016),
  "Unitary Evolution Recurrent Neural Networks", section 4.2.
* ``copy_task``: the copying memory problem, same paper, section 4.1.
* ``echo_task``: repeat the symbol seen ``delay`` steps ago.
* ``sine_waves``: one-step-ahead prediction of (noisy) sine waves.

Every generator takes ``seed`` and returns NumPy arrays; the same seed gives the same arrays.
Shapes use the book's notation: N sequences, T time steps, D features per step.
"""

from __future__ import annotations

import math

import numpy as np

from rnnlab._checks import check_float, check_int, make_rng

#: The MSE of always predicting 1.0 on the adding problem, Var(U1 + U2) = 2 / 12.
ADDING_BASELINE_MSE = 1.0 / 6.0


def event_order_task(n_samples: int, seq_len: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two events, A and B, happen once each; the label says whether A came first.

    Channel 0 is 1 at the step of event A, channel 1 at the step of event B, channel 2 is
    U(0, 1) distractor noise. Every sequence has exactly one A and one B, so the time average of
    channels 0 and 1 is 1/T for every sample: a model that averages over time is at chance (50%),
    while one that remembers which channel fired first is perfect. Classes are exactly balanced.

    Args:
        n_samples: N, the number of sequences.
        seq_len: T, at least 2.
        seed: random seed.

    Returns:
        x: (N, T, D) float32 with D = 3 channels (event A, event B, noise).
        y: (N,) int64, 1 if A came before B else 0.
    """
    n_samples = check_int("n_samples", n_samples)
    seq_len = check_int("seq_len", seq_len, minimum=2)
    rng = make_rng(seed)
    y = rng.permutation(np.arange(n_samples) % 2).astype(np.int64)
    # Two distinct steps per row: the first two columns of a random permutation of 0..T-1.
    early, late = np.sort(rng.random((n_samples, seq_len)).argsort(axis=1)[:, :2], axis=1).T
    time_a = np.where(y == 1, early, late)
    time_b = np.where(y == 1, late, early)
    x = np.zeros((n_samples, seq_len, 3), dtype=np.float32)
    rows = np.arange(n_samples)
    x[rows, time_a, 0] = 1.0
    x[rows, time_b, 1] = 1.0
    x[:, :, 2] = rng.random((n_samples, seq_len), dtype=np.float32)
    return x, y


def adding_problem(n_samples: int, seq_len: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: add the two values whose marker is 1.

    Channel 0 holds values drawn from U(0, 1); channel 1 is 0 except for two 1s, the first
    uniformly placed in the first half of the sequence, the second in the second half
    (Arjovsky et al. 2016). Predicting the constant 1.0 scores ``ADDING_BASELINE_MSE`` = 1/6.

    Args:
        n_samples: N, the number of sequences.
        seq_len: T, at least 2.
        seed: random seed.

    Returns:
        x: (N, T, D) float32 with D = 2 channels (value, marker).
        y: (N, 1) float32, the sum of the two marked values.
    """
    n_samples = check_int("n_samples", n_samples)
    seq_len = check_int("seq_len", seq_len, minimum=2)
    rng = make_rng(seed)
    half = seq_len // 2
    values = rng.random((n_samples, seq_len), dtype=np.float32)
    first = rng.integers(0, half, size=n_samples)
    second = rng.integers(half, seq_len, size=n_samples)
    markers = np.zeros((n_samples, seq_len), dtype=np.float32)
    rows = np.arange(n_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    return x, y.astype(np.float32)


def copy_task(n_samples: int, delay: int, *, seed: int, n_copy: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The copying memory problem: reproduce ``n_copy`` symbols after a delay of blank steps.

    Ids: 0 is the blank, 1..8 the symbols, 9 the delimiter (K = 10 classes). The input is
    ``n_copy`` random symbols, ``delay - 1`` blanks, the delimiter, then ``n_copy`` blanks; the
    target is ``delay + n_copy`` blanks followed by the same symbols (Arjovsky et al. 2016), so
    each symbol is recalled ``delay + n_copy`` steps after it was shown. The sequence length is
    T = delay + 2 * n_copy. (The paper writes T for the delay; here T is the length, as in the book.)

    Args:
        n_samples: N, the number of sequences.
        delay: steps from the last symbol to the delimiter, at least 1.
        seed: random seed.
        n_copy: how many symbols to copy (10 in the paper).

    Returns:
        x: (N, T) int64 input ids.
        y: (N, T) int64 target ids.
    """
    n_samples = check_int("n_samples", n_samples)
    delay = check_int("delay", delay)
    n_copy = check_int("n_copy", n_copy)
    rng = make_rng(seed)
    length = delay + 2 * n_copy
    symbols = rng.integers(1, 9, size=(n_samples, n_copy))
    x = np.zeros((n_samples, length), dtype=np.int64)
    y = np.zeros((n_samples, length), dtype=np.int64)
    x[:, :n_copy] = symbols
    x[:, n_copy + delay - 1] = 9  # the delimiter: "start writing now"
    y[:, delay + n_copy:] = symbols
    return x, y


def copy_baseline_loss(delay: int, n_copy: int = 10) -> float:
    """Cross-entropy (nats per step) of the memoryless strategy on ``copy_task``.

    Predict a blank for the first ``delay + n_copy`` steps, then a uniform guess over the 8
    symbols: ``n_copy * ln 8 / T`` with T = delay + 2 * n_copy.

    Args:
        delay: as in ``copy_task``.
        n_copy: as in ``copy_task``.

    Returns:
        The loss averaged over all T steps, in nats.
    """
    delay = check_int("delay", delay)
    n_copy = check_int("n_copy", n_copy)
    return n_copy * math.log(8) / (delay + 2 * n_copy)


def echo_task(
    n_samples: int, seq_len: int, delay: int, *, seed: int, n_symbols: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Delayed recall: at step t the target is the input at step t - delay.

    Inputs are uniform symbols 1..n_symbols; targets before step ``delay`` are the blank 0.
    There are ``n_symbols + 1`` classes; only a model with ``delay`` steps of memory beats
    chance on the recall steps.

    Args:
        n_samples: N, the number of sequences.
        seq_len: T, greater than ``delay``.
        delay: how many steps back the target looks, at least 1.
        seed: random seed.
        n_symbols: size of the input alphabet; K = n_symbols + 1 classes with the blank.

    Returns:
        x: (N, T) int64 in 1..n_symbols.
        y: (N, T) int64 in 0..n_symbols, ``y[:, t] = x[:, t - delay]`` for t >= delay.
    """
    n_samples = check_int("n_samples", n_samples)
    delay = check_int("delay", delay)
    seq_len = check_int("seq_len", seq_len, minimum=delay + 1)
    n_symbols = check_int("n_symbols", n_symbols)
    rng = make_rng(seed)
    x = rng.integers(1, n_symbols + 1, size=(n_samples, seq_len)).astype(np.int64)
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :-delay]
    return x, y


def sine_waves(
    n_samples: int,
    seq_len: int,
    *,
    seed: int,
    noise: float = 0.0,
    period_range: tuple[float, float] = (10.0, 40.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of sine waves with random period and phase, and the next value to predict.

    ``s_t = sin(2 pi t / period + phase)``; the inputs get Gaussian noise of std ``noise``,
    the target is the clean ``s_T``, so a good model can score below ``noise ** 2``.

    Args:
        n_samples: N, the number of sequences.
        seq_len: T.
        seed: random seed.
        noise: standard deviation of the noise on the inputs, >= 0.
        period_range: (low, high) bounds of the period in steps, 2 <= low <= high.

    Returns:
        x: (N, T, D) float32 with D = 1, steps 0..T-1.
        y: (N, 1) float32, the clean value at step T.
    """
    n_samples = check_int("n_samples", n_samples)
    seq_len = check_int("seq_len", seq_len)
    noise = check_float("noise", noise)
    low, high = (check_float("period_range", p, 2.0) for p in period_range)
    if low > high:
        raise ValueError(f"period_range must be (low, high) with low <= high, received {period_range}")
    rng = make_rng(seed)
    period = rng.uniform(low, high, size=(n_samples, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n_samples, 1))
    steps = np.arange(seq_len + 1)
    clean = np.sin(2 * np.pi * steps / period + phase)  # (N, T + 1)
    x = clean[:, :seq_len] + noise * rng.standard_normal((n_samples, seq_len))
    return x[..., None].astype(np.float32), clean[:, seq_len:].astype(np.float32)
