"""Long short-term memory (Hochreiter & Schmidhuber, 1997) with a forget gate (Gers et al., 2000).

Row-vector form, gate columns in the order [i, f, c̃, o] (the order PyTorch and Keras use too;
the code calls the candidate block ``g``, as PyTorch does):

    a_t = x_t W + h_{t-1} U + b                      (B, 4H)
    i_t = σ(a_i)   f_t = σ(a_f)   c̃_t = tanh(a_c̃)   o_t = σ(a_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
    h_t = o_t ⊙ tanh(c_t)

The cell state ``c_t`` is updated additively: along the direct path c_{t-1} -> c_t the gradient
is scaled by ``f_t`` alone, not by a weight matrix and a squashing derivative. Chapter 4
measures how much of the long-range gradient that path carries and how much goes through
``h_{t-1}`` and the gates.
"""

from __future__ import annotations

import numpy as np

from .init import gate_blocks, orthogonal, xavier_uniform
from .recurrent import RecurrentStack, project_inputs, weight_gradient


class LSTM(RecurrentStack):
    """A stack of LSTM layers; parameters ``W{l}``, ``U{l}`` (H, 4H), ``b{l}`` (4H,).

    ``W0`` is (D, 4H); above layer 0, ``W{l}`` is (H, 4H), or (2H, 4H) when bidirectional.

    The state is the tuple ``(h, c)``, each of shape (num_layers, batch, hidden_size).
    The forget-gate bias starts at 1 (as recommended by Jozefowicz et al., 2015) so that
    at initialisation the cell keeps about 73% (σ(1)) of its memory per step instead of 50%.

    Args:
        input_size: features per time step of the input.
        hidden_size: size of ``h_t`` and ``c_t``.
        num_layers: stacked layers.
        bidirectional: also run each layer backward in time (parameters ``W{l}_reverse``, ...).
        dropout: dropout rate on the outputs of every layer but the last (training mode only).
        seed: seed for the initial weights.
        dtype: ``np.float32`` or ``np.float64``.
    """

    state_arrays = 2

    def _init_layer(self, rng, input_size):
        H = self.hidden_size
        b = np.zeros(4 * H, dtype=self.dtype)
        b[H : 2 * H] = 1.0  # forget gate
        return {
            "W": gate_blocks(lambda: xavier_uniform(rng, input_size, H, self.dtype), 4),
            "U": gate_blocks(lambda: orthogonal(rng, H, self.dtype), 4),
            "b": b,
        }

    def _gate_scale(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-column ``(scale, shift)`` so that one ``tanh`` computes all four gates.

        σ(a) = ½ tanh(a/2) + ½, so pre-activations of the sigmoid gates (i, f, o) are halved,
        passed through ``tanh`` together with g's, then mapped back with ``½ · + ½``.
        """
        H = self.hidden_size
        scale = np.full(4 * H, 0.5, dtype=self.dtype)
        shift = np.full(4 * H, 0.5, dtype=self.dtype)
        scale[2 * H : 3 * H], shift[2 * H : 3 * H] = 1.0, 0.0
        return scale, shift

    def _layer_forward(self, layer, x, state, counts):
        W, U, b = self.layer_params(layer, "W", "U", "b")
        h0, c0 = state
        H = self.hidden_size
        T, batch = x.shape[:2]
        scale, shift = self._gate_scale()
        gates = project_inputs(x, W * scale, b * scale)  # (T, B, 4H), overwritten with i, f, g, o
        U_scaled = U * scale
        hs = np.empty((T + 1,) + h0.shape, dtype=self.dtype)
        cs = np.empty_like(hs)
        tanh_cs = np.empty((T,) + h0.shape, dtype=self.dtype)
        hs[0], cs[0] = h0, c0
        recurrent = np.empty(gates.shape[1:], dtype=self.dtype)  # reused: no allocation per step
        input_times_candidate = np.empty_like(h0)
        for t, n in enumerate(counts):  # n: sequences still running (the first n rows)
            a = gates[t, :n]
            np.matmul(hs[t, :n], U_scaled, out=recurrent[:n])
            a += recurrent[:n]
            np.tanh(a, out=a)
            a *= scale
            a += shift  # a is now [i, f, g, o]
            i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            c = cs[t + 1, :n]
            np.multiply(f, cs[t, :n], out=c)
            np.multiply(i, g, out=input_times_candidate[:n])
            c += input_times_candidate[:n]
            np.tanh(c, out=tanh_cs[t, :n])
            np.multiply(o, tanh_cs[t, :n], out=hs[t + 1, :n])
            if n < batch:  # padded steps: zero outputs, and finite values for backward's bulk maths
                hs[t + 1, n:] = cs[t + 1, n:] = tanh_cs[t, n:] = 0.0
                gates[t, n:] = 0.0
        return hs[1:], (hs, cs), (x, hs, cs, gates, tanh_cs)

    def _layer_backward(self, layer, dh_out, dstate, cache, counts):
        W, U = self.layer_params(layer, "W", "U")
        x, hs, cs, gates, tanh_cs = cache
        H = self.hidden_size
        T, B = x.shape[:2]
        i, f, g, o = gates[..., :H], gates[..., H : 2 * H], gates[..., 2 * H : 3 * H], gates[..., 3 * H :]
        # Local derivatives that depend only on the forward pass, for all steps at once, written
        # in place (no temporaries) into the array that then becomes dL/d(pre-activations):
        #   da_i = dc ⊙ g ⊙ i(1−i),  da_f = dc ⊙ c_{t−1} ⊙ f(1−f),  da_g = dc ⊙ i ⊙ (1−g²),
        #   da_o = dh ⊙ tanh(c_t) ⊙ o(1−o),  and dc gains dh ⊙ o ⊙ (1 − tanh²(c_t)).
        # Padded steps have all gates zero, so all their factors are zero too.
        dpre = np.empty_like(gates)
        k_i, k_f, k_g, k_o = (dpre[..., n * H : (n + 1) * H] for n in range(4))
        np.subtract(1.0, i, out=k_i)
        k_i *= i
        k_i *= g
        np.subtract(1.0, f, out=k_f)
        k_f *= f
        k_f *= cs[:-1]
        np.multiply(g, g, out=k_g)
        np.subtract(1.0, k_g, out=k_g)
        k_g *= i
        np.subtract(1.0, o, out=k_o)
        k_o *= o
        k_o *= tanh_cs
        dh_to_c = np.multiply(tanh_cs, tanh_cs)
        np.subtract(1.0, dh_to_c, out=dh_to_c)
        dh_to_c *= o
        dpre_blocks = dpre.reshape(T, B, 4, H)  # a view: dpre is contiguous
        dh, dc = (part.copy() for part in dstate)
        step = np.empty_like(dh)
        U_T = U.T.copy()
        for t in reversed(range(T)):
            n = counts[t]  # rows past n have ended: their gradients wait, unchanged, for their last step
            dh_n, dc_n = dh[:n], dc[:n]
            dh_n += dh_out[t, :n]
            np.multiply(dh_n, dh_to_c[t, :n], out=step[:n])
            dc_n += step[:n]
            # The factors become gradients: [i, f, g] blocks times dc, the o block times dh.
            dpre_blocks[t, :n, :3] *= dc_n[:, None, :]
            dpre_blocks[t, :n, 3] *= dh_n
            dc_n *= f[t, :n]
            np.matmul(dpre[t, :n], U_T, out=dh_n)
        grads = {
            "W": weight_gradient(x, dpre),
            "U": weight_gradient(hs[:-1], dpre),
            "b": dpre.sum(axis=(0, 1)),
        }
        dx = dpre @ W.T
        return dx, (dh, dc), grads
