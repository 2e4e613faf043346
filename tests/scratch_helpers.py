"""Shared fixtures for the scratch tests: cell specs and a loss that touches every output."""

from __future__ import annotations

import numpy as np

from rnnlab import scratch

# (id, class, keyword arguments): every cell variant the package offers.
CELL_SPECS = [
    ("rnn-tanh", scratch.RNN, {"nonlinearity": "tanh"}),
    ("rnn-relu", scratch.RNN, {"nonlinearity": "relu"}),
    ("lstm", scratch.LSTM, {}),
    ("gru", scratch.GRU, {"reset_after": True}),
    ("gru-reset-before", scratch.GRU, {"reset_after": False}),
]
CELL_IDS = [spec[0] for spec in CELL_SPECS]


def state_parts(state):
    """A state as a tuple of arrays (h,) or (h, c)."""
    return state if isinstance(state, tuple) else (state,)


def like_state(state, make):
    """Build an object shaped like ``state`` from ``make(shape)``."""
    parts = tuple(make(part.shape) for part in state_parts(state))
    return parts if isinstance(state, tuple) else parts[0]


def weighted_loss(out, state, out_weights, state_weights) -> float:
    """Σ out·w + Σ state·v: a scalar that depends on every output step and on the final state."""
    total = float(np.sum(out * out_weights))
    for part, weight in zip(state_parts(state), state_parts(state_weights)):
        total += float(np.sum(part * weight))
    return total
