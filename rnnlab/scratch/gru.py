"""The gated recurrent unit (Cho et al., 2014), in the row-vector convention.

Gate columns in the order [z, r, n] (update, reset, candidate; Keras uses the same order).

``reset_after=True`` (the PyTorch and Keras default) applies the reset gate *after* the
recurrent product and has a second bias ``bU`` on that product:

    ax = x_t W + b        ah = h_{t-1} U + bU
    z = σ(ax_z + ah_z)    r = σ(ax_r + ah_r)    n = tanh(ax_n + r ⊙ ah_n)

``reset_after=False`` is the original form, with the reset gate applied *before* it:

    z = σ(ax_z + h_{t-1} U_z)    r = σ(ax_r + h_{t-1} U_r)    n = tanh(ax_n + (r ⊙ h_{t-1}) U_n)

Both then interpolate:  h_t = z ⊙ h_{t-1} + (1 − z) ⊙ n.
"""

from __future__ import annotations

import numpy as np

from .functional import sigmoid
from .init import gate_blocks, orthogonal, xavier_uniform
from .recurrent import RecurrentStack, project_inputs, weight_gradient


class GRU(RecurrentStack):
    """A stack of GRU layers; parameters ``W{l}`` (in, 3H), ``U{l}`` (H, 3H), ``b{l}`` (3H,),
    and with ``reset_after=True`` also ``bU{l}`` (3H,), the bias of the recurrent product.

    Args:
        input_size: features per time step of the input.
        hidden_size: size of the hidden state.
        num_layers: stacked layers.
        reset_after: where the reset gate acts (see the module docstring).
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
        seed: int | None = None,
        dtype: object = np.float32,
    ) -> None:
        if not isinstance(reset_after, bool):
            raise TypeError(f"reset_after must be a bool, got {type(reset_after).__name__}")
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, num_layers, seed=seed, dtype=dtype)

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

    def _layer_forward(self, layer, x, state):
        W, U, b = self.layer_params(layer, "W", "U", "b")
        (h0,) = state
        H = self.hidden_size
        T = x.shape[0]
        ax = project_inputs(x, W, b)  # (T, B, 3H)
        hs = np.empty((T + 1,) + h0.shape, dtype=self.dtype)
        hs[0] = h0
        zrn = np.empty_like(ax)  # activated gates z, r, n
        # What the reset gate multiplies: h U_n + bU_n (reset_after) or h (reset before).
        reset_input = np.empty((T,) + h0.shape, dtype=self.dtype)
        if self.reset_after:
            (bU,) = self.layer_params(layer, "bU")
        else:
            U_zr, U_n = U[:, : 2 * H], U[:, 2 * H :]
        for t in range(T):
            h = hs[t]
            if self.reset_after:
                ah = h @ U + bU
                zrn[t, :, : 2 * H] = sigmoid(ax[t, :, : 2 * H] + ah[:, : 2 * H])
                r = zrn[t, :, H : 2 * H]
                reset_input[t] = ah[:, 2 * H :]
                np.tanh(ax[t, :, 2 * H :] + r * reset_input[t], out=zrn[t, :, 2 * H :])
            else:
                zrn[t, :, : 2 * H] = sigmoid(ax[t, :, : 2 * H] + h @ U_zr)
                r = zrn[t, :, H : 2 * H]
                reset_input[t] = h
                np.tanh(ax[t, :, 2 * H :] + (r * h) @ U_n, out=zrn[t, :, 2 * H :])
            z, n = zrn[t, :, :H], zrn[t, :, 2 * H :]
            hs[t + 1] = n + z * (h - n)  # = z h + (1 - z) n
        return hs[1:], (hs[-1],), (x, hs, zrn, reset_input)

    def _layer_backward(self, layer, dh_out, dstate, cache):
        W, U = self.layer_params(layer, "W", "U")
        x, hs, zrn, reset_input = cache
        H = self.hidden_size
        (dh,) = dstate
        dh = dh.copy()
        dax = np.empty_like(zrn)  # dL/d(x W + b) per step
        dah = np.empty_like(zrn)  # dL/d(what U multiplies, times U) per step, per gate block
        U_T = U.T.copy()
        for t in reversed(range(x.shape[0])):
            z, r, n = zrn[t, :, :H], zrn[t, :, H : 2 * H], zrn[t, :, 2 * H :]
            h_prev = hs[t]
            dh += dh_out[t]
            dn_pre = dh * (1.0 - z) * (1.0 - n * n)
            if self.reset_after:
                dr = dn_pre * reset_input[t]
            else:
                # n's recurrent term is (r ⊙ h) U_n: its gradient reaches both r and h.
                d_rh = dn_pre @ U_T[2 * H :]
                dr = d_rh * h_prev
            dr_pre = dr * r * (1.0 - r)
            dz_pre = dh * (h_prev - n) * z * (1.0 - z)
            dax[t, :, :H], dax[t, :, H : 2 * H], dax[t, :, 2 * H :] = dz_pre, dr_pre, dn_pre
            dah[t, :, :H], dah[t, :, H : 2 * H] = dz_pre, dr_pre
            if self.reset_after:
                dah[t, :, 2 * H :] = dn_pre * r
                dh = dh * z + dah[t] @ U_T
            else:
                dah[t, :, 2 * H :] = dn_pre
                dh = dh * z + d_rh * r + dah[t, :, : 2 * H] @ U_T[: 2 * H]
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
