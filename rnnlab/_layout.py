"""Weight layouts of one recurrent layer in the three worlds: scratch, PyTorch, Keras.

This is the one place that knows how the same cell is laid out in each library (and how to
read and fill a scratch model), shared by :mod:`rnnlab.torch` and :mod:`rnnlab.keras`. It is
pure NumPy so that it can be read, and tested, without either framework.

The maths is identical in all three libraries; only the storage differs. Every matrix has G gate
blocks of H columns side by side (G = 1 for the Elman RNN, 4 for the LSTM, 3 for the GRU):

* **scratch** multiplies row vectors, ``x W + h U + b``: ``W (in, G*H)``, ``U (H, G*H)``,
  ``b (G*H,)``, and a reset-after GRU also has ``bU (G*H,)``. Gates: LSTM ``i, f, g, o``;
  GRU ``z, r, n``.
* **PyTorch** multiplies column vectors, ``W x``, so it stores the transposes:
  ``weight_ih_l{k} (G*H, in)``, ``weight_hh_l{k} (G*H, H)``, and always two biases
  ``bias_ih_l{k}``, ``bias_hh_l{k}`` of shape ``(G*H,)``. Gates: LSTM ``i, f, g, o``;
  GRU ``r, z, n``.
* **Keras 3** multiplies row vectors like scratch: ``kernel (in, G*H)``,
  ``recurrent_kernel (H, G*H)``, ``bias (G*H,)``, except a GRU with ``reset_after=True``
  (its default), whose bias is ``(2, G*H)`` with rows ``[b, bU]``. Gates: LSTM ``i, f, c, o``
  (c is our g); GRU ``z, r, h`` (h is our n).

Traps worth naming:

* PyTorch stores its matrices transposed and has two bias vectors for every cell. For the RNN
  and LSTM only their sum matters, so scratch -> torch puts ``b`` in ``bias_ih`` and zeros in
  ``bias_hh``, and torch -> scratch sums them.
* For the GRU the two biases are *not* interchangeable: the candidate is
  ``n = tanh(x W_n + b_n + r * (h U_n + bU_n))`` (Cho et al. 2014 with the reset gate applied
  after the matrix product, "reset_after", which is what cuDNN computes). The scratch ``bU`` is
  PyTorch's ``bias_hh`` and row 1 of Keras's ``(2, 3H)`` bias.
* A GRU with ``reset_after=False`` computes ``n = tanh(x W_n + b_n + (r * h) U_n)``. Keras can
  store it (``GRU(reset_after=False)``, bias ``(3H,)``); PyTorch has no such form.
* PyTorch's GRU puts the reset gate first (r, z, n); scratch and Keras put the update gate first.

Bidirectional stacks: each layer has a second, backward-in-time direction with its own weights.
Scratch and PyTorch name them with the suffix ``_reverse`` (``W0_reverse``, ``weight_ih_l0_reverse``);
Keras wraps the layer in ``Bidirectional``, whose ``get_weights()`` is the forward layer's list
followed by the backward layer's. All three concatenate the two directions' outputs, forward
first, so layer ``l + 1`` reads 2H features in the same order everywhere.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from rnnlab import scratch

CellKind = Literal["rnn", "lstm", "gru"]
World = Literal["scratch", "torch", "keras"]

#: Gate blocks, in the order each library stacks them along the gate axis. Keras's names
#: for the LSTM's g and the GRU's n are c and h; the maths is the same.
GATE_ORDERS: dict[World, dict[CellKind, tuple[str, ...]]] = {
    "scratch": {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("z", "r", "n")},
    "torch": {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")},
    "keras": {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("z", "r", "n")},
}

#: Per-layer parameter names on the scratch side (without the layer index).
SCRATCH_KEYS = ("W", "U", "b", "bU")
#: Suffix of the backward direction's parameters, in scratch and PyTorch alike.
REVERSE = "_reverse"


def check_kind(kind: str) -> CellKind:
    """Return ``kind`` if it names a cell family, else raise a ValueError."""
    if kind not in ("rnn", "lstm", "gru"):
        raise ValueError(f"cell kind must be 'rnn', 'lstm' or 'gru', got {kind!r}")
    return kind  # type: ignore[return-value]


def reorder_gates(
    a: np.ndarray, kind: CellKind, source: World, target: World, axis: int = -1
) -> np.ndarray:
    """Permute the gate blocks of ``a`` from ``source``'s order to ``target``'s.

    Args:
        a: any array whose ``axis`` has length ``G * H`` (G gate blocks of H units each).
        kind: the cell family, which fixes G and the gate names.
        source: the library whose gate order ``a`` is in.
        target: the library whose gate order to return.
        axis: the gate axis.

    Returns:
        A new array of the same shape and dtype with the blocks reordered.
    """
    src, dst = GATE_ORDERS[source][kind], GATE_ORDERS[target][kind]
    if a.shape[axis] % len(src):
        raise ValueError(
            f"{kind} gate axis must have a multiple of {len(src)} entries, got shape {a.shape}"
        )
    blocks = dict(zip(src, np.split(a, len(src), axis=axis)))
    return np.concatenate([blocks[g] for g in dst], axis=axis)


def split_layers(
    params: dict[str, np.ndarray], num_layers: int, suffix: str = ""
) -> list[dict[str, np.ndarray]]:
    """Group scratch parameters ``{"W0", "U0", ..., "W1", ...}`` into one dict per layer.

    Args:
        params: a scratch cell's ``params`` (or ``grads``), keys like ``W0``, ``bU1``.
        num_layers: L.
        suffix: ``""`` for the forward direction, ``"_reverse"`` for the backward one.

    Returns:
        L dicts with keys among ``W, U, b, bU`` (the same arrays, not copies).
    """
    return [
        {key: params[f"{key}{layer}{suffix}"] for key in SCRATCH_KEYS if f"{key}{layer}{suffix}" in params}
        for layer in range(num_layers)
    ]


def directions(bidirectional: bool) -> tuple[str, ...]:
    """The parameter-name suffixes of a stack's directions: ``("",)`` or ``("", "_reverse")``."""
    return ("", REVERSE) if bidirectional else ("",)


