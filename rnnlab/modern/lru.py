"""Diagonal linear recurrences with a learned decay: the LRU and Griffin's RG-LRU.

* LRU (Orvieto et al., 2023, "Resurrecting recurrent neural networks for long sequences",
  sec. 3): a complex diagonal ``h_t = λ ⊙ h_{t-1} + γ ⊙ (x_t B)``, ``y_t = Re(h_t C)``, with
  ``λ = exp(-exp(ν) + i exp(θ))`` (so ``|λ| < 1`` for any ν, θ: stable by construction, the
  "exponential parameterisation") and the normalisation ``γ = sqrt(1 - |λ|²)`` that keeps the
  state's variance from growing as ``|λ|`` approaches 1.
* RG-LRU (De et al., 2024, "Griffin", sec. 2.4): a real diagonal recurrence whose decay depends on
  the input through a recurrence gate r_t: ``a_t = a^{c r_t}`` with ``a = σ(Λ)`` and c = 8,
  ``h_t = a_t ⊙ h_{t-1} + sqrt(1 - a_t²) ⊙ (i_t ⊙ x_t)``; r_t and i_t read x_t only.
"""

from __future__ import annotations

import numpy as np

from rnnlab.modern._common import check_mode, check_shape, float_dtype
from rnnlab.scan import linear_recurrence, parallel_scan
from rnnlab.scratch.functional import sigmoid

__all__ = ["lru", "lru_eigenvalues", "rg_lru"]


def lru_eigenvalues(nu_log, theta_log) -> np.ndarray:
    """``λ = exp(-exp(ν_log) + i exp(θ_log))``: (N,) complex, always of modulus < 1."""
    nu_log, theta_log = np.asarray(nu_log), np.asarray(theta_log)
    return np.exp(-np.exp(nu_log) + 1j * np.exp(theta_log))


def lru(x, nu_log, theta_log, B, C, h0=None, *, mode: str = "recurrent") -> np.ndarray:
    """The LRU: ``h_t = λ ⊙ h_{t-1} + γ ⊙ (x_t B)``, ``y_t = Re(h_t C)``, ``γ = sqrt(1 - |λ|²)``.

    Orvieto et al. (2023), sec. 3 (their skip term D x_t and the MLP after it left to the caller).
    λ does not depend on the input: the recurrence is time-invariant, like S4's.

    Args:
        x: (B, T, D) inputs.
        nu_log, theta_log: (N,) parameters of λ (N complex state units).
        B: (D, N) complex input matrix. C: (N, H) complex output matrix.
        h0: (B, N) complex initial state, zeros if None.
        mode: "recurrent" (``linear_recurrence``) or "parallel" (``parallel_scan``).

    Returns:
        y: (B, T, H), real, in x's float dtype.
    """
    check_mode(mode)
    x, B, C = np.asarray(x), np.asarray(B), np.asarray(C)
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(f"x must have shape (B, T, D) with T >= 1, received {x.shape}")
    lam = lru_eigenvalues(nu_log, theta_log)
    if lam.ndim != 1:
        raise ValueError(f"nu_log and theta_log must have shape (N,), received {np.shape(nu_log)}")
    check_shape("B", B, (x.shape[2], lam.shape[0]), "(D, N)")
    if C.ndim != 2 or C.shape[0] != lam.shape[0]:
        raise ValueError(f"C must have shape (N, H) = ({lam.shape[0]}, H), received {C.shape}")
    real = float_dtype(x)
    cplx = np.result_type(real, np.complex64)
    gamma = np.sqrt(1.0 - np.abs(lam) ** 2)  # (N,)
    write = (gamma * (x @ B)).astype(cplx, copy=False)  # (B, T, N)
    coef = np.broadcast_to(lam.astype(cplx), write.shape)
    solve = linear_recurrence if mode == "recurrent" else parallel_scan
    h = solve(coef, write, None if h0 is None else np.asarray(h0, dtype=cplx))
    return (h @ C.astype(cplx, copy=False)).real.astype(real, copy=False)


def rg_lru(x, Wa, ba, Wx, bx, Lambda, h0=None, *, c: float = 8.0, mode: str = "recurrent") -> np.ndarray:
    """Griffin's RG-LRU: ``h_t = a_t ⊙ h_{t-1} + sqrt(1 - a_t²) ⊙ (i_t ⊙ x_t)``, ``a_t = σ(Λ)^{c r_t}``.

    De et al. (2024), sec. 2.4: recurrence gate ``r_t = σ(x_t W_a + b_a)``, input gate
    ``i_t = σ(x_t W_x + b_x)`` (their letters; neither reads h_{t-1}), computed in log space as
    ``log a_t = -c r_t softplus(-Λ)``, which keeps a_t in (0, 1) without overflow.

    Args:
        x: (B, T, D) inputs; the state has the same width D.
        Wa, Wx: (D, D) gate weights. ba, bx: (D,) gate biases.
        Lambda: (D,) decay parameters. h0: (B, D) initial state, zeros if None.
        c: the constant c of the paper.
        mode: "recurrent" or "parallel" (``parallel_scan``).

    Returns:
        h: (B, T, D).
    """
    check_mode(mode)
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(f"x must have shape (B, T, D) with T >= 1, received {x.shape}")
    width = x.shape[2]
    for name, arr, shape in (("Wa", Wa, (width, width)), ("Wx", Wx, (width, width)), ("ba", ba, (width,)),
                             ("bx", bx, (width,)), ("Lambda", Lambda, (width,))):
        check_shape(name, np.asarray(arr), shape, "(D, D)" if len(shape) == 2 else "(D,)")
    dtype = float_dtype(x)
    x = x.astype(dtype, copy=False)
    r = sigmoid((x @ Wa + ba).astype(dtype, copy=False))
    i = sigmoid((x @ Wx + bx).astype(dtype, copy=False))
    log_a = -c * r * np.logaddexp(0, -np.asarray(Lambda, dtype=dtype))  # log σ(Λ)^{c r_t}
    a = np.exp(log_a)
    write = np.sqrt(-np.expm1(2 * log_a)) * (i * x)  # sqrt(1 - a_t²), exact near a_t = 1
    solve = linear_recurrence if mode == "recurrent" else parallel_scan
    return solve(a, write, h0).astype(dtype, copy=False)
