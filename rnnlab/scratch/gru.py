"""The gated recurrent unit (Cho et al., 2014), in the row-vector convention.

Gate columns in the order [z, r, h̃] (update, reset, candidate; Keras uses the same order;
the code calls the candidate block ``n``, as PyTorch does).

``reset_after=True`` (the PyTorch and Keras default) applies the reset gate *after* the
recurrent product and has a second bias ``bU`` on that product:

    ax = x_t W + b        ah = h_{t-1} U + bU
    z_t = σ(ax_z + ah_z)    r_t = σ(ax_r + ah_r)    h̃_t = tanh(ax_h̃ + r_t ⊙ ah_h̃)

``reset_after=False`` is the original form, with the reset gate applied *before* it:

    z_t = σ(ax_z + h_{t-1} U_z)    r_t = σ(ax_r + h_{t-1} U_r)    h̃_t = tanh(ax_h̃ + (r_t ⊙ h_{t-1}) U_h̃)

Both then interpolate:  h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t.
"""

from __future__ import annotations

import numpy as np

from .functional import sigmoid
from .init import gate_blocks, orthogonal, xavier_uniform
from .recurrent import RecurrentStack, project_inputs, weight_gradient


class GRU(RecurrentStack):
    """A stack of GRU layers; parameters ``W{l}``, ``U{l}`` (H, 3H), ``b{l}`` (3H,), ``bU{l}`` (3H,).

    ``W0`` is (D, 3H); above layer 0, ``W{l}`` is (H, 3H), or (2H, 3H) when bidirectional.
    ``bU{l}``, the bias of the recurrent product, exists only with ``reset_after=True``.

    Args:
        input_size: features per time step of the input.
        hidden_size: size of the hidden state.
        num_layers: stacked layers.
        reset_after: where the reset gate acts (see the module docstring).
        bidirectional: also run each layer backward in time (parameters ``W{l}_reverse``, ...).
        dropout: dropout rate on the outputs of every layer but the last (training mode only).
        seed: seed for the initial weights.
        dtype: ``np.float32`` or ``np.float64``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        reset_after: bool = True,
        bidirectional: bool = False,
        dropout: float = 0.0,
        seed: int | None = None,
        dtype: object = np.float32,
    ) -> None:
        if not isinstance(reset_after, bool):
            raise TypeError(f"reset_after must be a bool, got {type(reset_after).__name__}")
        self.reset_after = reset_after
        super().__init__(
            input_size, hidden_size, num_layers, bidirectional=bidirectional, dropout=dropout, seed=seed, dtype=dtype
        )

    def _init_layer(self, rng, input_size):
        H = self.hidden_size
        params = {
            "W": gate_blocks(lambda: xavier_uniform(rng, input_size, H, self.dtype), 3),
            "U": gate_blocks(lambda: orthogonal(rng, H, self.dtype), 3),
            "b": np.zeros(3 * H, dtype=self.dtype),
        }
        if self.reset_after:
            params["bU"] = np.zeros(3 * H, dtype=self.dtype)
        return params

    def _cell_config(self):
        return {"reset_after": self.reset_after}

    def _layer_forward(self, layer, x, state, counts):
        W, U, b = self.layer_params(layer, "W", "U", "b")
        (h0,) = state
        H = self.hidden_size
        T, batch = x.shape[:2]
        ax = project_inputs(x, W, b)  # (T, B, 3H)
        hs = np.empty((T + 1,) + h0.shape, dtype=self.dtype)
        hs[0] = h0
        zrn = np.zeros_like(ax)  # activated gates z, r, n (zero at padded steps)
        # What the reset gate multiplies: h U_n + bU_n (reset_after) or h (reset before).
        reset_input = np.zeros((T,) + h0.shape, dtype=self.dtype)
        if self.reset_after:
            (bU,) = self.layer_params(layer, "bU")
        else:
            U_zr, U_n = U[:, : 2 * H], U[:, 2 * H :]
        for t, n in enumerate(counts):  # n: sequences still running (the first n rows)
            h = hs[t, :n]
            gates = zrn[t, :n]
            if self.reset_after:
                ah = h @ U + bU
                gates[:, : 2 * H] = sigmoid(ax[t, :n, : 2 * H] + ah[:, : 2 * H])
                r = gates[:, H : 2 * H]
                reset_input[t, :n] = ah[:, 2 * H :]
                np.tanh(ax[t, :n, 2 * H :] + r * reset_input[t, :n], out=gates[:, 2 * H :])
            else:
                gates[:, : 2 * H] = sigmoid(ax[t, :n, : 2 * H] + h @ U_zr)
                r = gates[:, H : 2 * H]
                reset_input[t, :n] = h
                np.tanh(ax[t, :n, 2 * H :] + (r * h) @ U_n, out=gates[:, 2 * H :])
            z, new = gates[:, :H], gates[:, 2 * H :]
            hs[t + 1, :n] = new + z * (h - new)  # = z h + (1 - z) n
            if n < batch:
                hs[t + 1, n:] = 0.0  # padded steps output zeros
        return hs[1:], (hs,), (x, hs, zrn, reset_input)

    def _layer_backward(self, layer, dh_out, dstate, cache, counts):
        W, U = self.layer_params(layer, "W", "U")
        x, hs, zrn, reset_input = cache
        H = self.hidden_size
        (dh,) = dstate
        dh = dh.copy()
        dax = np.zeros_like(zrn)  # dL/d(x W + b) per step (zero at padded steps)
        dah = np.zeros_like(zrn)  # dL/d(what U multiplies, times U) per step, per gate block
        U_T = U.T.copy()
        for t in reversed(range(x.shape[0])):
            n = counts[t]  # rows past n have ended: their gradient waits, unchanged, for their last step
            z, r, new = zrn[t, :n, :H], zrn[t, :n, H : 2 * H], zrn[t, :n, 2 * H :]
            h_prev = hs[t, :n]
            d = dh[:n] + dh_out[t, :n]
            dn_pre = d * (1.0 - z) * (1.0 - new * new)
            if self.reset_after:
                dr = dn_pre * reset_input[t, :n]
            else:
                # n's recurrent term is (r ⊙ h) U_n: its gradient reaches both r and h.
                d_rh = dn_pre @ U_T[2 * H :]
                dr = d_rh * h_prev
            dr_pre = dr * r * (1.0 - r)
            dz_pre = d * (h_prev - new) * z * (1.0 - z)
            dax[t, :n, :H], dax[t, :n, H : 2 * H], dax[t, :n, 2 * H :] = dz_pre, dr_pre, dn_pre
            dah[t, :n, :H], dah[t, :n, H : 2 * H] = dz_pre, dr_pre
            if self.reset_after:
                dah[t, :n, 2 * H :] = dn_pre * r
                dh[:n] = d * z + dah[t, :n] @ U_T
            else:
                dah[t, :n, 2 * H :] = dn_pre
                dh[:n] = d * z + d_rh * r + dah[t, :n, : 2 * H] @ U_T[: 2 * H]
        grads = {"W": weight_gradient(x, dax), "b": dax.sum(axis=(0, 1))}
        if self.reset_after:
            grads["U"] = weight_gradient(hs[:-1], dah)
            grads["bU"] = dah.sum(axis=(0, 1))
        else:
            r = zrn[:, :, H : 2 * H]
            grads["U"] = np.concatenate(
                [weight_gradient(hs[:-1], dah[:, :, : 2 * H]), weight_gradient(r * hs[:-1], dah[:, :, 2 * H :])],
                axis=1,
            )
        dx = dax @ W.T
        return dx, (dh,), grads
