"""The Elman recurrent network (Elman, 1990), in the row-vector convention.

    h_t = φ(x_t W + h_{t-1} U + b),   φ = tanh (default) or ReLU

Shapes: ``W`` (input, hidden), ``U`` (hidden, hidden), ``b`` (hidden,). A plain RNN has no
gates: the whole memory is ``h_t``, rewritten through ``U`` at every step.
"""

from __future__ import annotations

import numpy as np

from .init import orthogonal, xavier_uniform
from .recurrent import RecurrentStack, project_inputs, weight_gradient

NONLINEARITIES = ("tanh", "relu")


class RNN(RecurrentStack):
    """A stack of Elman layers; parameters ``W{l}``, ``U{l}``, ``b{l}`` for layer ``l``.

    Args:
        input_size: features per time step of the input.
        hidden_size: size of the hidden state ``h_t``.
        num_layers: stacked layers; layer ``l > 0`` reads the hidden states of layer ``l - 1``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        seed: seed for the initial weights (None: fresh entropy).
        dtype: ``np.float32`` or ``np.float64``; inputs are cast to it and outputs keep it.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        *,
        seed: int | None = None,
        dtype: object = np.float32,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, seed=seed, dtype=dtype)

    def _init_layer(self, rng, input_size):
        H = self.hidden_size
        return {
            "W": xavier_uniform(rng, input_size, H, self.dtype),
            "U": orthogonal(rng, H, self.dtype),
            "b": np.zeros(H, dtype=self.dtype),
        }

    def _layer_forward(self, layer, x, state):
        W, U, b = self.layer_params(layer, "W", "U", "b")
        (h0,) = state
        pre = project_inputs(x, W, b)  # (T, B, H): x_t W + b for all t at once
        hs = np.empty((x.shape[0] + 1,) + h0.shape, dtype=self.dtype)  # h_0 .. h_T
        hs[0] = h0
        relu = self.nonlinearity == "relu"
        for t in range(x.shape[0]):
            a = pre[t]
            a += hs[t] @ U
            if relu:
                np.maximum(a, 0, out=hs[t + 1])
            else:
                np.tanh(a, out=hs[t + 1])
        return hs[1:], (hs[-1],), (x, hs)

    def _layer_backward(self, layer, dh_out, dstate, cache):
        W, U = self.layer_params(layer, "W", "U")
        x, hs = cache
        (dh,) = dstate
        dh = dh.copy()
        dpre = np.empty_like(dh_out)  # dL/d(pre-activation) at every step
        U_T = U.T.copy()
        for t in reversed(range(x.shape[0])):
            dh += dh_out[t]
            if self.nonlinearity == "relu":
                da = dh * (hs[t + 1] > 0)
            else:
                da = dh * (1.0 - hs[t + 1] * hs[t + 1])
            dpre[t] = da
            dh = da @ U_T
        grads = {
            "W": weight_gradient(x, dpre),
            "U": weight_gradient(hs[:-1], dpre),
            "b": dpre.sum(axis=(0, 1)),
        }
        dx = dpre @ W.T
        return dx, (dh,), grads
