"""Linear recurrences ``h_t = a_t ⊙ h_{t-1} + b_t``, step by step or by a parallel scan.

A plain RNN's ``h_t = tanh(x_t W + h_{t-1} U + b)`` must be computed one step after another:
``h_t`` is a nonlinear function of ``h_{t-1}``. A *linear* recurrence with coefficients that do not
depend on ``h`` is different. One step is the affine map ``h -> a_t ⊙ h + b_t``, and composing two
such maps gives another one,

    (a_1, b_1) then (a_2, b_2)  =  (a_2 ⊙ a_1,  a_2 ⊙ b_1 + b_2),

an associative operation. So all prefixes can be combined in ``ceil(log2 T)`` rounds of
elementwise work over the whole sequence (Hillis & Steele, 1986, "Data parallel algorithms"; see
Blelloch, 1990, "Prefix sums and their applications", for the O(T)-work variant). QRNN, SRU, S4,
Mamba and minGRU are all trained this way (Bradbury et al. 2017; Lei et al. 2018; Gu et al. 2022;
Gu & Dao 2023; Feng et al. 2024).

* ``linear_recurrence``: the reference loop, T dependent steps.
* ``parallel_scan``: Hillis-Steele scan, ceil(log2 T) rounds, any signs.
* ``log_space_scan``: cumulative sums in log space (Heinsen, 2023), for positive ``a`` and ``b``,
  the form Feng et al. (2024) use to train minGRU.
* ``min_gru``: the minGRU of Feng et al. (2024), whose gates read ``x_t`` only.

Shapes follow the book: ``a``, ``b`` and ``h`` are (batch, time, hidden); ``h0`` is (batch, hidden).
"""

from __future__ import annotations

import numpy as np

from rnnlab._checks import check_choice
from rnnlab.scratch.functional import sigmoid

__all__ = ["linear_recurrence", "log_space_scan", "min_gru", "parallel_scan"]


def _check(a: np.ndarray, b: np.ndarray, h0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays a, b (B, T, H) of one float dtype, and h0 (B, H), zeros if None."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 3 or a.shape != b.shape or a.shape[1] == 0:
        raise ValueError(
            f"a and b must have the same shape (batch, time, hidden) with time >= 1, "
            f"received {a.shape} and {b.shape}"
        )
    dtype = np.result_type(a, b, np.float32)
    h0 = np.zeros((a.shape[0], a.shape[2]), dtype=dtype) if h0 is None else np.asarray(h0)
    if h0.shape != (a.shape[0], a.shape[2]):
        raise ValueError(f"h0 must have shape (batch, hidden) = {(a.shape[0], a.shape[2])}, received {h0.shape}")
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False), h0.astype(dtype, copy=False)


