"""Shared by the tests: the cell variants, state helpers and a loss that touches every output."""

from __future__ import annotations

import numpy as np

from rnnlab import scratch

# Every cell variant the package offers, as (kind, keyword arguments), with readable test ids.
CELLS = [
    ("rnn", {"nonlinearity": "tanh"}),
    ("rnn", {"nonlinearity": "relu"}),
    ("lstm", {}),
    ("gru", {"reset_after": True}),
    ("gru", {"reset_after": False}),
]
CELL_IDS = ["rnn-tanh", "rnn-relu", "lstm", "gru", "gru-reset-before"]
#: The variants PyTorch can represent (it has no reset-before GRU).
TORCH_CELLS, TORCH_CELL_IDS = CELLS[:4], CELL_IDS[:4]
# The same variants as (id, class, keyword arguments), for tests that build the classes directly.
CELL_SPECS = [(name, scratch.CELLS[kind], kwargs) for name, (kind, kwargs) in zip(CELL_IDS, CELLS)]


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
