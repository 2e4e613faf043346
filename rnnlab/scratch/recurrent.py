"""The machinery shared by RNN, LSTM and GRU: layers stacked, directions run, BPTT driven.

Each cell class supplies three things for one layer and one direction, in time-major layout
(T, B, ·), with the batch sorted by length, longest first, so that the sequences still running
at step ``t`` are always the first ``counts[t]`` rows (the layout of PyTorch's packed sequences):

* ``_init_layer(rng, input_size)``: the parameter arrays of one direction of one layer;
* ``_layer_forward(key, x, state, counts)``: the outputs ``h_1..h_T`` (T, B, H), zero at padded
  steps, the state histories (each (T+1, B, H), row ``t`` is the state after ``t`` steps, so a
  sequence's final state is row ``lengths[b]``), and a cache;
* ``_layer_backward(key, dh, dstate, cache, counts)``: ``dx`` (T, B, D), ``dstate0`` and the
  grads. Rows past ``counts[t]`` are left alone at step ``t``: their state gradient is carried
  unchanged until the sequence's last real step, which is what running it alone would give.

``key`` is the suffix of the parameter names: ``"0"`` for layer 0, ``"0_reverse"`` for its
backward direction (PyTorch's names). This base class validates input, sorts and unsorts the
batch, reverses each sequence within its own length for the backward direction, applies dropout
between layers, and converts between the public (B, T, feature) layout and time-major arrays.
"""

from __future__ import annotations

import numpy as np

from rnnlab._checks import (
    as_float_array,
    check_bool,
    check_float_dtype,
    check_int,
    check_lengths,
    check_optional_seed,
    check_probability,
    check_sequence,
    check_shape,
)

from .module import Module

REVERSE = "_reverse"


def dropout_generator(seed: int | None) -> np.random.Generator:
    """The generator of a model's dropout masks: seeded from ``seed``, independent of its weights."""
    return np.random.default_rng(None if seed is None else [seed, 0x0D0])


