"""Linear attention with decay and the (gated) delta rule: recurrences on a matrix state.

Both keep a state ``S_t`` of shape (dk, dv), written with keys k_t (dk,) and values v_t (dv,) and
read with queries q_t (dk,), rows as everywhere in the book:

* linear attention (Katharopoulos et al., 2020, sec. 3, without the feature map and normaliser):
  ``S_t = γ_t S_{t-1} + k_t^T v_t``, ``o_t = q_t S_t``. A decay γ_t = γ fixed is RetNet's
  retention (Sun et al., 2023, sec. 2, without its rotation); a decay that depends on the input is
  gated linear attention (Yang et al., 2024, GLA, with one scalar per step instead of a vector).
* the delta rule (Schlag et al., 2021; DeltaNet of Yang et al., 2024):
  ``S_t = S_{t-1} + β_t k_t^T (v_t - k_t S_{t-1})``: read what the key retrieves now, write
  β_t times the error. With a decay it is Gated DeltaNet (Yang et al., 2025, the gated delta rule):
  ``S_t = γ_t (I - β_t k_t^T k_t) S_{t-1} + β_t k_t^T v_t``.

``mode="parallel"`` is the chunked form used to train them: within a chunk of C steps everything is
matrix products ((C, C) decay-masked scores, plus for the delta rule one unit lower-triangular
solve, the "UT transform" of Yang et al., 2024), and the state is passed between chunks, T / C
dependent steps instead of T.
"""

from __future__ import annotations

import numpy as np

from rnnlab.modern._common import check_gate, check_mode, check_qkv, decay_mask, log_decay

__all__ = ["delta_rule", "linear_attention"]

CHUNK_SIZE = 64


def _chunks(time: int, chunk_size: int):
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, received {chunk_size}")
    return [slice(start, min(start + chunk_size, time)) for start in range(0, time, chunk_size)]


def linear_attention(q, k, v, *, decay=None, mode: str = "recurrent", chunk_size: int = CHUNK_SIZE) -> np.ndarray:
    """Linear attention with an optional decay: ``S_t = γ_t S_{t-1} + k_t^T v_t``, ``o_t = q_t S_t``.

    Katharopoulos et al. (2020), sec. 3 (linearised attention as an RNN), with the identity feature map and no normaliser; a
    constant γ is RetNet's retention (Sun et al., 2023), an input-dependent γ_t a scalar-gated GLA
    (Yang et al., 2024). ``S_0 = 0``. Written out, ``o_t = Σ_{s<=t} (γ_{s+1} ... γ_t) (q_t · k_s) v_s``:
    causal attention with the softmax replaced by a decay mask. Nothing is ever removed from the
    state except by the decay, which shrinks every association at once.

    Args:
        q, k: (B, T, dk) queries and keys.
        v: (B, T, dv) values.
        decay: None (γ = 1), a float in (0, 1], or (B, T) values in (0, 1].
        mode: "recurrent" (the loop over t, the definition) or "parallel" (chunked matrix form).
        chunk_size: steps per chunk in the parallel form (``chunk_size >= T``: one (T, T) matrix).

    Returns:
        o: (B, T, dv), in the dtype of q, k, v (float32 stays float32).
    """
    check_mode(mode)
    q, k, v, dtype = check_qkv(q, k, v)
    batch, time, dk = q.shape
    log_g = log_decay(decay, batch, time, dtype)
    out = np.empty((batch, time, v.shape[2]), dtype=dtype)
    state = np.zeros((batch, dk, v.shape[2]), dtype=dtype)  # S_0 = 0
    if mode == "recurrent":
        g = np.exp(log_g)
        for t in range(time):
            state = g[:, t, None, None] * state + k[:, t, :, None] * v[:, t, None, :]  # (B, dk, dv)
            out[:, t] = np.einsum("bk,bkv->bv", q[:, t], state)
        return out
    for sl in _chunks(time, chunk_size):
        qc, kc, vc = q[:, sl], k[:, sl], v[:, sl]
        cum = np.cumsum(log_g[:, sl], axis=1)  # (B, C): log of γ_{start} ... γ_t
        mask = decay_mask(cum)  # (B, C, C)
        scores = (qc @ kc.transpose(0, 2, 1)) * mask  # (B, C, C): decayed q_t · k_s, s <= t
        out[:, sl] = scores @ vc + (qc * np.exp(cum)[:, :, None]) @ state  # within + from earlier chunks
        left = np.exp(cum[:, -1:] - cum)[:, :, None]  # (B, C, 1): decay from step s to the chunk's end
        state = np.exp(cum[:, -1])[:, None, None] * state + (kc * left).transpose(0, 2, 1) @ vc
    return out


