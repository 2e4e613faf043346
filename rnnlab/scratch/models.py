"""Whole models built from the scratch pieces, used throughout the book.

Their ``params``/``grads`` are flat dicts keyed ``"<part>.<name>"`` (``"rnn.W0"``, ``"head.b"``)
that point at the parts' live arrays, so one optimiser trains the whole model.
"""

from __future__ import annotations

import numpy as np

from rnnlab._checks import check_optional_seed

from .gru import GRU
from .layers import Embedding, Linear
from .lstm import LSTM
from .module import Module, prefixed
from .rnn import RNN

CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def make_cell(cell: str, input_size: int, hidden_size: int, num_layers: int = 1, **kwargs):
    """Build ``RNN``, ``LSTM`` or ``GRU`` by name (``"rnn"``, ``"lstm"``, ``"gru"``)."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    return CELLS[cell](input_size, hidden_size, num_layers, **kwargs)


def child_seeds(seed: int | None, count: int) -> list[int | None]:
    """Independent seeds for a model's parts, derived from one seed (None stays None)."""
    seed = check_optional_seed(seed)
    if seed is None:
        return [None] * count
    return [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(count)]


class SequenceClassifier(Module):
    """A recurrent stack read by a linear head at the last time step.

    logits = head(h_T), with h_T the top layer's last hidden state.

    Args:
        input_size: features per time step.
        hidden_size: hidden size of every recurrent layer.
        num_classes: number of classes (the head's outputs, raw logits).
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
        seed: one seed for all initial weights.
        dtype: ``np.float32`` or ``np.float64``.
        **cell_kwargs: passed to the cell (e.g. ``nonlinearity="relu"``, ``reset_after=False``).
    """

    def __init__(self, input_size, hidden_size, num_classes, *, cell="lstm", num_layers=1,
                 seed=None, dtype=np.float32, **cell_kwargs):
        rnn_seed, head_seed = child_seeds(seed, 2)
        self.cell = cell
        self.rnn = make_cell(cell, input_size, hidden_size, num_layers, seed=rnn_seed, dtype=dtype, **cell_kwargs)
        self.head = Linear(hidden_size, num_classes, seed=head_seed, dtype=dtype)
        self.dtype = self.rnn.dtype
        self._out_shape: tuple[int, ...] | None = None

    @property
    def params(self):
        return prefixed({"rnn": self.rnn, "head": self.head}, "params")

    @property
    def grads(self):
        return prefixed({"rnn": self.rnn, "head": self.head}, "grads")

    def forward(self, x):
        """Args: x (batch, time, input_size). Returns: logits (batch, num_classes)."""
        out, _ = self.rnn(x)
        self._out_shape = out.shape
        return self.head(out[:, -1])

    def backward(self, dlogits):
        """Args: dL/dlogits (batch, num_classes). Returns dL/dx (batch, time, input_size)."""
        if self._out_shape is None:
            raise RuntimeError("backward() called before forward()")
        dlast = self.head.backward(dlogits)
        dout = np.zeros(self._out_shape, dtype=self.dtype)
        dout[:, -1] = dlast  # only the last step feeds the head
        dx, _ = self.rnn.backward(dout)
        return dx

    def predict(self, x) -> np.ndarray:
        """Most likely class for each sequence, shape (batch,)."""
        return self.forward(x).argmax(axis=-1)


class LanguageModel(Module):
    """Next-token model: embedding → recurrent stack → linear head over the vocabulary.

    Args:
        vocab_size: number of token ids.
        embedding_dim: size of each token's vector.
        hidden_size: hidden size of the recurrent layers.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
        seed: one seed for all initial weights.
        dtype: ``np.float32`` or ``np.float64``.
        **cell_kwargs: passed to the cell.
    """

    def __init__(self, vocab_size, embedding_dim, hidden_size, *, cell="lstm", num_layers=1,
                 seed=None, dtype=np.float32, **cell_kwargs):
        emb_seed, rnn_seed, head_seed = child_seeds(seed, 3)
        self.cell = cell
        self.embedding = Embedding(vocab_size, embedding_dim, seed=emb_seed, dtype=dtype)
        self.rnn = make_cell(cell, embedding_dim, hidden_size, num_layers, seed=rnn_seed, dtype=dtype, **cell_kwargs)
        self.head = Linear(hidden_size, vocab_size, seed=head_seed, dtype=dtype)
        self.dtype = self.rnn.dtype

    def _parts(self):
        return {"embedding": self.embedding, "rnn": self.rnn, "head": self.head}

    @property
    def params(self):
        return prefixed(self._parts(), "params")

    @property
    def grads(self):
        return prefixed(self._parts(), "grads")

    def forward(self, ids, state=None):
        """Args: ids (batch, time) ints; state as the cell's. Returns (logits (batch, time, vocab), state)."""
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"ids must be 2-D (batch, time), got shape {ids.shape}")
        out, state = self.rnn(self.embedding(ids), state)
        return self.head(out), state

    def backward(self, dlogits, dstate=None):
        """Args: dL/dlogits (batch, time, vocab); dL/d(final state) or None. Returns dL/d(initial state)."""
        dout = self.head.backward(dlogits)
        demb, dstate0 = self.rnn.backward(dout, dstate)
        self.embedding.backward(demb)
        return dstate0
