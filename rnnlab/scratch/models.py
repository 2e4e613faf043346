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


def final_features(rnn, state) -> np.ndarray:
    """What a classifier reads from a stack's final state: the top layer's h, (B, H), or for a
    bidirectional stack both directions' final h side by side, (B, 2H) (forward first)."""
    h = state[0] if isinstance(state, tuple) else state  # (num_layers * dirs, B, H)
    if rnn.bidirectional:
        return np.concatenate([h[-2], h[-1]], axis=-1)
    return h[-1]


class SequenceClassifier(Module):
    """A recurrent stack read by a linear head at each sequence's last real step.

    logits = head(h_T), with h_T the top layer's final hidden state (with ``lengths``, the state
    after step ``lengths[b]``; bidirectional: the forward and backward final states, concatenated).

    Args:
        input_size: D, features per time step.
        hidden_size: H, hidden size of every recurrent layer.
        num_classes: K, number of classes (the head's outputs, raw logits).
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
        bidirectional: run each layer in both directions (the head then reads 2H features).
        dropout: dropout rate between recurrent layers (training mode only).
        seed: one seed for all initial weights.
        dtype: ``np.float32`` or ``np.float64``.
        **cell_kwargs: passed to the cell (e.g. ``nonlinearity="relu"``, ``reset_after=False``).
    """

    def __init__(self, input_size, hidden_size, num_classes, *, cell="lstm", num_layers=1,
                 bidirectional=False, dropout=0.0, seed=None, dtype=np.float32, **cell_kwargs):
        rnn_seed, head_seed = child_seeds(seed, 2)
        self.cell = cell
        self.seed = check_optional_seed(seed)
        self.rnn = make_cell(cell, input_size, hidden_size, num_layers, bidirectional=bidirectional,
                             dropout=dropout, seed=rnn_seed, dtype=dtype, **cell_kwargs)
        self.head = Linear(self.rnn.output_size, num_classes, seed=head_seed, dtype=dtype)
        self.dtype = self.rnn.dtype
        self._state_like = None
        self._out_shape: tuple[int, ...] | None = None

    def children(self):
        return {"rnn": self.rnn, "head": self.head}

    # A composite's arrays are its children's, gathered fresh on each access (read-only views of
    # the same live arrays), where a leaf module stores its own dicts as attributes.
    @property
    def params(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return prefixed(self.children(), "params")

    @property
    def grads(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return prefixed(self.children(), "grads")

    def forward(self, x, lengths=None):
        """Args: x (B, T, D); lengths (B,) real steps per sequence, or None. Returns: logits (B, K)."""
        out, state = self.rnn(x, lengths=lengths)
        self._state_like, self._out_shape = state, out.shape
        return self.head(final_features(self.rnn, state))

    def backward(self, dlogits):
        """Args: dL/dlogits (B, K). Returns dL/dx (B, T, D), zero at padded steps."""
        if self._state_like is None or self._out_shape is None:
            raise RuntimeError("backward() called before forward()")
        dfeatures = self.head.backward(dlogits)  # (B, H·dirs)
        rnn, state = self.rnn, self._state_like
        h = state[0] if isinstance(state, tuple) else state
        dh = np.zeros_like(h)
        if rnn.bidirectional:
            H = rnn.hidden_size
            dh[-2], dh[-1] = dfeatures[:, :H], dfeatures[:, H:]
        else:
            dh[-1] = dfeatures  # only the top layer's final state feeds the head
        dstate = (dh, np.zeros_like(h)) if isinstance(state, tuple) else dh
        dx, _ = rnn.backward(np.zeros(self._out_shape, dtype=self.dtype), dstate)
        return dx

    def predict(self, x, lengths=None) -> np.ndarray:
        """Most likely class for each sequence, shape (B,)."""
        return self.forward(x, lengths=lengths).argmax(axis=-1)

    def config(self) -> dict:
        """The constructor arguments that rebuild this model (JSON-serialisable)."""
        rnn = self.rnn
        return {"input_size": rnn.input_size, "hidden_size": rnn.hidden_size,
                "num_classes": self.head.out_features, "cell": self.cell, "num_layers": rnn.num_layers,
                "bidirectional": rnn.bidirectional, "dropout": rnn.dropout, "seed": self.seed,
                "dtype": self.dtype.name, **rnn._cell_config()}


class LanguageModel(Module):
    """Next-token model: embedding → recurrent stack → linear head over the vocabulary.

    Args:
        vocab_size: K, number of token ids.
        embedding_dim: D, size of each token's vector.
        hidden_size: H, hidden size of the recurrent layers.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
        bidirectional: run each layer in both directions (the head reads 2H features; such a
            model sees the future, so it is for tagging, not for generation).
        dropout: dropout rate between recurrent layers (training mode only).
        padding_idx: the embedding row of the pad token (see :class:`Embedding`).
        seed: one seed for all initial weights.
        dtype: ``np.float32`` or ``np.float64``.
        **cell_kwargs: passed to the cell.
    """

    def __init__(self, vocab_size, embedding_dim, hidden_size, *, cell="lstm", num_layers=1,
                 bidirectional=False, dropout=0.0, padding_idx=None, seed=None, dtype=np.float32, **cell_kwargs):
        emb_seed, rnn_seed, head_seed = child_seeds(seed, 3)
        self.cell = cell
        self.seed = check_optional_seed(seed)
        self.embedding = Embedding(vocab_size, embedding_dim, padding_idx=padding_idx, seed=emb_seed, dtype=dtype)
        self.rnn = make_cell(cell, embedding_dim, hidden_size, num_layers, bidirectional=bidirectional,
                             dropout=dropout, seed=rnn_seed, dtype=dtype, **cell_kwargs)
        self.head = Linear(self.rnn.output_size, vocab_size, seed=head_seed, dtype=dtype)
        self.dtype = self.rnn.dtype

    def children(self):
        return {"embedding": self.embedding, "rnn": self.rnn, "head": self.head}

    _parts = children

    # A composite's arrays are its children's, gathered fresh on each access (read-only views of
    # the same live arrays), where a leaf module stores its own dicts as attributes.
    @property
    def params(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return prefixed(self.children(), "params")

    @property
    def grads(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return prefixed(self.children(), "grads")

    def forward(self, ids, state=None, lengths=None):
        """Args: ids (B, T) ints; state as the cell's; lengths (B,) or None.

        Returns:
            ``(logits, state)``: logits (B, T, K) (at padded steps the head sees zeros, so they
            are the head's bias), and each sequence's state after its last real step.
        """
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"ids must be 2-D (batch, time), got shape {ids.shape}")
        out, state = self.rnn(self.embedding(ids), state, lengths=lengths)
        return self.head(out), state

    def backward(self, dlogits, dstate=None):
        """Args: dL/dlogits (B, T, K); dL/d(final state) or None. Returns dL/d(initial state)."""
        dout = self.head.backward(dlogits)
        demb, dstate0 = self.rnn.backward(dout, dstate)
        self.embedding.backward(demb)
        return dstate0

    def config(self) -> dict:
        """The constructor arguments that rebuild this model (JSON-serialisable)."""
        rnn = self.rnn
        return {"vocab_size": self.embedding.num_embeddings, "embedding_dim": self.embedding.embedding_dim,
                "hidden_size": rnn.hidden_size, "cell": self.cell, "num_layers": rnn.num_layers,
                "bidirectional": rnn.bidirectional, "dropout": rnn.dropout,
                "padding_idx": self.embedding.padding_idx, "seed": self.seed, "dtype": self.dtype.name,
                **rnn._cell_config()}
