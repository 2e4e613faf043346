"""The machinery shared by RNN, LSTM and GRU: layers stacked, states packed, BPTT driven.

Each cell class supplies three things for one layer, in time-major layout (T, B, ·):

* ``_init_layer(rng, input_size)``: the layer's parameter arrays;
* ``_layer_forward(l, x, state)``: the outputs ``h_1..h_T`` (T, B, H), final state, and a cache;
* ``_layer_backward(l, dh, dstate, cache)``: ``dx`` (T, B, D), ``dstate0``, and the layer's grads.

This base class validates input, runs the layers bottom-up (forward) and top-down (backward),
and converts between the public (batch, time, feature) layout and time-major arrays, whose
per-step slices are contiguous and therefore fast to multiply.
"""

from __future__ import annotations

import numpy as np

from rnnlab._checks import (
    as_float_array,
    check_float_dtype,
    check_int,
    check_optional_seed,
    check_sequence,
    check_shape,
)

from .module import Module


class RecurrentStack(Module):
    """A stack of ``num_layers`` recurrent layers of one kind (subclassed by RNN, LSTM, GRU)."""

    # Number of arrays in one layer's state: 1 (h) or 2 (h, c for the LSTM).
    state_arrays = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        seed: int | None = None,
        dtype: object = np.float32,
    ) -> None:
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        self.num_layers = check_int("num_layers", num_layers)
        self.dtype = check_float_dtype(dtype)
        self.seed = check_optional_seed(seed)
        rng = np.random.default_rng(self.seed)
        self.params = {}
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size
            for name, value in self._init_layer(rng, layer_input).items():
                self.params[f"{name}{layer}"] = value
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self._caches: list | None = None
        self._batch_time: tuple[int, int] | None = None

    # ----------------------------------------------------------------- to be supplied by cells
    def _init_layer(self, rng: np.random.Generator, input_size: int) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _layer_forward(self, layer: int, x: np.ndarray, state: tuple[np.ndarray, ...]):
        raise NotImplementedError

    def _layer_backward(self, layer: int, dh: np.ndarray, dstate: tuple[np.ndarray, ...], cache):
        raise NotImplementedError

    # ----------------------------------------------------------------- helpers for cells
    def layer_params(self, layer: int, *names: str) -> list[np.ndarray]:
        """The arrays ``names`` of one layer, e.g. ``layer_params(0, "W", "U", "b")``."""
        return [self.params[f"{name}{layer}"] for name in names]

    # ----------------------------------------------------------------- state packing
    def _state_shape(self, batch: int) -> tuple[int, int, int]:
        return (self.num_layers, batch, self.hidden_size)

    def _unpack_state(self, state: object, batch: int, name: str) -> list[np.ndarray]:
        """Public state -> list of ``state_arrays`` arrays of shape (num_layers, batch, hidden)."""
        shape = self._state_shape(batch)
        if state is None:
            return [np.zeros(shape, dtype=self.dtype) for _ in range(self.state_arrays)]
        if self.state_arrays == 1:
            parts = [state]
        else:
            if not isinstance(state, (tuple, list)) or len(state) != self.state_arrays:
                raise ValueError(
                    f"{name} must be a tuple (h, c) of two arrays of shape {shape}, "
                    f"got {type(state).__name__}"
                )
            parts = list(state)
        arrays = []
        for label, part in zip(("h", "c"), parts):
            array = as_float_array(part, f"{name} ({label})", self.dtype)
            check_shape(array, shape, f"{name} ({label})")
            arrays.append(array)
        return arrays

    def _pack_state(self, arrays: list[np.ndarray]):
        return arrays[0] if self.state_arrays == 1 else tuple(arrays)

    # ----------------------------------------------------------------- forward and backward
    def forward(self, x: object, state: object = None):
        """Run the stack over whole sequences.

        Args:
            x: inputs, shape (batch, time, input_size).
            state: initial state, shape (num_layers, batch, hidden_size) (LSTM: a tuple
                ``(h_0, c_0)`` of two such arrays); None means zeros.

        Returns:
            ``(out, state)``: ``out`` is the top layer's hidden states, shape
            (batch, time, hidden_size); ``state`` is the final state, shaped like ``state``.
        """
        x = check_sequence(x, self.input_size, self.dtype)
        batch, time = x.shape[:2]
        initial = self._unpack_state(state, batch, "state")
        layer_input = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, D)
        final = [np.empty(self._state_shape(batch), dtype=self.dtype) for _ in range(self.state_arrays)]
        caches = []
        for layer in range(self.num_layers):
            layer_state = tuple(part[layer] for part in initial)
            hs, last, cache = self._layer_forward(layer, layer_input, layer_state)
            for part, value in zip(final, last):
                part[layer] = value
            caches.append(cache)
            layer_input = hs  # (T, B, H)
        self._caches = caches
        self._batch_time = (batch, time)
        return layer_input.transpose(1, 0, 2), self._pack_state(final)

    def backward(self, dout: object, dstate: object = None):
        """Backpropagation through time over the whole unrolled graph of the last forward.

        Args:
            dout: dL/d(out), shape (batch, time, hidden_size).
            dstate: dL/d(final state), shaped like the state; None means zeros.

        Returns:
            ``(dx, dstate0)``: dL/dx, shape (batch, time, input_size), and dL/d(initial state),
            shaped like the state. ``self.grads`` is replaced by dL/d(params), summed over all
            time steps and layers.
        """
        if self._caches is None:
            raise RuntimeError("backward() called before forward(): there is no graph to backpropagate through")
        batch, time = self._batch_time
        dout = as_float_array(dout, "dout", self.dtype)
        check_shape(dout, (batch, time, self.hidden_size), "dout")
        dfinal = self._unpack_state(dstate, batch, "dstate")
        dh = np.ascontiguousarray(dout.transpose(1, 0, 2))  # (T, B, H)
        dinitial = [np.empty(self._state_shape(batch), dtype=self.dtype) for _ in range(self.state_arrays)]
        grads = {}
        for layer in reversed(range(self.num_layers)):
            layer_dstate = tuple(part[layer] for part in dfinal)
            dh, dstate0, layer_grads = self._layer_backward(layer, dh, layer_dstate, self._caches[layer])
            for part, value in zip(dinitial, dstate0):
                part[layer] = value
            for name, value in layer_grads.items():
                grads[f"{name}{layer}"] = value
        self.grads = {name: grads[name] for name in self.params}
        return dh.transpose(1, 0, 2), self._pack_state(dinitial)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"num_layers={self.num_layers}, dtype={self.dtype.name})"
        )


def project_inputs(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x W + b`` for every time step in one matrix product: (T, B, D) -> (T, B, G)."""
    time, batch, width = x.shape
    out = x.reshape(time * batch, width) @ W
    out += b  # in place: one (T·B, G) array instead of two
    return out.reshape(time, batch, W.shape[1])


def weight_gradient(inputs: np.ndarray, dpre: np.ndarray) -> np.ndarray:
    """Σ_t inputs_tᵀ dpre_t as one product: (T, B, D), (T, B, G) -> (D, G)."""
    return inputs.reshape(-1, inputs.shape[-1]).T @ dpre.reshape(-1, dpre.shape[-1])