class RecurrentStack(Module):
    """A stack of ``num_layers`` recurrent layers of one kind (subclassed by RNN, LSTM, GRU).

    ``dropout_rng`` is the generator the dropout masks come from; assign a fresh
    ``np.random.default_rng(k)`` to it to replay the same masks.
    """

    # Number of arrays in one layer's state: 1 (h) or 2 (h, c for the LSTM).
    state_arrays = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        seed: int | None = None,
        dtype: object = np.float32,
    ) -> None:
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        self.num_layers = check_int("num_layers", num_layers)
        self.bidirectional = check_bool("bidirectional", bidirectional)
        self.dropout = check_probability("dropout", dropout)
        self.dtype = check_float_dtype(dtype)
        self.seed = check_optional_seed(seed)
        self.num_directions = 2 if self.bidirectional else 1
        rng = np.random.default_rng(self.seed)
        self.params = {}
        for key, layer_input in self._layer_keys():
            for name, value in self._init_layer(rng, layer_input).items():
                self.params[f"{name}{key}"] = value
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self.dropout_rng = dropout_generator(self.seed)
        self._graph: dict | None = None

    def _layer_keys(self) -> list[tuple[str, int]]:
        """``(key, input width)`` of every direction of every layer, in initialisation order."""
        keys = []
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            keys.append((f"{layer}", width))
            if self.bidirectional:
                keys.append((f"{layer}{REVERSE}", width))
        return keys

    @property
    def output_size(self) -> int:
        """Features per step of ``out``: H, or 2H when bidirectional."""
        return self.hidden_size * self.num_directions

    # ----------------------------------------------------------------- to be supplied by cells
    def _init_layer(self, rng: np.random.Generator, input_size: int) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _layer_forward(self, key, x: np.ndarray, state: tuple[np.ndarray, ...], counts: list[int]):
        raise NotImplementedError

    def _layer_backward(self, key, dh: np.ndarray, dstate: tuple[np.ndarray, ...], cache, counts: list[int]):
        raise NotImplementedError

    # ----------------------------------------------------------------- helpers for cells
    def layer_params(self, layer: int | str, *names: str) -> list[np.ndarray]:
        """The arrays ``names`` of one layer, e.g. ``layer_params(0, "W", "U", "b")``."""
        return [self.params[f"{name}{layer}"] for name in names]

    # ----------------------------------------------------------------- state packing
    def _state_shape(self, batch: int) -> tuple[int, int, int]:
        return (self.num_layers * self.num_directions, batch, self.hidden_size)

    def _unpack_state(self, state: object, batch: int, name: str) -> list[np.ndarray]:
        """Public state -> list of ``state_arrays`` arrays of shape (num_layers * dirs, B, H)."""
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
    def forward(self, x: object, state: object = None, lengths: object = None):
        """Run the stack over whole sequences.

        Args:
            x: inputs, shape (B, T, D).
            state: initial state, shape (num_layers * num_directions, B, H), in PyTorch's order
                (layer 0 forward, layer 0 backward, layer 1 forward, ...); an LSTM takes a tuple
                ``(h_0, c_0)`` of two such arrays. None means zeros.
            lengths: (B,) integers in 1..T, the real steps of each sequence; steps
                ``t >= lengths[b]`` are padding, never change the state and give zero outputs.
                None means every sequence has T steps.

        Returns:
            ``(out, state)``: ``out`` is the top layer's hidden states, shape (B, T, H), or
            (B, T, 2H) when bidirectional (forward direction first); ``state`` holds each
            sequence's state after its last real step (the backward direction's after step 0),
            shaped like ``state``.
        """
        x = check_sequence(x, self.input_size, self.dtype)
        batch, time = x.shape[:2]
        lengths = check_lengths(lengths, batch, time)
        if lengths is not None and lengths.min() == time:
            lengths = None  # nothing is padded: the plain path computes the same thing
        initial = self._unpack_state(state, batch, "state")
        order = inverse = None
        if lengths is not None:
            order = np.argsort(-lengths, kind="stable")
            if np.all(order == np.arange(batch)):
                order = None  # already longest first
            else:
                inverse = np.argsort(order)
                lengths = lengths[order]
                initial = [part[:, order] for part in initial]
        counts = step_counts(lengths, batch, time)
        layer_input = x.transpose(1, 0, 2)  # (T, B, D)
        layer_input = np.ascontiguousarray(layer_input if order is None else layer_input[:, order])
        reverse_index = None if lengths is None else reversal_index(lengths, time)
        final = [np.empty(self._state_shape(batch), dtype=self.dtype) for _ in range(self.state_arrays)]
        caches, masks = [], []
        dropout = self.dropout if self.training else 0.0
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                key = f"{layer}{REVERSE if direction else ''}"
                inputs = layer_input if direction == 0 else reverse_steps(layer_input, reverse_index)
                layer_state = tuple(part[index] for part in initial)
                hs, histories, cache = self._layer_forward(key, inputs, layer_state, counts)
                for part, history in zip(final, histories):
                    part[index] = history[-1] if lengths is None else history[lengths, np.arange(batch)]
                caches.append(cache)
                outputs.append(hs if direction == 0 else reverse_steps(hs, reverse_index))
            layer_input = outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=-1)  # (T, B, H·dirs)
            mask = None
            if dropout and layer < self.num_layers - 1:
                mask = dropout_mask(self.dropout_rng, layer_input.shape, dropout, self.dtype)
                layer_input = layer_input * mask
            masks.append(mask)
        self._graph = {
            "batch_time": (batch, time), "caches": caches, "masks": masks, "counts": counts,
            "order": order, "inverse": inverse, "reverse_index": reverse_index,
        }
        out = layer_input if inverse is None else layer_input[:, inverse]
        if inverse is not None:
            final = [part[:, inverse] for part in final]
        return out.transpose(1, 0, 2), self._pack_state(final)

    def backward(self, dout: object, dstate: object = None):
        """Backpropagation through time over the whole unrolled graph of the last forward.

        Args:
            dout: dL/d(out), shape (B, T, H) (2H when bidirectional); its padded steps are
                ignored, since padded outputs are constants.
            dstate: dL/d(final state), shaped like the state; None means zeros.

        Returns:
            ``(dx, dstate0)``: dL/dx, shape (B, T, D), zero at padded steps, and
            dL/d(initial state), shaped like the state. ``self.grads`` is replaced by
            dL/d(params), summed over all time steps and layers. Dropout reuses the forward
            pass's masks.
        """
        if self._graph is None:
            raise RuntimeError("backward() called before forward(): there is no graph to backpropagate through")
        graph = self._graph
        batch, time = graph["batch_time"]
        order, inverse, counts, reverse_index = graph["order"], graph["inverse"], graph["counts"], graph["reverse_index"]
        dout = as_float_array(dout, "dout", self.dtype)
        check_shape(dout, (batch, time, self.output_size), "dout")
        dfinal = self._unpack_state(dstate, batch, "dstate")
        dh = dout.transpose(1, 0, 2)  # (T, B, H·dirs)
        dh = np.ascontiguousarray(dh if order is None else dh[:, order])
        if order is not None:
            dfinal = [part[:, order] for part in dfinal]
        dinitial = [np.empty(self._state_shape(batch), dtype=self.dtype) for _ in range(self.state_arrays)]
        grads = {}
        H = self.hidden_size
        for layer in reversed(range(self.num_layers)):
            mask = graph["masks"][layer]
            if mask is not None:
                dh = dh * mask
            dx = None
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                key = f"{layer}{REVERSE if direction else ''}"
                d_out = dh if self.num_directions == 1 else dh[..., direction * H : (direction + 1) * H]
                if direction:
                    d_out = reverse_steps(d_out, reverse_index)
                layer_dstate = tuple(part[index] for part in dfinal)
                d_in, dstate0, layer_grads = self._layer_backward(key, d_out, layer_dstate, graph["caches"][index], counts)
                for part, value in zip(dinitial, dstate0):
                    part[index] = value
                for name, value in layer_grads.items():
                    grads[f"{name}{key}"] = value
                if direction:
                    d_in = reverse_steps(d_in, reverse_index)
                dx = d_in if dx is None else dx + d_in
            assert dx is not None  # num_directions >= 1
            dh = dx
        self.grads = {name: grads[name] for name in self.params}
        if inverse is not None:
            dh = dh[:, inverse]
            dinitial = [part[:, inverse] for part in dinitial]
        return dh.transpose(1, 0, 2), self._pack_state(dinitial)

    def config(self) -> dict:
        """The constructor arguments that rebuild this model (JSON-serialisable)."""
        return {
            "input_size": self.input_size, "hidden_size": self.hidden_size, "num_layers": self.num_layers,
            **self._cell_config(), "bidirectional": self.bidirectional, "dropout": self.dropout,
            "seed": self.seed, "dtype": self.dtype.name,
        }

    def _cell_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        extra = "".join(
            f", {name}={value!r}" for name, value in (("bidirectional", self.bidirectional), ("dropout", self.dropout))
            if value
        )
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"num_layers={self.num_layers}{extra}, dtype={self.dtype.name})"
        )


