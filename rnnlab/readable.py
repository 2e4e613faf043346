"""One step of the LSTM and the GRU, forward and backward, written for reading, not for speed.

Each gate has its own ``W_g`` (D, H), ``U_g`` (H, H) and ``b_g`` (H,), named with the gate's letter
as in the book: LSTM ``i, f, c, o`` (``c`` is the candidate c̃_t), GRU ``z, r, h`` (``h`` is the
candidate h̃_t; the GRU is the reset-after form, with recurrent biases ``bU_g``). ``rnnlab.scratch``
stores the same numbers side by side in one ``W``, ``U``, ``b`` and computes all the gates of a
step with one matrix product; :func:`lstm_params` and :func:`gru_params` cut those blocks apart.

Every array has a leading batch axis B: inputs (B, D), states (B, H).
"""

from __future__ import annotations

import numpy as np

LSTM_GATES = ("i", "f", "c", "o")  # the package's column order [i, f, g, o], g = the candidate
GRU_GATES = ("z", "r", "h")  # the package's column order [z, r, n], n = the candidate


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic sigmoid σ(a) = 1 / (1 + exp(−a)), elementwise."""
    return 1.0 / (1.0 + np.exp(-a))


def _blocks(array: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    H = array.shape[-1] // len(names)
    return {name: array[..., k * H : (k + 1) * H].copy() for k, name in enumerate(names)}


def lstm_params(W: np.ndarray, U: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Cut a fused LSTM layer into one ``W_g``, ``U_g``, ``b_g`` per gate.

    Args:
        W: (D, 4H), columns in the order [i, f, c̃, o] (``scratch.LSTM``).
        U: (H, 4H), same order.
        b: (4H,), same order.

    Returns:
        ``{"W_i": (D, H), "U_i": (H, H), "b_i": (H,), ...}`` for the gates i, f, c, o (copies).
    """
    params = {}
    for prefix, array in (("W", W), ("U", U), ("b", b)):
        params.update({f"{prefix}_{g}": block for g, block in _blocks(array, LSTM_GATES).items()})
    return params


def gru_params(W: np.ndarray, U: np.ndarray, b: np.ndarray, bU: np.ndarray) -> dict[str, np.ndarray]:
    """Cut a fused reset-after GRU layer into ``W_g``, ``U_g``, ``b_g``, ``bU_g`` per gate.

    Args:
        W: (D, 3H), columns in the order [z, r, h̃] (``scratch.GRU``).
        U: (H, 3H), same order.
        b: (3H,), same order.
        bU: (3H,), the bias of the recurrent product, same order.

    Returns:
        ``{"W_z": (D, H), "U_z": (H, H), "b_z": (H,), "bU_z": (H,), ...}`` for z, r, h (copies).
    """
    params = {}
    for prefix, array in (("W", W), ("U", U), ("b", b), ("bU", bU)):
        params.update({f"{prefix}_{g}": block for g, block in _blocks(array, GRU_GATES).items()})
    return params


def lstm_step(x, h_prev, c_prev, p):
    """One LSTM step: gates, candidate, new cell state and new hidden state.

    Args:
        x: x_t (B, D).
        h_prev: h_{t-1} (B, H).
        c_prev: c_{t-1} (B, H).
        p: the per-gate parameters (see :func:`lstm_params`).

    Returns:
        ``(h, c, cache)``: h_t (B, H), c_t (B, H), and what the backward step needs.
    """
    i = sigmoid(x @ p["W_i"] + h_prev @ p["U_i"] + p["b_i"])  # input gate
    f = sigmoid(x @ p["W_f"] + h_prev @ p["U_f"] + p["b_f"])  # forget gate
    o = sigmoid(x @ p["W_o"] + h_prev @ p["U_o"] + p["b_o"])  # output gate
    c_tilde = np.tanh(x @ p["W_c"] + h_prev @ p["U_c"] + p["b_c"])  # candidate
    c = f * c_prev + i * c_tilde
    h = o * np.tanh(c)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "o": o, "c_tilde": c_tilde, "c": c}
    return h, c, cache


