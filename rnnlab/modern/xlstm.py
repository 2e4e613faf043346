"""xLSTM's mLSTM: a matrix memory with exponential input gates, and the stabiliser that makes it safe.

Beck et al. (2024), "xLSTM: Extended long short-term memory", sec. 2.3 (mLSTM) and its appendix (parallel form), in rows:
``C_t = f_t C_{t-1} + i_t k_t^T v_t`` (C: (dk, dv)), ``n_t = f_t n_{t-1} + i_t k_t``,
``h̃_t = q_t C_t / max(|q_t · n_t|, 1)``, with ``i_t = exp(ĩ_t)``, ``f_t = σ(f̃_t)`` and keys
scaled by 1/sqrt(dk). The output gate o_t is left to the caller. exp(ĩ_t) overflows for large
pre-activations (above about 88.7 in float32), so the paper carries a stabiliser
``m_t = max(log f_t + m_{t-1}, ĩ_t)`` and stores C and n multiplied by exp(-m_t); the normaliser
becomes ``max(|q_t · n_t|, exp(-m_t))`` and the output is unchanged.
"""

from __future__ import annotations

import numpy as np

from rnnlab.modern._common import check_mode, check_qkv, check_shape

__all__ = ["mlstm"]


CHUNK_SIZE = 64


def mlstm(q, k, v, i_pre, f_pre, *, stabilise: bool = True, mode: str = "recurrent",
          chunk_size: int = CHUNK_SIZE) -> np.ndarray:
    """The mLSTM memory read-out h̃_t (before the output gate), step by step or in parallel.

    Beck et al. (2024), sec. 2.3 (recurrent) and the appendix (parallel form): with the cumulative
    log forget gates ``F_t = Σ_{r<=t} log f_r``, the parallel form builds the (T, T) matrix
    ``D̃_ts = F_t - F_s + ĩ_s`` (s <= t), subtracts its row maximum m_t (the same m_t as the
    recurrent stabiliser), and computes ``h̃ = (C̃ / b) V`` with ``C̃ = (Q K^T / sqrt(dk)) ⊙ exp(D̃ - m)``
    and ``b_t = max(|Σ_s C̃_ts|, exp(-m_t))``. Here it runs chunk by chunk, carrying (C, n, m)
    between chunks as the recurrence does; ``chunk_size >= T`` is the paper's single (T, T) form.

    Args:
        q, k: (B, T, dk) queries and keys (k is scaled by 1/sqrt(dk) here).
        v: (B, T, dv) values.
        i_pre, f_pre: (B, T) input and forget gate pre-activations ĩ_t, f̃_t.
        stabilise: carry the max-stabiliser m_t (True) or compute exp(ĩ_t) directly (False,
            which overflows to inf and then nan for large ĩ_t).
        mode: "recurrent" or "parallel".
        chunk_size: steps per chunk in the parallel form.

    Returns:
        h̃: (B, T, dv).
    """
    check_mode(mode)
    q, k, v, dtype = check_qkv(q, k, v)
    batch, time, dk = q.shape
    i_pre, f_pre = np.asarray(i_pre, dtype=dtype), np.asarray(f_pre, dtype=dtype)
    check_shape("i_pre", i_pre, (batch, time), "(B, T)")
    check_shape("f_pre", f_pre, (batch, time), "(B, T)")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, received {chunk_size}")
    k = k / np.sqrt(dtype.type(dk))
    log_f = -np.logaddexp(dtype.type(0), -f_pre)  # log σ(f̃_t), no overflow
    out = np.empty((batch, time, v.shape[2]), dtype=dtype)
    C = np.zeros((batch, dk, v.shape[2]), dtype=dtype)
    n = np.zeros((batch, dk), dtype=dtype)
    # m_0 = -inf: with C_0 = n_0 = 0 nothing is lost; without the stabiliser m stays 0
    m = np.full(batch, -np.inf if stabilise else 0.0, dtype=dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        if mode == "parallel":
            for start in range(0, time, chunk_size):
                sl = slice(start, min(start + chunk_size, time))
                C, n, m = _mlstm_chunk(q[:, sl], k[:, sl], v[:, sl], i_pre[:, sl], log_f[:, sl], C, n, m,
                                       stabilise, out[:, sl])
            return out
        for t in range(time):
            if stabilise:
                m_new = np.maximum(log_f[:, t] + m, i_pre[:, t])
                i_gate, f_gate = np.exp(i_pre[:, t] - m_new), np.exp(log_f[:, t] + m - m_new)
                floor, m = np.exp(-m_new), m_new
            else:
                i_gate, f_gate, floor = np.exp(i_pre[:, t]), np.exp(log_f[:, t]), dtype.type(1)
            C = f_gate[:, None, None] * C + i_gate[:, None, None] * k[:, t, :, None] * v[:, t, None, :]
            n = f_gate[:, None] * n + i_gate[:, None] * k[:, t]
            norm = np.maximum(np.abs(np.einsum("bk,bk->b", q[:, t], n)), floor)
            out[:, t] = np.einsum("bk,bkv->bv", q[:, t], C) / norm[:, None]
    return out


def _mlstm_chunk(q, k, v, i_pre, log_f, C, n, m, stabilise, out):
    """One chunk of the parallel form: fill ``out`` (B, c, dv) and return the state (C, n, m) at its end.

    The carried state (C, n) is stored scaled by exp(-m). Within the chunk, step t gets weight
    exp(F_t - F_s + ĩ_s) from step s and exp(F_t + m) from the carried state (F: log forget gates
    summed from the chunk's start), and the new stabiliser is the largest of these logs.
    """
    size = q.shape[1]
    cum = np.cumsum(log_f, axis=1)  # (B, c)
    lower = np.tri(size, dtype=bool)
    log_d = np.where(lower, cum[:, :, None] - cum[:, None, :] + i_pre[:, None, :], -np.inf)  # (B, c, c)
    log_carry = cum + m[:, None]  # (B, c): log weight of the carried state at step t
    if stabilise:
        m_rows = np.maximum(log_d.max(axis=2), log_carry)  # (B, c): m_t, as in the recurrence
        floor = np.exp(-m_rows)[:, :, None]
    else:
        m_rows, floor = np.zeros_like(cum), 1.0
    weights = (q @ k.transpose(0, 2, 1)) * np.exp(log_d - m_rows[:, :, None])  # C̃ within the chunk
    carry = np.exp(log_carry - m_rows)[:, :, None]  # (B, c, 1)
    numerator = weights @ v + carry * (q @ C)
    norm = np.maximum(np.abs(weights.sum(axis=2, keepdims=True) + carry * (q @ n[:, :, None])), floor)
    out[...] = numerator / norm
    m_end = m_rows[:, -1]
    left = np.exp(cum[:, -1:] - cum + i_pre - m_end[:, None])[:, :, None]  # (B, c, 1): s -> chunk end
    keep = np.exp(log_carry[:, -1] - m_end)
    C = keep[:, None, None] * C + (k * left).transpose(0, 2, 1) @ v
    n = keep[:, None] * n + (k * left).sum(axis=1)
    return C, n, m_end
