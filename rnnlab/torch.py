"""PyTorch twins of the scratch models, with exact weight transfer both ways.

``to_torch`` turns a scratch RNN/LSTM/GRU (or a scratch SequenceClassifier / LanguageModel)
into the equivalent ``torch.nn`` module; ``from_torch`` goes back. The two compute the same
function to the last bit the dtype allows; the tests prove it on outputs, final states and
gradients. Importing this module imports torch; ``import rnnlab`` does not.

Layout (details and the traps in :mod:`rnnlab._layout`): PyTorch stores ``W`` transposed as
``weight_ih_l{k} (G*H, in)``, keeps two biases ``bias_ih``/``bias_hh`` per layer, orders the
LSTM gates (i, f, g, o) like scratch, and the GRU gates (r, z, n) where scratch has (z, r, n).
Its GRU is the reset-after form ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.

Supported and refused, ``from_torch`` (always a ValueError naming the feature):

* handled: ``bias=False`` (zero biases), ``batch_first=False`` (the weights are the same; the
  scratch model still takes batch-first input), ``nonlinearity="relu"``, CUDA modules,
  ``bidirectional=True`` (the ``*_reverse`` weights become scratch's ``W{l}_reverse`` ...),
  ``dropout`` between layers (same semantics; the masks themselves come from each library's
  own generator, so only evaluation mode, or ``dropout=0``, computes the same numbers), the
  training/evaluation mode, and ``nn.Embedding(padding_idx=...)`` in a language model.
* refused: ``proj_size > 0``, dtypes other than float32/float64, any module other than the
  ones listed here.

Variable lengths: `run_rnn` runs a torch stack over a padded batch through
``pack_padded_sequence`` and pads the result back with zeros, which is exactly what a scratch
stack called with ``lengths=`` computes; the composite twins take ``lengths`` the same way.

``to_torch`` refuses a scratch ``GRU(reset_after=False)``: PyTorch has no such cell.

On a GPU, float32 cuDNN RNNs may compute in TF32 (``torch.backends.cudnn.allow_tf32``), which
is only good to about 1e-3; compare with scratch in float64 there, where the twins agree exactly.

States need no conversion: PyTorch's ``h_n`` is (num_layers * num_directions, B, H) like
scratch's, in the same order (layer 0 forward, layer 0 backward, layer 1 forward, ...), and an
LSTM's state is the tuple ``(h_n, c_n)`` in both.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab import scratch
from rnnlab._layout import (
    SCRATCH_CELLS,
    SCRATCH_COMPOSITES,
    CellKind,
    check_kind,
    directions,
    load_scratch,
    scratch_cell_options,
    scratch_kind,
    scratch_stack_options,
    scratch_to_torch,
    split_layers,
    torch_to_scratch,
)

__all__ = [
    "LanguageModel",
    "SequenceClassifier",
    "from_torch",
    "make_rnn",
    "run_rnn",
    "to_torch",
]

Device = str | torch.device
ScratchRecurrent = scratch.RNN | scratch.LSTM | scratch.GRU
ScratchModel = ScratchRecurrent | scratch.SequenceClassifier | scratch.LanguageModel

_TORCH_CELLS: dict[CellKind, Callable[..., nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_TORCH_DTYPES: dict[np.dtype, torch.dtype] = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
_NUMPY_DTYPES: dict[torch.dtype, np.dtype] = {value: key for key, value in _TORCH_DTYPES.items()}


# --------------------------------------------------------------------------- building blocks
def make_rnn(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    *,
    nonlinearity: str = "tanh",
    reset_after: bool = True,
    bidirectional: bool = False,
    dropout: float = 0.0,
    dtype: torch.dtype = torch.float32,
    device: Device = "cpu",
) -> nn.RNNBase:
    """A batch-first ``nn.RNN``/``nn.LSTM``/``nn.GRU`` that mirrors a scratch cell's options.

    Args:
        cell: "rnn", "lstm" or "gru".
        input_size, hidden_size, num_layers: D, H and the depth, as for the scratch cell.
        nonlinearity: "tanh" or "relu" (RNN only).
        reset_after: must be True for the GRU (PyTorch's only form).
        bidirectional, dropout: as for the scratch cell (and ``nn.LSTM``).
        dtype: torch.float32 or torch.float64.
        device: where the parameters live.

    Returns:
        The module; input (B, T, D), output (B, T, H), or (B, T, 2H) when bidirectional.
    """
    kind = check_kind(cell)
    if kind == "gru" and not reset_after:
        raise ValueError(
            "PyTorch's nn.GRU has only the reset_after=True form; got reset_after=False "
            "(use rnnlab.keras for a GRU(reset_after=False) twin)"
        )
    options: dict[str, Any] = {
        "batch_first": True, "dtype": dtype, "device": device, "bidirectional": bidirectional,
        "dropout": dropout,
    }
    if kind == "rnn":
        options["nonlinearity"] = nonlinearity
    with warnings.catch_warnings():  # dropout with one layer: a no-op, as in scratch
        warnings.filterwarnings("ignore", message="dropout option adds dropout")
        return _TORCH_CELLS[kind](input_size, hidden_size, num_layers, **options)


def run_rnn(
    rnn: nn.RNNBase, x: torch.Tensor, state: Any = None, lengths: Any = None
) -> tuple[torch.Tensor, Any]:
    """Run a batch-first torch stack over a padded batch, as a scratch stack with ``lengths``.

    Args:
        rnn: a batch-first ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
        x: (B, T, D).
        state: initial state or None.
        lengths: (B,) real steps per sequence (any order), or None for full-length sequences.

    Returns:
        ``(out, state)``: out (B, T, H·dirs) with zeros at padded steps, and each sequence's
        state after its last real step (``pack_padded_sequence`` inside).
    """
    if lengths is None:
        return rnn(x, state)
    lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.int64).cpu()
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, state = rnn(packed, state)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out, state


def final_features(rnn: nn.RNNBase, state: Any) -> torch.Tensor:
    """The top layer's final h (B, H), or both directions' side by side (B, 2H)."""
    h = state[0] if isinstance(state, tuple) else state
    return torch.cat([h[-2], h[-1]], dim=-1) if rnn.bidirectional else h[-1]


class SequenceClassifier(nn.Module):
    """Twin of ``scratch.SequenceClassifier``: RNN stack, then a linear head on the last state.

    Args:
        input_size, hidden_size, num_classes: D, H and K.
        cell: "rnn", "lstm" or "gru".
        num_layers: depth of the recurrent stack.
        bidirectional, dropout: of the stack (the head then reads both directions' final h).
        dtype, device: of the parameters.
        **cell_kwargs: ``nonlinearity`` (RNN) or ``reset_after`` (GRU, must be True).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_classes: int,
        *,
        cell: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        dtype: torch.dtype = torch.float32,
        device: Device = "cpu",
        **cell_kwargs: Any,
    ) -> None:
        super().__init__()
        self.cell = check_kind(cell)
        self.rnn = make_rnn(cell, input_size, hidden_size, num_layers, bidirectional=bidirectional,
                            dropout=dropout, dtype=dtype, device=device, **cell_kwargs)
        directions = 2 if bidirectional else 1
        self.head = nn.Linear(directions * hidden_size, num_classes, dtype=dtype, device=device)

    def forward(self, x: torch.Tensor, lengths: Any = None) -> torch.Tensor:
        """Logits (B, K) for inputs x (B, T, D), read at each sequence's last real step."""
        _, state = run_rnn(self.rnn, x, lengths=lengths)
        return self.head(final_features(self.rnn, state))  # (B, K)


class LanguageModel(nn.Module):
    """Twin of ``scratch.LanguageModel``: embedding, RNN stack, linear head at every step.

    Args:
        vocab_size, embedding_dim, hidden_size: K, D and H.
        cell: "rnn", "lstm" or "gru".
        num_layers: depth of the recurrent stack.
        bidirectional, dropout: of the stack.
        padding_idx: the pad token's embedding row (``nn.Embedding(padding_idx=...)``).
        dtype, device: of the parameters.
        **cell_kwargs: ``nonlinearity`` (RNN) or ``reset_after`` (GRU, must be True).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        *,
        cell: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        padding_idx: int | None = None,
        dtype: torch.dtype = torch.float32,
        device: Device = "cpu",
        **cell_kwargs: Any,
    ) -> None:
        super().__init__()
        self.cell = check_kind(cell)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx, dtype=dtype, device=device)
        self.rnn = make_rnn(cell, embedding_dim, hidden_size, num_layers, bidirectional=bidirectional,
                            dropout=dropout, dtype=dtype, device=device, **cell_kwargs)
        directions = 2 if bidirectional else 1
        self.head = nn.Linear(directions * hidden_size, vocab_size, dtype=dtype, device=device)

    def forward(self, ids: torch.Tensor, state: Any = None, lengths: Any = None) -> tuple[torch.Tensor, Any]:
        """Logits (B, T, K) and each sequence's final state for token ids (B, T).

        With ``lengths`` the padded steps' hidden states are zeros, so their logits are the
        head's bias, as in scratch.
        """
        out, state = run_rnn(self.rnn, self.embedding(ids), state, lengths)  # (B, T, H·dirs)
        return self.head(out), state


# --------------------------------------------------------------------------- scratch -> torch
def to_torch(model: ScratchModel, *, device: Device = "cpu") -> nn.Module:
    """The PyTorch twin of a scratch model: same architecture, dtype and weights.

    Args:
        model: a scratch ``RNN``, ``LSTM``, ``GRU`` (-> ``nn.RNN``/``nn.LSTM``/``nn.GRU`` with
            ``batch_first=True``), ``SequenceClassifier`` or ``LanguageModel`` (-> the classes
            of the same name in this module).
        device: where the twin's parameters live, e.g. "cuda".

    Returns:
        A new module; its parameters are copies, so training one world does not move the other.

    Raises:
        ValueError: for a ``GRU(reset_after=False)``, a dtype other than float32/float64, or
            a model of another type.
    """
    if not isinstance(model, SCRATCH_COMPOSITES):
        scratch_kind(model, "to_torch")  # refuses anything that is not a scratch cell either
    dtype = _torch_dtype(_scratch_dtype(model))
    rnn = model.rnn if isinstance(model, SCRATCH_COMPOSITES) else model
    options = dict(num_layers=rnn.num_layers, dtype=dtype, device=device, **scratch_cell_options(rnn),
                   **scratch_stack_options(rnn))
    kind = scratch_kind(rnn, "to_torch")
    twin: nn.Module
    if isinstance(model, scratch.SequenceClassifier):
        num_classes = model.head.params["W"].shape[1]
        twin = SequenceClassifier(rnn.input_size, rnn.hidden_size, num_classes, cell=kind, **options)
    elif isinstance(model, scratch.LanguageModel):
        vocab_size, embedding_dim = model.embedding.params["E"].shape
        twin = LanguageModel(vocab_size, embedding_dim, rnn.hidden_size, cell=kind,
                             padding_idx=model.embedding.padding_idx, **options)
    else:
        twin = make_rnn(kind, rnn.input_size, rnn.hidden_size, **options)
    _load_torch(twin, scratch_arrays_to_torch(model))
    twin.train(model.training)
    return twin


def scratch_arrays_to_torch(model: ScratchModel) -> dict[str, np.ndarray]:
    """A scratch model's parameters as the ``state_dict`` arrays of its PyTorch twin.

    Args:
        model: a scratch cell or composite.

    Returns:
        Names as in the twin's ``state_dict`` (``weight_ih_l0``, ``rnn.weight_ih_l0``,
        ``head.weight`` ...) mapped to NumPy arrays in PyTorch's layout.
    """
    if isinstance(model, SCRATCH_COMPOSITES):
        arrays = {f"rnn.{name}": value for name, value in scratch_arrays_to_torch(model.rnn).items()}
        arrays["head.weight"] = model.head.params["W"].T  # torch Linear stores (out, in)
        arrays["head.bias"] = model.head.params["b"]
        if isinstance(model, scratch.LanguageModel):
            arrays["embedding.weight"] = model.embedding.params["E"]
        return arrays
    kind = scratch_kind(model, "to_torch")
    arrays = {}
    for suffix in directions(model.bidirectional):
        for index, layer in enumerate(split_layers(model.params, model.num_layers, suffix)):
            arrays.update(scratch_to_torch(kind, layer, index, suffix))
    return arrays


# --------------------------------------------------------------------------- torch -> scratch
def from_torch(module: nn.Module) -> ScratchModel:
    """The scratch twin of a PyTorch module: same architecture, dtype and weights.

    Args:
        module: an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (-> scratch ``RNN``/``LSTM``/``GRU``),
            or this module's ``SequenceClassifier`` / ``LanguageModel`` (-> their scratch
            namesakes). PyTorch's two biases are summed for the RNN and LSTM, and kept apart
            (``b``, ``bU``) for the GRU.

    Returns:
        A new scratch model holding copies of the weights (moved to the CPU).

    Raises:
        ValueError: for a feature the scratch cells do not have (see the module docstring).
    """
    if isinstance(module, (SequenceClassifier, LanguageModel)):
        rnn = _check_torch_rnn(module.rnn)
        kind, options = _torch_kind(rnn), _torch_cell_options(rnn)
        dtype = _NUMPY_DTYPES[_param_dtype(rnn)]
        model: scratch.SequenceClassifier | scratch.LanguageModel
        if isinstance(module, SequenceClassifier):
            model = scratch.SequenceClassifier(
                rnn.input_size, rnn.hidden_size, module.head.out_features, cell=kind,
                num_layers=rnn.num_layers, dtype=dtype, **options,
            )
        else:
            model = scratch.LanguageModel(
                module.embedding.num_embeddings, module.embedding.embedding_dim, rnn.hidden_size,
                cell=kind, num_layers=rnn.num_layers, padding_idx=module.embedding.padding_idx,
                dtype=dtype, **options,
            )
        arrays = _numpy_state(module)
        values = {f"rnn.{key}": value for key, value in _torch_rnn_to_scratch_params(rnn, arrays, "rnn.").items()}
        values["head.W"] = arrays["head.weight"].T
        values["head.b"] = arrays.get("head.bias", np.zeros(module.head.out_features, dtype=dtype))
        if isinstance(module, LanguageModel):
            values["embedding.E"] = arrays["embedding.weight"]
        load_scratch(model, values)
        model.train(module.training)
        return model
    if isinstance(module, nn.RNNBase):
        rnn = _check_torch_rnn(module)
        dtype = _NUMPY_DTYPES[_param_dtype(rnn)]
        model = SCRATCH_CELLS[_torch_kind(rnn)](
            rnn.input_size, rnn.hidden_size, rnn.num_layers, dtype=dtype, **_torch_cell_options(rnn)
        )
        load_scratch(model, _torch_rnn_to_scratch_params(rnn, _numpy_state(rnn)))
        model.train(module.training)
        return model
    raise ValueError(
        "from_torch expects nn.RNN, nn.LSTM, nn.GRU, or rnnlab.torch.SequenceClassifier / "
        f"LanguageModel, got {type(module).__name__}"
    )


def _torch_rnn_to_scratch_params(
    rnn: nn.RNNBase, arrays: dict[str, np.ndarray], prefix: str = ""
) -> dict[str, np.ndarray]:
    """Scratch parameter dict (``W0``, ``U0``, ...) from a torch recurrent module's arrays."""
    kind = _torch_kind(rnn)
    own = {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}
    params = {}
    for suffix in directions(rnn.bidirectional):
        for index in range(rnn.num_layers):
            for key, value in torch_to_scratch(kind, own, index, suffix).items():
                params[f"{key}{index}{suffix}"] = value
    return params


