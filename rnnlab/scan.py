"""Linear recurrences ``h_t = a_t ⊙ h_{t-1} + b_t``, step by step or by a parallel scan.

A plain RNN's ``h_t = tanh(x_t W + h_{t-1} U + b)`` must be computed one step after another:
``h_t`` is a nonlinear function of ``h_{t-1}``. A *linear* recurrence with coefficients that do not
depend on ``h`` is different. One step is the affine map ``h -> a_t ⊙ h + b_t``, and composing two
such maps gives another one,

    (a_1, b_1) then (a_2, b_2)  =  (a_2 ⊙ a_1,  a_2 ⊙ b_1 + b_2),

an associative operation. So all prefixes can be combined in ``ceil(log2 T)`` rounds of
element-wise work over the whole sequence (Hillis & Steele, 1986, "Data parallel algorithms";
Blelloch, 1990, "Prefix sums and their applications", gives the variant with O(T) work). Here
``a_t`` and ``b_t`` are the recurrence's coefficient and input, not the pre-activation and bias
of the book's notation table.

How the recurrent layers that chapter 8 discusses really handle the time axis in training:

* QRNN (Bradbury et al., 2017): its pooling, e.g. ``c_t = f_t ⊙ c_{t-1} + (1 - f_t) ⊙ z_t`` with
  gates from convolutions over the inputs, is such a linear recurrence, but QRNN runs it in
  parallel across channels and step by step over time: a CUDA kernel that loops over t.
* SRU (Lei et al., 2018): ``c_t = f_t ⊙ c_{t-1} + (1 - f_t) ⊙ (x_t W)`` with
  ``f_t = σ(x_t W_f + v_f ⊙ c_{t-1} + b_f)``. The gate reads ``c_{t-1}``, so the recurrence is
  element-wise but not linear, and no scan applies; a fused CUDA kernel loops over t.
* S4 (Gu et al., 2022): a linear state-space model with time-invariant coefficients, trained as
  one long convolution computed with FFTs (run as a recurrence for step-by-step inference).
* Mamba (Gu & Dao, 2024): input-dependent ("selective") coefficients rule out the convolution;
  a hardware-aware parallel scan fused into one GPU kernel computes the linear recurrence.
* minGRU (Feng et al., 2024): a linear recurrence, trained by a parallel scan in log space
  (Heinsen, 2023), which needs a positive candidate: ``positive_activation``.

Functions:

* ``linear_recurrence``: the reference loop, T dependent steps.
* ``parallel_scan``: Hillis-Steele scan, ceil(log2 T) rounds, any signs.
* ``log_space_scan``: cumulative sums in log space (Heinsen, 2023), for positive ``a``, ``b``, ``h0``.
* ``positive_activation``, ``log_positive_activation``: Feng et al.'s g(x) = x + 1/2 for x >= 0,
  σ(x) for x < 0, and its logarithm (the book writes ψ, keeping g for the optimiser's gradient).
* ``min_gru``: the minGRU of Feng et al. (2024), whose gate and candidate read ``x_t`` only.

Shapes use the book's letters: B sequences, T steps, D input features, H hidden units; ``a``,
``b`` and ``h`` are (B, T, H), ``x`` is (B, T, D), ``h0`` is (B, H).
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

from rnnlab._checks import check_choice
from rnnlab.scratch.functional import sigmoid

__all__ = [
    "linear_recurrence",
    "log_positive_activation",
    "log_space_scan",
    "min_gru",
    "parallel_scan",
    "positive_activation",
]


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


@overload
def parallel_scan(
    a: np.ndarray, b: np.ndarray, h0: np.ndarray | None = None, *, return_rounds: Literal[False] = False
) -> np.ndarray: ...
@overload
def parallel_scan(
    a: np.ndarray, b: np.ndarray, h0: np.ndarray | None = None, *, return_rounds: Literal[True]
) -> tuple[np.ndarray, int]: ...
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
    """``h_t = a_t ⊙ h_{t-1} + b_t`` for positive a, b and h0, from their logarithms, in O(T) work.

    With ``A_t = sum_{k<=t} log a_k``, the solution is
    ``log h_t = A_t + logcumsumexp_{k<=t}(log b_k - A_k)`` (Heinsen, 2023), a cumulative sum and a
    cumulative log-sum-exp: both associative, so both parallelise like ``parallel_scan``.
    Working with logarithms avoids the underflow of the cumulative product of many a_t < 1.
    Only positive numbers have a real logarithm: a negative ``b_t`` (such as minGRU's linear
    candidate) cannot enter, which is why Feng et al. use ``positive_activation``.

    Args:
        log_a: (B, T, H), log of the (positive) coefficients.
        log_b: (B, T, H), log of the (positive) inputs; ``-inf`` for an input of 0.
        log_h0: (B, H), log of a positive initial state; None for h0 = 0.

    Returns:
        h: (B, T, H), positive.
    """
    log_a, log_b, _ = _check(log_a, log_b, None)
    cum_log_a = np.cumsum(log_a, axis=1)  # (B, T, H)
    terms = log_b - cum_log_a
    if log_h0 is not None:  # h0 enters as an input at a step 0 whose coefficient is 1
        _, _, log_h0 = _check(log_a, log_b, log_h0)
        terms = np.concatenate([log_h0[:, None], terms], axis=1)
    log_h = np.logaddexp.accumulate(terms, axis=1)[:, -log_a.shape[1]:] + cum_log_a
    return np.exp(log_h)


def positive_activation(x: np.ndarray) -> np.ndarray:
    """Feng et al.'s g: ``x + 1/2`` for x >= 0 and ``σ(x)`` for x < 0, positive and continuous.

    Both pieces equal 1/2 at 0 and have slope 1 on the right and σ'(x) <= 1/4 on the left, so
    the function is continuous (with a kink at 0), increasing and always > 0: a candidate that
    the log-space scan can take the logarithm of. The book writes it ψ.

    Args:
        x: (...) any real values, e.g. the (B, T, H) pre-activations ``x_t W_h + b_h``.

    Returns:
        (...) values in (0, inf), float.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    e = np.exp(np.minimum(x, 0))  # σ(x) = e^x / (1 + e^x) for x < 0: no cancellation, > 0 down to x ≈ -745
    return np.where(x >= 0, np.maximum(x, 0) + 0.5, e / (1 + e))


