"""Recurrent networks from scratch in NumPy: forward passes and exact backpropagation through time.

Conventions (the book's): row vectors and batch-first arrays. ``x`` is (batch, time, input_size),
``h_t = tanh(x_t W + h_{t-1} U + b)`` with ``W`` (input, hidden) and ``U`` (hidden, hidden).

Every cell takes ``lengths=`` (variable-length batches, as PyTorch's packed sequences),
``bidirectional=True`` and ``dropout=p`` between layers (PyTorch's semantics; ``train()``/``eval()``).

Cells: :class:`RNN` (Elman, 1990), :class:`LSTM` (Hochreiter & Schmidhuber, 1997; Gers et al., 2000),
:class:`GRU` (Cho et al., 2014). Pieces: :class:`Linear`, :class:`Embedding`, :class:`Dropout`, losses, :class:`SGD`,
:class:`Adam`, :func:`clip_grad_norm`, :func:`truncated_bptt`, :func:`gradcheck`,
:func:`save` and :func:`load`.
"""

from .functional import log_softmax, relu, sigmoid, softmax, tanh
from .gradcheck import GradcheckResult, gradcheck, numerical_gradient
from .gru import GRU
from .io import load, save
from .layers import Dropout, Embedding, Linear
from .losses import mse, softmax_cross_entropy
from .lstm import LSTM
from .models import CELLS, LanguageModel, SequenceClassifier, make_cell
from .module import Module
from .optim import SGD, Adam, clip_grad_norm
from .recurrent import RecurrentStack
from .rnn import RNN
from .tbptt import chunk_slices, truncated_bptt

__all__ = [
    "CELLS",
    "GRU",
    "LSTM",
    "RNN",
    "SGD",
    "Adam",
    "Dropout",
    "Embedding",
    "GradcheckResult",
    "LanguageModel",
    "Linear",
    "Module",
    "RecurrentStack",
    "SequenceClassifier",
    "chunk_slices",
    "clip_grad_norm",
    "gradcheck",
    "load",
    "log_softmax",
    "make_cell",
    "mse",
    "numerical_gradient",
    "relu",
    "save",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "tanh",
    "truncated_bptt",
]