def delta_rule(q, k, v, beta, *, decay=None, mode: str = "recurrent", chunk_size: int = CHUNK_SIZE) -> np.ndarray:
    """The delta rule, gated by a decay: ``S_t = γ_t (I - β_t k_t^T k_t) S_{t-1} + β_t k_t^T v_t``.

    DeltaNet (Schlag et al., 2021; Yang et al., 2024) for γ = 1, Gated DeltaNet (Yang et al.,
    2025) otherwise; ``o_t = q_t S_t``, ``S_0 = 0``. Equivalently the state first reads what k_t
    retrieves, ``k_t S_{t-1}``, and moves it a fraction β_t towards v_t: with β_t = 1 and a unit
    key the old value stored under k_t is *replaced*, which linear attention cannot do.

    Keys are used as given. Normalise them (``k_t / ‖k_t‖``): ``I - β_t k_t^T k_t`` has the
    eigenvalue ``1 - β_t ‖k_t‖²``, in [0, 1) for a unit key, and below -1 for
    ``‖k_t‖² > 2 / β_t``, when the state grows without bound.

    The parallel form is the chunked WY / UT form of Yang et al. (2024): within a chunk the
    written values ``u_t = β_t (v_t - γ_t k_t S_{t-1})`` solve a unit lower-triangular system.

    Args:
        q, k: (B, T, dk) queries and (normalised) keys.
        v: (B, T, dv) values.
        beta: (B, T) writing strengths in (0, 1] (a float is broadcast).
        decay: None (γ = 1), a float in (0, 1], or (B, T) values in (0, 1].
        mode: "recurrent" or "parallel" (chunked).
        chunk_size: steps per chunk in the parallel form.

    Returns:
        o: (B, T, dv), in the dtype of q, k, v.
    """
    check_mode(mode)
    q, k, v, dtype = check_qkv(q, k, v)
    batch, time, dk = q.shape
    beta = check_gate("beta", beta, batch, time, dtype)
    log_g = log_decay(decay, batch, time, dtype)
    out = np.empty((batch, time, v.shape[2]), dtype=dtype)
    state = np.zeros((batch, dk, v.shape[2]), dtype=dtype)
    if mode == "recurrent":
        g = np.exp(log_g)
        for t in range(time):
            kt = k[:, t]  # (B, dk)
            read = np.einsum("bk,bkv->bv", kt, state)  # k_t S_{t-1}: what the key retrieves now
            state = g[:, t, None, None] * (state - beta[:, t, None, None] * kt[:, :, None] * read[:, None, :])
            state = state + beta[:, t, None, None] * kt[:, :, None] * v[:, t, None, :]
            out[:, t] = np.einsum("bk,bkv->bv", q[:, t], state)
        return out
    for sl in _chunks(time, chunk_size):
        qc, kc, vc, bc = q[:, sl], k[:, sl], v[:, sl], beta[:, sl]
        size = qc.shape[1]
        cum = np.cumsum(log_g[:, sl], axis=1)  # (B, C)
        gam = np.exp(cum)[:, :, None]  # (B, C, 1): γ_start ... γ_t
        mask = decay_mask(cum)  # (B, C, C)
        strictly_lower = np.tri(size, k=-1, dtype=bool)
        # (I + strictly_lower(β_t (k_t · k_s) decay_ts)) U = β (V - Γ K S_prev)
        system = np.eye(size, dtype=dtype) + np.where(
            strictly_lower, bc[:, :, None] * (kc @ kc.transpose(0, 2, 1)) * mask, 0.0
        )
        rhs = bc[:, :, None] * (vc - gam * (kc @ state))
        written = np.linalg.solve(system, rhs).astype(dtype, copy=False)  # (B, C, dv): the u_t
        out[:, sl] = gam * (qc @ state) + ((qc @ kc.transpose(0, 2, 1)) * mask) @ written
        left = np.exp(cum[:, -1:] - cum)[:, :, None]
        state = np.exp(cum[:, -1])[:, None, None] * state + (kc * left).transpose(0, 2, 1) @ written
    return out