def linear_recurrence(a: np.ndarray, b: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
    """``h_t = a_t ⊙ h_{t-1} + b_t`` by a loop over time: the sequential reference.

    Args:
        a: (B, T, H) coefficients.
        b: (B, T, H) inputs.
        h0: (B, H) initial state; zeros if None.

    Returns:
        h: (B, T, H), ``h[:, t]`` the state after step t.
    """
    a, b, h = _check(a, b, h0)
    out = np.empty_like(b)
    for t in range(a.shape[1]):  # each step needs the previous one: T dependent steps
        h = a[:, t] * h + b[:, t]
        out[:, t] = h
    return out


def parallel_scan(
    a: np.ndarray, b: np.ndarray, h0: np.ndarray | None = None, *, return_rounds: bool = False
) -> np.ndarray | tuple[np.ndarray, int]:
    """``h_t = a_t ⊙ h_{t-1} + b_t`` by a Hillis-Steele inclusive scan: ceil(log2 T) rounds.

    After round k, position t holds the composition of the (up to) ``2**k`` steps ending at t.
    Each round is one elementwise operation over all T positions, so the number of *dependent*
    steps is ceil(log2 T) instead of T; the work is O(T log T).

    Args:
        a: (B, T, H) coefficients, any sign.
        b: (B, T, H) inputs.
        h0: (B, H) initial state; zeros if None.
        return_rounds: also return the number of rounds.

    Returns:
        h: (B, T, H), equal to ``linear_recurrence(a, b, h0)`` up to rounding; with
        ``return_rounds``, the pair ``(h, rounds)``.
    """
    a, b, h0 = _check(a, b, h0)
    coef = a.copy()
    state = b.copy()
    state[:, 0] += a[:, 0] * h0  # fold the initial state into the first step
    T, offset, rounds = a.shape[1], 1, 0
    while offset < T:
        # Compose the segment ending at t - offset (earlier) with the one ending at t (later).
        state[:, offset:] = coef[:, offset:] * state[:, :-offset] + state[:, offset:]
        coef[:, offset:] = coef[:, offset:] * coef[:, :-offset]
        offset, rounds = 2 * offset, rounds + 1
    return (state, rounds) if return_rounds else state


def log_space_scan(log_a: np.ndarray, log_b: np.ndarray, log_h0: np.ndarray | None = None) -> np.ndarray:
    """``h_t = a_t h_{t-1} + b_t`` for positive a, b, h0, from logarithms, in O(T) work.

    With ``A_t = sum_{k<=t} log a_k``, the solution is
    ``log h_t = A_t + logcumsumexp_{k<=t}(log b_k - A_k)`` (Heinsen, 2023), a cumulative sum and a
    cumulative log-sum-exp: both associative, so both parallelise like ``parallel_scan``.
    Working with logarithms avoids the underflow of the cumulative product of many a_t < 1.

    Args:
        log_a: (B, T, H), log of the coefficients.
        log_b: (B, T, H), log of the (positive) inputs.
        log_h0: (B, H), log of a positive initial state; None for h0 = 0.

    Returns:
        h: (B, T, H).
    """
    log_a, log_b, _ = _check(log_a, log_b, None)
    cum_log_a = np.cumsum(log_a, axis=1)  # (B, T, H)
    terms = log_b - cum_log_a
    if log_h0 is not None:  # h0 enters as an input at a step 0 whose coefficient is 1
        _, _, log_h0 = _check(log_a, log_b, log_h0)
        terms = np.concatenate([log_h0[:, None], terms], axis=1)
    log_h = np.logaddexp.accumulate(terms, axis=1)[:, -log_a.shape[1]:] + cum_log_a
    return np.exp(log_h)


def min_gru(
    x: np.ndarray,
    Wz: np.ndarray,
    bz: np.ndarray,
    Wh: np.ndarray,
    bh: np.ndarray,
    h0: np.ndarray | None = None,
    *,
    method: str = "scan",
) -> np.ndarray:
    """The minGRU of Feng et al. (2024): ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t``.

    The update gate ``z_t = σ(x_t Wz + bz)`` and the candidate ``h̃_t = x_t Wh + bh`` read the
    input only, never ``h_{t-1}``: both are computed for all steps with one matrix product each,
    and what is left is the linear recurrence with ``a_t = 1 - z_t`` and ``b_t = z_t ⊙ h̃_t``.

    Args:
        x: (B, T, I) inputs.
        Wz, Wh: (I, H) input weights of the gate and the candidate.
        bz, bh: (H,) biases.
        h0: (B, H) initial state; zeros if None.
        method: "scan" (``parallel_scan``) or "sequential" (``linear_recurrence``).

    Returns:
        h: (B, T, H).
    """
    check_choice("method", method, ("scan", "sequential"))
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != Wz.shape[0] or Wz.shape != Wh.shape:
        raise ValueError(
            f"expected x (batch, time, I) and Wz, Wh (I, H) of one shape, received x {x.shape}, "
            f"Wz {np.shape(Wz)}, Wh {np.shape(Wh)}"
        )
    z = sigmoid(x @ Wz + bz)  # (B, T, H): every step at once
    candidate = x @ Wh + bh  # (B, T, H)
    solve = parallel_scan if method == "scan" else linear_recurrence
    return solve(1.0 - z, z * candidate, h0)