def scratch_to_torch(
    kind: CellKind, layer: dict[str, np.ndarray], index: int, suffix: str = ""
) -> dict[str, np.ndarray]:
    """One scratch layer -> the four ``torch.nn.RNN/LSTM/GRU`` parameters of layer ``index``.

    Args:
        kind: the cell family.
        layer: ``W (in, G*H)``, ``U (H, G*H)``, ``b (G*H,)`` and, for a reset-after GRU,
            ``bU (G*H,)``.
        index: the layer number k in PyTorch's names ``weight_ih_l{k}`` etc.
        suffix: ``"_reverse"`` for the backward direction of a bidirectional layer.

    Returns:
        arrays: ``weight_ih_l{k} (G*H, in)``, ``weight_hh_l{k} (G*H, H)``, ``bias_ih_l{k} (G*H,)``,
        ``bias_hh_l{k} (G*H,)`` (each name followed by ``suffix``), in PyTorch's gate order.
    """
    if kind == "gru" and "bU" not in layer:
        raise ValueError(
            "PyTorch's nn.GRU only computes the reset_after=True form "
            "r * (h U_n + bU_n); a scratch GRU(reset_after=False) cannot be converted to it "
            "(convert it to Keras GRU(reset_after=False) instead)"
        )

    def perm(a: np.ndarray, axis: int = -1) -> np.ndarray:
        return reorder_gates(a, kind, "scratch", "torch", axis)

    # RNN/LSTM: only b_ih + b_hh matters, so all of b goes in b_ih and b_hh is zero.
    bias_hh = perm(layer["bU"]) if "bU" in layer else np.zeros_like(layer["b"])
    return {
        f"weight_ih_l{index}{suffix}": np.ascontiguousarray(perm(layer["W"]).T),
        f"weight_hh_l{index}{suffix}": np.ascontiguousarray(perm(layer["U"]).T),
        f"bias_ih_l{index}{suffix}": perm(layer["b"]),
        f"bias_hh_l{index}{suffix}": bias_hh,
    }


def torch_to_scratch(
    kind: CellKind, arrays: dict[str, np.ndarray], index: int, suffix: str = ""
) -> dict[str, np.ndarray]:
    """PyTorch parameters of layer ``index`` -> one scratch layer (inverse of `scratch_to_torch`).

    Args:
        kind: the cell family.
        arrays: at least ``weight_ih_l{k}`` and ``weight_hh_l{k}``; the biases may be absent
            (``bias=False``), in which case they are zeros.
        index: the layer number k.
        suffix: ``"_reverse"`` to read the backward direction of a bidirectional layer.

    Returns:
        arrays: ``W (in, G*H)``, ``U (H, G*H)``, ``b (G*H,)`` and, for the GRU, ``bU (G*H,)``. For
        the RNN and LSTM ``b = bias_ih + bias_hh``.
    """

    def unperm(a: np.ndarray, axis: int = -1) -> np.ndarray:
        return reorder_gates(a, kind, "torch", "scratch", axis)

    weight_ih = arrays[f"weight_ih_l{index}{suffix}"]
    zeros = np.zeros(weight_ih.shape[0], dtype=weight_ih.dtype)
    bias_ih = arrays.get(f"bias_ih_l{index}{suffix}", zeros)
    bias_hh = arrays.get(f"bias_hh_l{index}{suffix}", zeros)
    layer = {
        "W": np.ascontiguousarray(unperm(weight_ih.T)),
        "U": np.ascontiguousarray(unperm(arrays[f"weight_hh_l{index}{suffix}"].T)),
    }
    if kind == "gru":
        layer["b"], layer["bU"] = unperm(bias_ih), unperm(bias_hh)
    else:
        layer["b"] = bias_ih + bias_hh
    return layer