def step_counts(lengths: np.ndarray | None, batch: int, time: int) -> list[int]:
    """How many sequences are still running at each step, for lengths sorted longest first."""
    if lengths is None:
        return [batch] * time
    return [int(n) for n in (lengths[None, :] > np.arange(time)[:, None]).sum(axis=1)]


def reversal_index(lengths: np.ndarray, time: int) -> np.ndarray:
    """Time index (T, B) that reverses each sequence within its own length: t -> lengths[b]-1-t.

    Padded steps map to themselves, so applying it twice is the identity.
    """
    steps = np.arange(time)[:, None]
    return np.where(steps < lengths[None, :], lengths[None, :] - 1 - steps, steps)


def reverse_steps(a: np.ndarray, index: np.ndarray | None) -> np.ndarray:
    """Each sequence of ``a`` (T, B, F) reversed in time within its length (a new array)."""
    if index is None:
        return np.ascontiguousarray(a[::-1])
    return a[index, np.arange(a.shape[1])[None, :]]


def dropout_mask(rng: np.random.Generator, shape: tuple[int, ...], p: float, dtype: np.dtype) -> np.ndarray:
    """Inverted dropout mask: 0 with probability p, else 1/(1-p), so E[mask] = 1."""
    keep = rng.random(shape) >= p
    return keep * np.asarray(1.0 / (1.0 - p), dtype=dtype)


def project_inputs(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x W + b`` for every time step in one matrix product: (T, B, D) -> (T, B, G)."""
    time, batch, width = x.shape
    out = x.reshape(time * batch, width) @ W
    out += b  # in place: one (T·B, G) array instead of two
    return out.reshape(time, batch, W.shape[1])


def weight_gradient(inputs: np.ndarray, dpre: np.ndarray) -> np.ndarray:
    """Σ_t inputs_tᵀ dpre_t as one product: (T, B, D), (T, B, G) -> (D, G)."""
    return inputs.reshape(-1, inputs.shape[-1]).T @ dpre.reshape(-1, dpre.shape[-1])