def log_positive_activation(x: np.ndarray) -> np.ndarray:
    """``log positive_activation(x)`` computed without overflow: ``log(x + 1/2)`` or ``-log(1 + e^{-x})``.

    Args:
        x: (...) any real values.

    Returns:
        (...) float, finite for finite x.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    # log σ(x) = -softplus(-x); np.minimum keeps the branch not taken finite
    return np.where(x >= 0, np.log(np.maximum(x, 0) + 0.5), -np.logaddexp(0, -np.minimum(x, 0)))


def min_gru(
    x: np.ndarray,
    Wz: np.ndarray,
    bz: np.ndarray,
    Wh: np.ndarray,
    bh: np.ndarray,
    h0: np.ndarray | None = None,
    *,
    candidate: str = "linear",
    method: str = "scan",
) -> np.ndarray:
    """The minGRU of Feng et al. (2024): ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t``.

    The update gate ``z_t = σ(x_t W_z + b_z)`` and the candidate ``h̃_t`` read the input only,
    never ``h_{t-1}``: both are computed for all steps with one matrix product each, and what is
    left is the linear recurrence with ``a_t = 1 - z_t`` and ``b_t = z_t ⊙ h̃_t``. The candidate is
    ``x_t W_h + b_h`` ("linear", any sign) or ``ψ(x_t W_h + b_h)`` ("positive", with
    ``positive_activation``), the form Feng et al. train in log space.

    Args:
        x: (B, T, D) inputs.
        Wz, Wh: (D, H) input weights of the gate and the candidate.
        bz, bh: (H,) biases.
        h0: (B, H) initial state; zeros if None; positive for ``method="log"``.
        candidate: "linear" or "positive".
        method: "scan" (``parallel_scan``), "sequential" (``linear_recurrence``) or "log"
            (``log_space_scan`` on log z_t, log(1 - z_t) and log h̃_t; needs candidate="positive").

    Returns:
        h: (B, T, H).
    """
    check_choice("candidate", candidate, ("linear", "positive"))
    check_choice("method", method, ("scan", "sequential", "log"))
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != np.shape(Wz)[0] or np.shape(Wz) != np.shape(Wh):
        raise ValueError(
            f"expected x (batch, time, D) and Wz, Wh (D, H) of one shape, received x {x.shape}, "
            f"Wz {np.shape(Wz)}, Wh {np.shape(Wh)}"
        )
    if method == "log" and candidate != "positive":
        raise ValueError(
            "method='log' takes the logarithm of z_t * h̃_t, and a linear candidate can be negative: "
            "use candidate='positive'"
        )
    gate_pre = x @ Wz + bz  # (B, T, H): every step at once
    cand_pre = x @ Wh + bh  # (B, T, H)
    if method == "log":
        if h0 is not None and not np.all(np.asarray(h0) > 0):
            raise ValueError("method='log' needs a positive h0 (or None for h0 = 0)")
        log_z = -np.logaddexp(0, -gate_pre)  # log σ(k)
        log_keep = -np.logaddexp(0, gate_pre)  # log(1 - σ(k)) = log σ(-k)
        log_h0 = None if h0 is None else np.log(h0)
        return log_space_scan(log_keep, log_z + log_positive_activation(cand_pre), log_h0)
    z = sigmoid(gate_pre)
    h_tilde = cand_pre if candidate == "linear" else positive_activation(cand_pre)
    solve = parallel_scan if method == "scan" else linear_recurrence
    return solve(1.0 - z, z * h_tilde, h0)
