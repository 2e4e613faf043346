"""minGRU and minLSTM (Feng et al., 2024, "Were RNNs all we needed?"): gates that read x_t only.

``min_gru`` lives in ``rnnlab.scan`` (chapter 8.4) and is re-exported here; ``min_lstm`` is built
on the same scan primitives.
"""

from __future__ import annotations

import numpy as np

from rnnlab.modern._common import check_mode, float_dtype
from rnnlab.scan import linear_recurrence, min_gru, parallel_scan
from rnnlab.scratch.functional import sigmoid

__all__ = ["min_gru", "min_lstm"]


def min_lstm(x, Wf, bf, Wi, bi, Wh, bh, h0=None, *, mode: str = "recurrent") -> np.ndarray:
    """minLSTM: ``h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t`` with normalised gates that read x_t only.

    Feng et al. (2024), sec. 3.2: ``f_t = σ(x_t W_f + b_f)``, ``i_t = σ(x_t W_i + b_i)``,
    ``h̃_t = x_t W_h + b_h``, and ``f'_t = f_t / (f_t + i_t)``, ``i'_t = i_t / (f_t + i_t)``, so
    the state is a convex combination of its past and the candidate (no cell state, no tanh).

    Args:
        x: (B, T, D) inputs.
        Wf, Wi, Wh: (D, H) weights. bf, bi, bh: (H,) biases.
        h0: (B, H) initial state, zeros if None.
        mode: "recurrent" (``linear_recurrence``) or "parallel" (``parallel_scan``).

    Returns:
        h: (B, T, H).
    """
    check_mode(mode)
    x = np.asarray(x)
    shapes = [np.shape(w) for w in (Wf, Wi, Wh)]
    if x.ndim != 3 or len(set(shapes)) != 1 or len(shapes[0]) != 2 or shapes[0][0] != x.shape[2]:
        raise ValueError(f"expected x (B, T, D) and Wf, Wi, Wh (D, H) of one shape, received x {x.shape}, "
                         f"Wf {shapes[0]}, Wi {shapes[1]}, Wh {shapes[2]}")
    dtype = float_dtype(x)
    f = sigmoid((x @ Wf + bf).astype(dtype, copy=False))
    i = sigmoid((x @ Wi + bi).astype(dtype, copy=False))
    cand = (x @ Wh + bh).astype(dtype, copy=False)
    solve = linear_recurrence if mode == "recurrent" else parallel_scan
    return solve(f / (f + i), i / (f + i) * cand, h0)
