"""Selective state spaces: Mamba's S6 scan and Mamba-2's scalar-decay SSD with its matrix form.

* S6 (Gu & Dao, 2023, "Mamba", Algorithm 2, eq. 2 and the zero-order hold of eq. 4): every channel d of the input keeps
  its own N-dimensional state, with a diagonal A (D, N) made discrete by a step Δ_t that depends
  on the input: ``h_t = exp(Δ_t A) ⊙ h_{t-1} + (Δ_t x_t) B_t``, ``y_t = h_t C_t + D ⊙ x_t``. The
  zero-order hold gives exp(Δ A); for B the paper uses the simpler Euler step Δ B.
* SSD (Dao & Gu, 2024, "Transformers are SSMs", sec. 3 and 5): A_t = a_t I is one scalar per step, so
  ``h_t = a_t h_{t-1} + B_t^T x_t`` (h: (N, D)) and ``y_t = C_t h_t``. Unrolled, ``y = M x`` with
  ``M_ts = (a_{s+1} ... a_t) (C_t · B_s)`` for s <= t: the state-space duality, a linear attention
  with q = C, k = B, v = x and a decay mask (their sec. 5, "state space duality").
"""

from __future__ import annotations

import numpy as np

from rnnlab.modern._common import check_gate, check_mode, check_shape, decay_mask, float_dtype
from rnnlab.modern.attention import CHUNK_SIZE, linear_attention
from rnnlab.scan import parallel_scan

__all__ = ["selective_scan", "ssd", "ssd_matrix"]


def selective_scan(x, delta, A, B, C, D=None, *, mode: str = "recurrent") -> np.ndarray:
    """Mamba's S6: ``h_t = exp(Δ_t A) ⊙ h_{t-1} + (Δ_t x_t) B_t``, ``y_t = h_t C_t + D ⊙ x_t``.

    Gu & Dao (2023), Algorithm 2: Δ_t, B_t, C_t are computed from the input ("selective"), A is a
    fixed negative (D, N) matrix (the paper stores log(-A)), so each exp(Δ_t A) is in (0, 1) and
    a large Δ_t forgets the state and takes the input, a small one keeps the state. ``h_0 = 0``.
    Here ``Bt`` is the batch size: B is the input matrix. ``mode="parallel"`` runs the
    Hillis-Steele scan of ``rnnlab.scan.parallel_scan`` over the (D·N) state entries.

    Args:
        x: (Bt, T, D) inputs. delta: (Bt, T, D) positive steps Δ_t.
        A: (D, N) state matrix (negative entries). B, C: (Bt, T, N) input and output matrices.
        D: (D,) skip connection, or None.
        mode: "recurrent" or "parallel".

    Returns:
        y: (Bt, T, D), in the common float dtype of the inputs.
    """
    check_mode(mode)
    x, delta, A, B, C = (np.asarray(a) for a in (x, delta, A, B, C))
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(f"x must have shape (Bt, T, D) with T >= 1, received {x.shape}")
    batch, time, width = x.shape
    check_shape("delta", delta, x.shape, "(Bt, T, D) like x")
    if A.ndim != 2 or A.shape[0] != width:
        raise ValueError(f"A must have shape (D, N) = ({width}, N), received {A.shape}")
    check_shape("B", B, (batch, time, A.shape[1]), "(Bt, T, N)")
    check_shape("C", C, (batch, time, A.shape[1]), "(Bt, T, N)")
    if D is not None:
        D = np.asarray(D)
        check_shape("D", D, (width,), "(D,)")
    dtype = float_dtype(*([x, delta, A, B, C] + ([] if D is None else [D])))
    x, delta, A, B, C = (a.astype(dtype, copy=False) for a in (x, delta, A, B, C))
    decay = np.exp(delta[..., None] * A)  # (Bt, T, D, N): zero-order hold on A
    write = (delta * x)[..., None] * B[:, :, None, :]  # (Bt, T, D, N): Euler step on B
    if mode == "recurrent":
        h = np.zeros((batch, width, A.shape[1]), dtype=dtype)
        y = np.empty_like(x)
        for t in range(time):
            h = decay[:, t] * h + write[:, t]
            y[:, t] = np.einsum("bdn,bn->bd", h, C[:, t])
    else:
        shape = (batch, time, width * A.shape[1])
        h = parallel_scan(decay.reshape(shape), write.reshape(shape)).reshape(decay.shape)
        y = np.einsum("btdn,btn->btd", h, C)
    if D is not None:
        y = y + D.astype(dtype, copy=False) * x
    return y


def _check_ssd(x, a, B, C):
    x, B, C = np.asarray(x), np.asarray(B), np.asarray(C)
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(f"x must have shape (Bt, T, D) with T >= 1, received {x.shape}")
    if B.ndim != 3 or B.shape[:2] != x.shape[:2]:
        raise ValueError(f"B must have shape (Bt, T, N) = ({x.shape[0]}, {x.shape[1]}, N), received {B.shape}")
    check_shape("C", C, B.shape, "(Bt, T, N) like B")
    dtype = float_dtype(x, B, C)
    a = check_gate("a", a, x.shape[0], x.shape[1], dtype)
    return x.astype(dtype, copy=False), a, B.astype(dtype, copy=False), C.astype(dtype, copy=False)


def ssd_matrix(a, B, C) -> np.ndarray:
    """The (T, T) matrix of Mamba-2's SSD: ``M_ts = (a_{s+1} ... a_t) (C_t · B_s)`` for s <= t, else 0.

    Dao & Gu (2024), sec. 3 and 5, with scalar A_t = a_t: a lower-triangular "attention" matrix whose
    mask is the cumulative decay, so that ``y = M x`` equals ``ssd(x, a, B, C)``.

    Args:
        a: (Bt, T) decays in (0, 1] (a float is broadcast).
        B, C: (Bt, T, N).

    Returns:
        M: (Bt, T, T).
    """
    B = np.asarray(B)
    _, a, B, C = _check_ssd(np.zeros(B.shape[:2] + (1,), dtype=B.dtype), a, B, C)
    mask = decay_mask(np.cumsum(np.log(a), axis=1))
    return (C @ B.transpose(0, 2, 1)) * mask


def ssd(x, a, B, C, *, mode: str = "recurrent", chunk_size: int = CHUNK_SIZE) -> np.ndarray:
    """Mamba-2's SSD layer: ``h_t = a_t h_{t-1} + B_t^T x_t``, ``y_t = C_t h_t`` with a scalar a_t.

    Dao & Gu (2024), sec. 3: A_t = a_t I, where Mamba-2 sets ``a_t = exp(Δ_t A)`` with one scalar
    A < 0 per head and feeds ``Δ_t x_t`` as x (pass them so). The state h is (N, D): every one of
    the D channels shares the same decay, which is what makes the (T, T) matrix form possible.
    ``mode="recurrent"`` is the loop; ``mode="parallel"`` the chunked algorithm of their sec. 6
    (quadratic "attention" within a chunk, the recurrence between chunks). ``ssd_matrix`` builds the
    whole (T, T) matrix.

    Args:
        x: (Bt, T, D) inputs (already multiplied by Δ_t in Mamba-2).
        a: (Bt, T) decays in (0, 1], or a float.
        B, C: (Bt, T, N) input and output matrices.
        mode: "recurrent" or "parallel".
        chunk_size: steps per chunk in the parallel form.

    Returns:
        y: (Bt, T, D).
    """
    check_mode(mode)
    x, a, B, C = _check_ssd(x, a, B, C)
    return linear_attention(C, B, x, decay=a, mode=mode, chunk_size=chunk_size)