def _check_torch_rnn(rnn: nn.Module) -> nn.RNNBase:
    """Raise a ValueError if ``rnn`` uses a feature the scratch cells do not have."""
    if type(rnn) not in _TORCH_CELLS.values():
        raise ValueError(f"expected nn.RNN, nn.LSTM or nn.GRU, got {type(rnn).__name__}")
    if getattr(rnn, "proj_size", 0):
        raise ValueError(f"LSTM projections are not supported: expected proj_size=0, got {rnn.proj_size}")
    if _param_dtype(rnn) not in _NUMPY_DTYPES:
        raise ValueError(f"expected a float32 or float64 module, got {_param_dtype(rnn)}")
    return cast(nn.RNNBase, rnn)


def _param_dtype(module: nn.Module) -> torch.dtype:
    """The dtype of a module's parameters (the twins never mix dtypes within a module)."""
    return next(module.parameters()).dtype


def _torch_kind(rnn: nn.RNNBase) -> CellKind:
    return next(kind for kind, cls in _TORCH_CELLS.items() if type(rnn) is cls)


def _torch_cell_options(rnn: nn.RNNBase) -> dict[str, Any]:
    """Scratch constructor kwargs: the RNN's nonlinearity, and every stack's directions and dropout."""
    options: dict[str, Any] = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    return {**options, "bidirectional": rnn.bidirectional, "dropout": float(rnn.dropout)}


# --------------------------------------------------------------------------- small helpers
def _scratch_dtype(model: ScratchModel) -> np.dtype:
    """The dtype of a scratch cell, or of a composite's recurrent stack."""
    return np.dtype(model.rnn.dtype) if hasattr(model, "rnn") else np.dtype(model.dtype)


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    if dtype not in _TORCH_DTYPES:
        raise ValueError(f"expected a float32 or float64 scratch model, got {dtype}")
    return _TORCH_DTYPES[dtype]


def _numpy_state(module: nn.Module) -> dict[str, np.ndarray]:
    """The module's parameters as NumPy copies on the CPU."""
    return {name: value.detach().cpu().numpy().copy() for name, value in module.state_dict().items()}


def _load_torch(module: nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Copy NumPy arrays into a module's parameters, demanding the same names and shapes."""
    state = module.state_dict()
    if set(state) != set(arrays):
        raise ValueError(f"expected parameters {sorted(state)}, got {sorted(arrays)}")
    with torch.no_grad():
        for name, value in arrays.items():
            state[name].copy_(torch.from_numpy(np.ascontiguousarray(value)))
