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
        bidirectional: also run each layer backward in time (parameters ``W{l}_reverse``, ...).
        dropout: dropout rate on the outputs of every layer but the last (training mode only).
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
        bidirectional: bool = False,
        dropout: float = 0.0,
        seed: int | None = None,
        dtype: object = np.float32,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            input_size, hidden_size, num_layers, bidirectional=bidirectional, dropout=dropout, seed=seed, dtype=dtype
        )

    def _init_layer(self, rng, input_size):
        H = self.hidden_size
        return {
            "W": xavier_uniform(rng, input_size, H, self.dtype),
            "U": orthogonal(rng, H, self.dtype),
            "b": np.zeros(H, dtype=self.dtype),
        }

    def _cell_config(self):
        return {"nonlinearity": self.nonlinearity}

    def _layer_forward(self, layer, x, state, counts):
        W, U, b = self.layer_params(layer, "W", "U", "b")
        (h0,) = state
        batch = h0.shape[0]
        pre = project_inputs(x, W, b)  # (T, B, H): x_t W + b for all t at once
        hs = np.empty((x.shape[0] + 1,) + h0.shape, dtype=self.dtype)  # h_0 .. h_T
        hs[0] = h0
        relu = self.nonlinearity == "relu"
        for t, n in enumerate(counts):  # n: sequences still running (the first n rows)
            a = pre[t, :n]
            a += hs[t, :n] @ U
            if relu:
                np.maximum(a, 0, out=hs[t + 1, :n])
            else:
                np.tanh(a, out=hs[t + 1, :n])
            if n < batch:
                hs[t + 1, n:] = 0.0  # padded steps output zeros
        return hs[1:], (hs,), (x, hs)

    def _layer_backward(self, layer, dh_out, dstate, cache, counts):
        W, U = self.layer_params(layer, "W", "U")
        x, hs = cache
        (dh,) = dstate
        batch = dh.shape[0]
        dh = dh.copy()
        dpre = np.empty((x.shape[0],) + dh.shape, dtype=self.dtype)  # dL/d(pre-activation) per step
        U_T = U.T.copy()
        for t in reversed(range(x.shape[0])):
            n = counts[t]
            d = dh[:n]  # rows past n have ended: their gradient waits, unchanged, for their last step
            d += dh_out[t, :n]
            h = hs[t + 1, :n]
            if self.nonlinearity == "relu":
                da = d * (h > 0)
            else:
                da = d * (1.0 - h * h)
            dpre[t, :n] = da
            if n < batch:
                dpre[t, n:] = 0.0
            dh[:n] = da @ U_T
        grads = {
            "W": weight_gradient(x, dpre),
            "U": weight_gradient(hs[:-1], dpre),
            "b": dpre.sum(axis=(0, 1)),
        }
        dx = dpre @ W.T
        return dx, (dh,), grads