def lstm_step_backward(dh, dc, cache, p):
    """Backward through one LSTM step.

    Args:
        dh: ∂L/∂h_t (B, H), everything that reaches h_t (its own loss and step t+1).
        dc: ∂L/∂c_t (B, H) from step t+1 only (zero at the last step).
        cache: from :func:`lstm_step`.
        p: the per-gate parameters.

    Returns:
        ``(dx, dh_prev, dc_prev, grads)``: ∂L/∂x_t (B, D), ∂L/∂h_{t-1} (B, H), ∂L/∂c_{t-1} (B, H)
        and this step's share of ∂L/∂W_g, ∂L/∂U_g, ∂L/∂b_g for every gate g.
    """
    i, f, o, c_tilde, c = (cache[k] for k in ("i", "f", "o", "c_tilde", "c"))
    tanh_c = np.tanh(c)
    dc = dc + dh * o * (1.0 - tanh_c**2)  # h_t = o ⊙ tanh(c_t) adds a second path into c_t
    delta = {  # ∂L/∂(pre-activation) of each gate
        "o": dh * tanh_c * o * (1.0 - o),
        "i": dc * c_tilde * i * (1.0 - i),
        "f": dc * cache["c_prev"] * f * (1.0 - f),
        "c": dc * i * (1.0 - c_tilde**2),
    }
    dc_prev = dc * f  # the forget-gate path: no matrix, no squashing derivative
    dh_prev = sum(delta[g] @ p[f"U_{g}"].T for g in LSTM_GATES)
    dx = sum(delta[g] @ p[f"W_{g}"].T for g in LSTM_GATES)
    grads = {}
    for g in LSTM_GATES:
        grads[f"W_{g}"] = cache["x"].T @ delta[g]
        grads[f"U_{g}"] = cache["h_prev"].T @ delta[g]
        grads[f"b_{g}"] = delta[g].sum(axis=0)
    return dx, dh_prev, dc_prev, grads


def gru_step(x, h_prev, p):
    """One GRU step in the reset-after form (``scratch.GRU``'s default, as in PyTorch and Keras).

    Args:
        x: x_t (B, D).
        h_prev: h_{t-1} (B, H).
        p: the per-gate parameters, with ``bU_g`` (see :func:`gru_params`).

    Returns:
        ``(h, cache)``: h_t (B, H) and what the backward step needs.
    """
    z = sigmoid(x @ p["W_z"] + p["b_z"] + h_prev @ p["U_z"] + p["bU_z"])  # update gate
    r = sigmoid(x @ p["W_r"] + p["b_r"] + h_prev @ p["U_r"] + p["bU_r"])  # reset gate
    q = h_prev @ p["U_h"] + p["bU_h"]  # the recurrent part of the candidate, before the reset
    h_tilde = np.tanh(x @ p["W_h"] + p["b_h"] + r * q)  # candidate
    h = z * h_prev + (1.0 - z) * h_tilde
    return h, {"x": x, "h_prev": h_prev, "z": z, "r": r, "q": q, "h_tilde": h_tilde}


def gru_step_backward(dh, cache, p):
    """Backward through one reset-after GRU step.

    Args:
        dh: ∂L/∂h_t (B, H), everything that reaches h_t.
        cache: from :func:`gru_step`.
        p: the per-gate parameters.

    Returns:
        ``(dx, dh_prev, grads)``: ∂L/∂x_t (B, D), ∂L/∂h_{t-1} (B, H), and this step's share of
        ∂L/∂W_g, ∂L/∂U_g, ∂L/∂b_g, ∂L/∂bU_g for every gate g.
    """
    z, r, q, h_tilde, h_prev = (cache[k] for k in ("z", "r", "q", "h_tilde", "h_prev"))
    delta_h = dh * (1.0 - z) * (1.0 - h_tilde**2)  # ∂L/∂(candidate's pre-activation)
    delta_z = dh * (h_prev - h_tilde) * z * (1.0 - z)
    delta_r = delta_h * q * r * (1.0 - r)
    dq = delta_h * r  # ∂L/∂q: the reset gate scales what flows back into U_h and bU_h
    dh_prev = dh * z + delta_z @ p["U_z"].T + delta_r @ p["U_r"].T + dq @ p["U_h"].T
    dx = delta_z @ p["W_z"].T + delta_r @ p["W_r"].T + delta_h @ p["W_h"].T
    x = cache["x"]
    grads = {}
    for g, d_in, d_rec in (("z", delta_z, delta_z), ("r", delta_r, delta_r), ("h", delta_h, dq)):
        grads[f"W_{g}"] = x.T @ d_in
        grads[f"b_{g}"] = d_in.sum(axis=0)
        grads[f"U_{g}"] = h_prev.T @ d_rec
        grads[f"bU_{g}"] = d_rec.sum(axis=0)
    return dx, dh_prev, grads
