"""Shape, dtype and decay checks shared by the ``rnnlab.modern`` recurrences."""

from __future__ import annotations

import numpy as np

from rnnlab._checks import check_choice

MODES = ("recurrent", "parallel")


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The common floating dtype of ``arrays`` (float32 stays float32; integers become float64)."""
    dtype = np.result_type(*arrays)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def check_mode(mode: str) -> None:
    """Raise ``ValueError`` unless ``mode`` is "recurrent" or "parallel"."""
    check_choice("mode", mode, MODES)


def check_shape(name: str, array: np.ndarray, expected: tuple, meaning: str) -> None:
    """Raise ``ValueError`` naming the expected and the received shape if they differ."""
    if array.shape != tuple(expected):
        raise ValueError(f"{name} must have shape {meaning} = {tuple(expected)}, received {array.shape}")


def check_qkv(q, k, v) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.dtype]:
    """q, k (B, T, dk) and v (B, T, dv), T >= 1, cast to their common float dtype."""
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    if q.ndim != 3 or q.shape[1] == 0:
        raise ValueError(f"q must have shape (B, T, dk) with T >= 1, received {q.shape}")
    check_shape("k", k, q.shape, "(B, T, dk) like q")
    if v.ndim != 3 or v.shape[:2] != q.shape[:2]:
        raise ValueError(f"v must have shape (B, T, dv) = ({q.shape[0]}, {q.shape[1]}, dv), received {v.shape}")
    dtype = float_dtype(q, k, v)
    return q.astype(dtype, copy=False), k.astype(dtype, copy=False), v.astype(dtype, copy=False), dtype


def check_gate(name: str, gate, batch: int, time: int, dtype: np.dtype) -> np.ndarray:
    """A per-step scalar in (0, 1] of shape (B, T) (a Python float is broadcast), cast to ``dtype``."""
    gate = np.asarray(gate)
    if gate.ndim == 0:
        gate = np.full((batch, time), gate)
    check_shape(name, gate, (batch, time), "(B, T)")
    if not np.all((gate > 0) & (gate <= 1)):
        raise ValueError(f"{name} must lie in (0, 1], received values in [{gate.min()}, {gate.max()}]")
    return gate.astype(dtype, copy=False)


def log_decay(decay, batch: int, time: int, dtype: np.dtype) -> np.ndarray:
    """log of the decay as (B, T): zeros for None (decay 1), else the log of a checked decay."""
    if decay is None:
        return np.zeros((batch, time), dtype=dtype)
    return np.log(check_gate("decay", decay, batch, time, dtype))


def decay_mask(log_cum: np.ndarray) -> np.ndarray:
    """(B, C, C) matrix with entry (t, s) = exp(L_t - L_s) for s <= t and 0 above the diagonal.

    ``log_cum`` (B, C) holds the cumulative sums L_t of the log decays, so entry (t, s) is the
    product of the decays of steps s+1 .. t: how much of what was written at step s is left at t.
    Differences of logs (always <= 0 on and below the diagonal) never overflow.
    """
    size = log_cum.shape[1]
    lower = np.tri(size, dtype=bool)
    diff = log_cum[:, :, None] - log_cum[:, None, :]
    return np.where(lower, np.exp(np.where(lower, diff, 0.0)), 0.0).astype(log_cum.dtype, copy=False)