def scratch_to_keras(kind: CellKind, layer: dict[str, np.ndarray]) -> list[np.ndarray]:
    """One scratch layer -> ``[kernel, recurrent_kernel, bias]`` for ``layer.set_weights``.

    Args:
        kind: the cell family.
        layer: ``W (in, G*H)``, ``U (H, G*H)``, ``b (G*H,)`` and, for a reset-after GRU,
            ``bU (G*H,)``.

    Returns:
        arrays: ``kernel (in, G*H)``, ``recurrent_kernel (H, G*H)`` and ``bias``, which is ``(G*H,)``
        except for a reset-after GRU, where it is ``(2, G*H)`` with rows ``[b, bU]``.
    """

    def perm(a: np.ndarray) -> np.ndarray:
        return reorder_gates(a, kind, "scratch", "keras")

    bias = perm(layer["b"])
    if "bU" in layer:
        bias = np.stack([bias, perm(layer["bU"])])
    return [perm(layer["W"]), perm(layer["U"]), bias]


def keras_to_scratch(
    kind: CellKind, weights: list[np.ndarray], reset_after: bool = True
) -> dict[str, np.ndarray]:
    """``[kernel, recurrent_kernel, (bias)]`` of a Keras layer -> one scratch layer.

    Args:
        kind: the cell family.
        weights: ``layer.get_weights()``; without a bias (``use_bias=False``) the biases are
            zeros.
        reset_after: for the GRU, whether the layer is the reset-after form (and so whether
            the scratch layer gets a ``bU``). Ignored for the RNN and LSTM.

    Returns:
        arrays: ``W (in, G*H)``, ``U (H, G*H)``, ``b (G*H,)`` and, for a reset-after GRU, ``bU (G*H,)``.
    """

    def unperm(a: np.ndarray) -> np.ndarray:
        return reorder_gates(a, kind, "keras", "scratch")

    kernel, recurrent_kernel = weights[0], weights[1]
    layer = {"W": unperm(kernel), "U": unperm(recurrent_kernel)}
    two_biases = kind == "gru" and reset_after
    if len(weights) > 2:
        bias = weights[2]
    else:  # use_bias=False: the same cell with zero biases
        bias = np.zeros((2,) * two_biases + (kernel.shape[1],), dtype=kernel.dtype)
    if two_biases:  # rows are the input and the recurrent bias
        layer["b"], layer["bU"] = unperm(bias[0]), unperm(bias[1])
    else:
        layer["b"] = unperm(bias)
    return layer


# --------------------------------------------------------------------------- the scratch side
SCRATCH_CELLS: dict[CellKind, type] = {"rnn": scratch.RNN, "lstm": scratch.LSTM, "gru": scratch.GRU}
SCRATCH_COMPOSITES = (scratch.SequenceClassifier, scratch.LanguageModel)


def scratch_kind(model: Any, caller: str) -> CellKind:
    """"rnn", "lstm" or "gru" for a scratch cell; a ValueError naming ``caller`` otherwise."""
    for kind, cls in SCRATCH_CELLS.items():
        if isinstance(model, cls):
            return kind
    raise ValueError(
        f"{caller} expects a scratch RNN, LSTM, GRU, SequenceClassifier or LanguageModel, "
        f"got {type(model).__name__}"
    )


def scratch_cell_options(model: Any) -> dict[str, Any]:
    """The options that tell one scratch cell from another of its kind, as constructor kwargs."""
    if isinstance(model, scratch.RNN):
        return {"nonlinearity": model.nonlinearity}
    if isinstance(model, scratch.GRU):
        return {"reset_after": model.reset_after}
    return {}


def scratch_stack_options(model: Any) -> dict[str, Any]:
    """A scratch stack's ``bidirectional`` and ``dropout``, as constructor kwargs."""
    return {"bidirectional": model.bidirectional, "dropout": model.dropout}


def load_scratch(model: Any, values: dict[str, np.ndarray]) -> None:
    """Copy arrays into a scratch model's live parameters, in place (optimizers hold them).

    Args:
        model: any scratch module.
        values: exactly the keys of ``model.params``, each array of the same shape.
    """
    params = model.params
    if set(params) != set(values):
        raise ValueError(f"expected parameters {sorted(params)}, got {sorted(values)}")
    for name, value in values.items():
        if value.shape != params[name].shape:
            raise ValueError(f"parameter {name!r} must have shape {params[name].shape}, got {value.shape}")
        np.copyto(params[name], value)
