"""Keras 3 twins of the scratch models, with exact weight transfer both ways.

``to_keras`` turns a scratch RNN/LSTM/GRU into a ``keras.Model`` mapping x (batch, time,
input_size) to the top layer's full sequence (batch, time, hidden_size); a scratch
SequenceClassifier or LanguageModel becomes the model that `sequence_classifier` or
`language_model` builds. ``from_keras`` goes back, from such a model or from a single
``SimpleRNN``/``LSTM``/``GRU`` layer. Importing this module imports Keras (and its backend);
``import rnnlab`` does not.

Layout (details and the traps in :mod:`rnnlab._layout`): Keras, like scratch, multiplies row
vectors (``kernel (in, G*H)``, ``recurrent_kernel (H, G*H)``) and orders the LSTM gates
(i, f, c, o) and the GRU gates (z, r, h), which are scratch's (i, f, g, o) and (z, r, n) under
other names. The GRU's ``reset_after=True`` (the default) keeps two biases as one ``(2, 3H)``
array, rows ``[b, bU]``; ``reset_after=False`` has one ``(3H,)`` bias and maps to a scratch
``GRU(reset_after=False)``. Initialiser options such as ``unit_forget_bias`` only matter before
the weights are overwritten, so they are ignored.

Both float32 and float64 work: the layers are built with ``dtype="float64"`` for a float64
scratch model (Keras 3's dtype policies make that an ordinary layer option).

Bidirectional stacks become ``keras.layers.Bidirectional(layer, merge_mode="concat")`` named
``rnn_{l}`` (its weights: the forward layer's, then the backward layer's), dropout between layers
becomes ``keras.layers.Dropout(p)`` layers ``dropout_{l}`` (active only when called with
``training=True``; the masks are Keras's own, so only inference computes scratch's numbers).

Variable lengths: ``to_keras(model, with_lengths=True)`` builds a twin with a second input
``lengths`` (B,) that becomes a mask ``t < lengths[b]`` for every recurrent layer. Keras's
masking is not scratch's padding: at a padded step a Keras layer keeps its state but its output
is not defined to be zero (Keras 2 repeated the last real output there); the real steps, the
final states (the state after step ``lengths[b] - 1``, or after step 0 for the backward
direction) and the classifier's logits are the same, and that is what the tests assert.

``Embedding(mask_zero=True)`` is the twin of a scratch ``LanguageModel(padding_idx=0)``: Keras
masks every step whose id is 0, scratch masks what ``lengths`` says, so the two agree on the
real steps of batches padded at the end with id 0, when scratch is given
``lengths=(ids != 0).sum(axis=1)``. Keras's row 0 is an ordinary (if never used) row; a scratch
``padding_idx`` other than 0 has no Keras form and is refused.

Supported and refused, ``from_keras`` (always a ValueError naming the feature):

* handled: ``use_bias=False`` (zero biases), ``return_sequences=False`` on the top layer of a
  plain stack (the weights are the same), ``unroll=True``, ``reset_after`` either way,
  ``Bidirectional(..., merge_mode="concat")`` around every recurrent layer, one ``Dropout``
  (one rate) between every two recurrent layers, and the ``lengths`` input built here.
* refused: any other layer than Input, Embedding, SimpleRNN, LSTM, GRU, Bidirectional, Dropout
  and Dense; another ``merge_mode``; activations other than tanh (or relu for SimpleRNN) and a
  recurrent activation other than sigmoid; ``dropout``/``recurrent_dropout > 0`` inside a
  layer; ``go_backwards`` (outside Bidirectional); ``stateful``;
  a Dense head with an activation; mixed precision; models that are not a single chain of layers.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from rnnlab import scratch
from rnnlab._layout import (
    SCRATCH_CELLS,
    SCRATCH_COMPOSITES,
    CellKind,
    check_kind,
    directions,
    keras_to_scratch,
    load_scratch,
    scratch_cell_options,
    scratch_kind,
    scratch_stack_options,
    scratch_to_keras,
    split_layers,
)

__all__ = [
    "LengthMask",
    "from_keras",
    "language_model",
    "make_rnn_layer",
    "rnn_model",
    "sequence_classifier",
    "to_keras",
]

ScratchRecurrent = scratch.RNN | scratch.LSTM | scratch.GRU
ScratchModel = ScratchRecurrent | scratch.SequenceClassifier | scratch.LanguageModel

_KERAS_CELLS: dict[CellKind, type] = {
    "rnn": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}
_DTYPES = ("float32", "float64")


class LengthMask(keras.layers.Layer):
    """The mask (B, T) of real steps, ``t < lengths[b]``, from x (B, T, ·) and lengths (B,)."""

    def call(self, x, lengths):
        steps = keras.ops.arange(keras.ops.shape(x)[1], dtype="int32")
        return steps[None, :] < keras.ops.cast(lengths, "int32")[:, None]

    def compute_output_spec(self, x, lengths):
        return keras.KerasTensor(x.shape[:2], dtype="bool")


# --------------------------------------------------------------------------- building blocks
def make_rnn_layer(
    cell: str,
    hidden_size: int,
    *,
    nonlinearity: str = "tanh",
    reset_after: bool = True,
    dtype: str = "float32",
    return_sequences: bool = True,
    return_state: bool = False,
    name: str | None = None,
) -> keras.layers.Layer:
    """A ``SimpleRNN``/``LSTM``/``GRU`` layer computing exactly what the scratch cell computes.

    Args:
        cell: "rnn", "lstm" or "gru".
        hidden_size: H, Keras's ``units``.
        nonlinearity: "tanh" or "relu" (RNN only).
        reset_after: GRU only; both forms exist in Keras.
        dtype: "float32" or "float64".
        return_sequences, return_state, name: passed to the layer.

    Returns:
        The (unbuilt) layer; input (batch, time, in), output (batch, time, H) or (batch, H).
    """
    kind = check_kind(cell)
    options: dict[str, Any] = {
        "return_sequences": return_sequences,
        "return_state": return_state,
        "dtype": _check_dtype(dtype),
        "name": name,
    }
    if kind == "rnn":
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        options["activation"] = nonlinearity
    if kind == "gru":
        options["reset_after"] = reset_after
    return _KERAS_CELLS[kind](hidden_size, **options)


def _rnn_stack(
    x: Any, cell: str, hidden_size: int, num_layers: int, *, last_sequences: bool = True,
    dtype: str, return_state: bool = False, bidirectional: bool = False, dropout: float = 0.0,
    mask: Any = None, **cell_kwargs: Any,
) -> tuple[Any, list[Any]]:
    """Apply ``num_layers`` recurrent layers named rnn_0, rnn_1, ... to the symbolic input x.

    Bidirectional layers are ``Bidirectional(..., merge_mode="concat")`` wrappers; with
    ``dropout`` a ``Dropout`` layer ``dropout_{l}`` follows every layer but the last; ``mask``
    (B, T) marks the real steps.

    Returns:
        The top layer's output and, with ``return_state``, the final state tensors of every
        direction of every layer, in scratch's order (layer 0 forward, layer 0 backward, ...).
    """
    states = []
    parts = 2 if check_kind(cell) == "lstm" else 1
    for index in range(num_layers):
        layer = make_rnn_layer(
            cell, hidden_size, dtype=dtype, return_state=return_state,
            name=f"rnn_{index}_cell" if bidirectional else f"rnn_{index}",
            return_sequences=last_sequences or index < num_layers - 1, **cell_kwargs,
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode="concat", dtype=dtype, name=f"rnn_{index}")
        x = layer(x) if mask is None else layer(x, mask=mask)
        if return_state:
            x, *layer_state = x
            states.extend([layer_state[:parts], layer_state[parts:]] if bidirectional else [layer_state])
        if dropout and index < num_layers - 1:
            x = keras.layers.Dropout(dropout, dtype=dtype, name=f"dropout_{index}")(x)
    return x, states


def _inputs(shape: tuple, dtype: str, name: str, with_lengths: bool) -> tuple[Any, list[Any], Any]:
    """The main input, the model's input list, and the mask (None without ``lengths``)."""
    main = keras.Input(shape=shape, dtype=dtype, name=name)
    if not with_lengths:
        return main, [main], None
    lengths = keras.Input(shape=(), dtype="int32", name="lengths")
    return main, [main, lengths], LengthMask(name="length_mask")(main, lengths)


def _model_inputs(inputs: list[Any]) -> Any:
    return inputs[0] if len(inputs) == 1 else inputs


def rnn_model(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    *,
    bidirectional: bool = False,
    dropout: float = 0.0,
    with_lengths: bool = False,
    dtype: str = "float32",
    return_state: bool = False,
    **cell_kwargs: Any,
) -> keras.Model:
    """A stack of recurrent layers as a ``keras.Model``, the twin of a scratch cell.

    Args:
        cell: "rnn", "lstm" or "gru".
        input_size, hidden_size, num_layers: D, H and the depth, as for the scratch cell.
        bidirectional, dropout: as for the scratch cell.
        with_lengths: take a second input ``lengths`` (B,) and mask the padded steps.
        dtype: "float32" or "float64".
        return_state: also output the final states, stacked like scratch's.
        **cell_kwargs: ``nonlinearity`` (RNN) or ``reset_after`` (GRU).

    Returns:
        A model mapping x (B, T, D) (and lengths) to out (B, T, H), or (B, T, 2H) when
        bidirectional; with ``return_state``, to ``[out, h_n]`` (``[out, h_n, c_n]`` for the
        LSTM), each state (num_layers * num_directions, B, H).
    """
    x, inputs, mask = _inputs((None, input_size), _check_dtype(dtype), "x", with_lengths)
    out, states = _rnn_stack(
        x, cell, hidden_size, num_layers, dtype=dtype, return_state=return_state,
        bidirectional=bidirectional, dropout=dropout, mask=mask, **cell_kwargs
    )
    if not return_state:
        return keras.Model(_model_inputs(inputs), out, name=f"{cell}_stack")
    # Each direction returns [h] or [h, c]; scratch stacks each kind over them: (L·dirs, B, H).
    stacked = [keras.ops.stack(parts) for parts in zip(*states)]
    return keras.Model(_model_inputs(inputs), [out, *stacked], name=f"{cell}_stack")


def sequence_classifier(
    input_size: int,
    hidden_size: int,
    num_classes: int,
    *,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    with_lengths: bool = False,
    dtype: str = "float32",
    **cell_kwargs: Any,
) -> keras.Model:
    """Twin of ``scratch.SequenceClassifier``: RNN stack, then a Dense head on the last state.

    Args:
        input_size, hidden_size, num_classes: D, H and K.
        cell: "rnn", "lstm" or "gru".
        num_layers: depth of the recurrent stack.
        bidirectional, dropout: of the stack.
        with_lengths: take a second input ``lengths`` (B,) and mask the padded steps.
        dtype: "float32" or "float64".
        **cell_kwargs: ``nonlinearity`` (RNN) or ``reset_after`` (GRU).

    Returns:
        A model mapping x (B, T, D) (and lengths) to logits (B, K).
    """
    x, inputs, mask = _inputs((None, input_size), _check_dtype(dtype), "x", with_lengths)
    # return_sequences=False on the top layer gives the final state (with a mask: at the last
    # real step; bidirectional: both directions' final states, concatenated), the head's input.
    last, _ = _rnn_stack(x, cell, hidden_size, num_layers, last_sequences=False, dtype=dtype,
                         bidirectional=bidirectional, dropout=dropout, mask=mask, **cell_kwargs)
    logits = keras.layers.Dense(num_classes, dtype=dtype, name="head")(last)
    return keras.Model(_model_inputs(inputs), logits, name="sequence_classifier")


def language_model(
    vocab_size: int,
    embedding_dim: int,
    hidden_size: int,
    *,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    with_lengths: bool = False,
    mask_zero: bool = False,
    dtype: str = "float32",
    **cell_kwargs: Any,
) -> keras.Model:
    """Twin of ``scratch.LanguageModel``: Embedding, RNN stack, Dense head at every step.

    Args:
        vocab_size, embedding_dim, hidden_size: K, D and H.
        cell: "rnn", "lstm" or "gru".
        num_layers: depth of the recurrent stack.
        bidirectional, dropout: of the stack.
        with_lengths: take a second input ``lengths`` (B,) and mask the padded steps (the
            logits at padded steps are then not scratch's; see the module docstring).
        mask_zero: ``Embedding(mask_zero=True)``, the twin of ``padding_idx=0``.
        dtype: "float32" or "float64".
        **cell_kwargs: ``nonlinearity`` (RNN) or ``reset_after`` (GRU).

    Returns:
        A model mapping token ids (B, T) (and lengths) to logits (B, T, K), starting from the
        zero state (scratch's ``lm(ids)`` with ``state=None``).
    """
    ids, inputs, _ = _inputs((None,), "int32", "ids", False)
    mask = None
    if with_lengths:
        lengths = keras.Input(shape=(), dtype="int32", name="lengths")
        inputs.append(lengths)
        mask = LengthMask(name="length_mask")(ids, lengths)
    embedded = keras.layers.Embedding(
        vocab_size, embedding_dim, mask_zero=mask_zero, dtype=_check_dtype(dtype), name="embedding"
    )(ids)
    out, _ = _rnn_stack(embedded, cell, hidden_size, num_layers, dtype=dtype, bidirectional=bidirectional,
                        dropout=dropout, mask=mask, **cell_kwargs)
    logits = keras.layers.Dense(vocab_size, dtype=dtype, name="head")(out)
    return keras.Model(_model_inputs(inputs), logits, name="language_model")


# --------------------------------------------------------------------------- scratch -> keras
def to_keras(model: ScratchModel, *, return_state: bool = False, with_lengths: bool = False) -> keras.Model:
    """The Keras twin of a scratch model: same architecture, dtype and weights.

    Args:
        model: a scratch ``RNN``, ``LSTM`` or ``GRU`` (-> `rnn_model`), ``SequenceClassifier``
            (-> `sequence_classifier`) or ``LanguageModel`` (-> `language_model`), with its
            ``bidirectional`` and ``dropout``.
        return_state: cells only; see `rnn_model`.
        with_lengths: the twin takes ``[x, lengths]`` and masks the padded steps.

    Returns:
        A new ``keras.Model`` holding copies of the weights.

    Raises:
        ValueError: for a model of another type, a dtype other than float32/float64, or a
            language model with a ``padding_idx`` other than 0 (``padding_idx=0`` becomes
            ``Embedding(mask_zero=True)``; see the module docstring).
    """
    rnn = model.rnn if isinstance(model, SCRATCH_COMPOSITES) else model
    kind = scratch_kind(rnn, "to_keras")
    mask_zero = False
    if isinstance(model, scratch.LanguageModel) and model.embedding.padding_idx is not None:
        if model.embedding.padding_idx != 0:
            raise ValueError(
                f"a language model with padding_idx={model.embedding.padding_idx} cannot be converted: Keras "
                "can only mask id 0 (Embedding(mask_zero=True)); use padding_idx=0"
            )
        mask_zero = True
    options = dict(num_layers=rnn.num_layers, dtype=np.dtype(rnn.dtype).name, with_lengths=with_lengths,
                   **scratch_cell_options(rnn), **scratch_stack_options(rnn))
    if isinstance(model, scratch.SequenceClassifier):
        num_classes = model.head.params["W"].shape[1]
        twin = sequence_classifier(rnn.input_size, rnn.hidden_size, num_classes, cell=kind, **options)
    elif isinstance(model, scratch.LanguageModel):
        vocab_size, embedding_dim = model.embedding.params["E"].shape
        twin = language_model(vocab_size, embedding_dim, rnn.hidden_size, cell=kind, mask_zero=mask_zero, **options)
        twin.get_layer("embedding").set_weights([model.embedding.params["E"]])
    else:
        twin = rnn_model(kind, rnn.input_size, rnn.hidden_size, return_state=return_state, **options)
    if isinstance(model, SCRATCH_COMPOSITES):
        twin.get_layer("head").set_weights([model.head.params["W"], model.head.params["b"]])
    per_direction = [split_layers(rnn.params, rnn.num_layers, suffix) for suffix in directions(rnn.bidirectional)]
    for index in range(rnn.num_layers):
        weights = [array for layers in per_direction for array in scratch_to_keras(kind, layers[index])]
        twin.get_layer(f"rnn_{index}").set_weights(weights)  # Bidirectional: forward's, then backward's
    return twin


# --------------------------------------------------------------------------- keras -> scratch
def from_keras(obj: keras.Model | keras.layers.Layer) -> ScratchModel:
    """The scratch twin of a Keras model or recurrent layer: same architecture and weights.

    Args:
        obj: a built ``SimpleRNN``/``LSTM``/``GRU`` layer (-> scratch cell), or a model that
            is a chain of such layers (-> scratch cell, e.g. from `to_keras`), of layers then a
            Dense head on the last state (-> ``SequenceClassifier``), or of an Embedding,
            recurrent layers and a Dense head at every step (-> ``LanguageModel``).

    Returns:
        A new scratch model holding copies of the weights.

    Raises:
        ValueError: for a feature the scratch models do not have (see the module docstring).
    """
    if not isinstance(obj, keras.Model):
        if not isinstance(obj, tuple(_KERAS_CELLS.values())):
            raise ValueError(
                f"from_keras expects a keras.Model or a SimpleRNN/LSTM/GRU layer, got {type(obj).__name__}"
            )
        return _scratch_stack([obj])
    layers = [layer for layer in obj.layers if not isinstance(layer, (keras.layers.InputLayer, LengthMask))]
    if not layers:
        raise ValueError("from_keras got a model without layers")
    for layer in layers:  # one layer's refusal says more than a broken chain would
        _check_layer(layer)
    _check_chain(obj, layers)
    layers, dropout = _strip_dropout(layers)
    model: ScratchModel
    if isinstance(layers[0], keras.layers.Embedding):
        model = _scratch_language_model(layers, dropout)
    elif isinstance(layers[-1], keras.layers.Dense):
        model = _scratch_classifier(layers, dropout)
    else:
        model = _scratch_stack(layers, dropout)
    return model


def _strip_dropout(layers: list[keras.layers.Layer]) -> tuple[list[keras.layers.Layer], float]:
    """The chain without its Dropout layers, and their one rate (0.0 without any).

    PyTorch's (and scratch's) dropout acts between every two recurrent layers and nowhere else,
    so that is the only place a Dropout layer may be, with the same rate everywhere.
    """
    recurrent = [_is_recurrent(layer) for layer in layers]
    rates, kept = [], []
    for index, layer in enumerate(layers):
        if not isinstance(layer, keras.layers.Dropout):
            kept.append(layer)
            continue
        between = 0 < index < len(layers) - 1 and recurrent[index - 1] and recurrent[index + 1]
        if not between:
            raise ValueError(
                f"Dropout layer {layer.name!r} must sit between two recurrent layers (scratch drops out "
                "only there, as PyTorch does)"
            )
        rates.append(float(layer.rate))
    if rates and (len(set(rates)) > 1 or len(rates) != sum(recurrent) - 1):
        raise ValueError(
            f"expected one Dropout rate between every two recurrent layers, got rates {rates} for "
            f"{sum(recurrent)} recurrent layers"
        )
    return kept, (rates[0] if rates else 0.0)


def _is_recurrent(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, (keras.layers.Bidirectional, *_KERAS_CELLS.values()))


def _directions(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """A recurrent layer as its list of directions: [layer], or [forward, backward]."""
    if isinstance(layer, keras.layers.Bidirectional):
        return [layer.forward_layer, layer.backward_layer]
    return [layer]


def _scratch_stack(layers: list[keras.layers.Layer], dropout: float = 0.0) -> ScratchRecurrent:
    """A scratch cell from a chain of Keras recurrent layers."""
    kind, dtype, options = _check_rnn_layers(layers)
    first = layers[0]
    if not first.built:
        raise ValueError(f"layer {first.name!r} has no weights yet: call or build it before converting")
    input_size = first.get_weights()[0].shape[0]
    model = SCRATCH_CELLS[kind](input_size, _units(first), len(layers), dropout=dropout, dtype=dtype, **options)
    load_scratch(model, _rnn_params(layers, kind, options))
    return model


def _units(layer: keras.layers.Layer) -> int:
    return _directions(layer)[0].units


def _scratch_classifier(layers: list[keras.layers.Layer], dropout: float = 0.0) -> scratch.SequenceClassifier:
    """A scratch SequenceClassifier from recurrent layers followed by a Dense head."""
    rnns, head = layers[:-1], layers[-1]
    kind, dtype, options = _check_rnn_layers(rnns)
    if rnns[-1].return_sequences:
        raise ValueError(
            "a classifier's top recurrent layer must have return_sequences=False (the head reads "
            "the last state), got return_sequences=True"
        )
    input_size = rnns[0].get_weights()[0].shape[0]
    model = scratch.SequenceClassifier(
        input_size, _units(rnns[0]), head.units, cell=kind, num_layers=len(rnns), dropout=dropout, dtype=dtype,
        **options,
    )
    values = {f"rnn.{key}": value for key, value in _rnn_params(rnns, kind, options).items()}
    values.update(_dense_params(head, dtype))
    load_scratch(model, values)
    return model


def _scratch_language_model(layers: list[keras.layers.Layer], dropout: float = 0.0) -> scratch.LanguageModel:
    """A scratch LanguageModel from an Embedding, recurrent layers and a Dense head."""
    embedding, rnns, head = layers[0], layers[1:-1], layers[-1]
    if not isinstance(head, keras.layers.Dense) or not rnns:
        raise ValueError(
            "a language model must be Embedding, recurrent layers, Dense; got "
            + ", ".join(type(layer).__name__ for layer in layers)
        )
    kind, dtype, options = _check_rnn_layers(rnns)
    if not rnns[-1].return_sequences:
        raise ValueError("a language model's top recurrent layer must have return_sequences=True, got False")
    model = scratch.LanguageModel(
        embedding.input_dim, embedding.output_dim, _units(rnns[0]), cell=kind, num_layers=len(rnns),
        dropout=dropout, padding_idx=0 if embedding.mask_zero else None, dtype=dtype, **options,
    )
    values = {f"rnn.{key}": value for key, value in _rnn_params(rnns, kind, options).items()}
    values.update(_dense_params(head, dtype))
    values["embedding.E"] = embedding.get_weights()[0]
    load_scratch(model, values)
    return model


def _rnn_params(layers: list[keras.layers.Layer], kind: CellKind, options: dict[str, Any]) -> dict[str, np.ndarray]:
    """Scratch parameter dict (``W0``, ``U0``, ...) from a chain of Keras recurrent layers."""
    params = {}
    for index, layer in enumerate(layers):
        weights = layer.get_weights()
        count = len(weights) // len(_directions(layer))  # Bidirectional: forward's, then backward's
        for direction, suffix in enumerate(directions(options.get("bidirectional", False))):
            arrays = weights[direction * count : (direction + 1) * count]
            for key, value in keras_to_scratch(kind, arrays, options.get("reset_after", True)).items():
                params[f"{key}{index}{suffix}"] = value
    return params


def _dense_params(head: keras.layers.Layer, dtype: str) -> dict[str, np.ndarray]:
    """``head.W``, ``head.b`` from a Dense layer with a linear activation."""
    if not isinstance(head, keras.layers.Dense):
        raise ValueError(f"expected a Dense head, got {type(head).__name__}")
    activation = head.get_config()["activation"]
    if activation != "linear":
        raise ValueError(f"the Dense head must output logits (activation='linear'), got activation={activation!r}")
    weights = head.get_weights()
    bias = weights[1] if head.use_bias else np.zeros(head.units, dtype=dtype)
    return {"head.W": weights[0], "head.b": bias}


def _check_layer(layer: keras.layers.Layer) -> None:
    """Refuse a layer that no scratch model has, or an option that changes what it computes."""
    if isinstance(layer, keras.layers.Embedding):
        pass  # mask_zero=True becomes padding_idx=0 (see the module docstring)
    elif isinstance(layer, keras.layers.Dense):
        _dense_params(layer, _layer_dtype(layer))
    elif _is_recurrent(layer):
        _check_rnn_layers([layer])
    elif isinstance(layer, keras.layers.Dropout):
        if layer.noise_shape is not None:
            raise ValueError(f"Dropout layer {layer.name!r}: noise_shape is not supported, got {layer.noise_shape}")
    else:
        raise ValueError(
            f"unsupported layer {layer.name!r} of type {type(layer).__name__}: expected Embedding, "
            "SimpleRNN, LSTM, GRU, Bidirectional, Dropout or Dense"
        )


def _check_rnn_layers(layers: list[keras.layers.Layer]) -> tuple[CellKind, str, dict[str, Any]]:
    """Validate a chain of recurrent layers; return their kind, dtype and scratch options."""
    if not layers:
        raise ValueError("expected at least one SimpleRNN, LSTM or GRU layer, got none")
    configs = []
    for layer in layers:
        bidirectional = isinstance(layer, keras.layers.Bidirectional)
        if bidirectional:
            _check_bidirectional(layer)
        inner = _directions(layer)[0]
        kind = next((k for k, cls in _KERAS_CELLS.items() if isinstance(inner, cls)), None)
        if kind is None:
            raise ValueError(
                f"layer {layer.name!r} is a {type(layer).__name__} where a SimpleRNN, LSTM, GRU or a "
                "Bidirectional wrapper of one was expected"
            )
        dtype, options = _check_rnn_layer(inner, kind)
        configs.append((kind, dtype, options + (("bidirectional", bidirectional),)))
    if len(set(configs)) > 1:
        raise ValueError(f"all recurrent layers must have the same kind, dtype and options, got {configs}")
    kind, dtype, options = configs[0]
    return kind, dtype, dict(options)


def _check_bidirectional(layer: keras.layers.Layer) -> None:
    """Refuse a Bidirectional wrapper that is not scratch's: concat, and a true mirror image."""
    if layer.merge_mode != "concat":
        raise ValueError(
            f"layer {layer.name!r}: Bidirectional merge_mode must be 'concat' (scratch puts the two "
            f"directions side by side, forward first), got {layer.merge_mode!r}"
        )
    forward, backward = layer.forward_layer, layer.backward_layer
    if forward.go_backwards or not backward.go_backwards:
        raise ValueError(f"layer {layer.name!r}: expected a forward layer and a go_backwards=True backward layer")
    ignore = ("name", "go_backwards")
    f_config = {k: v for k, v in forward.get_config().items() if k not in ignore}
    b_config = {k: v for k, v in backward.get_config().items() if k not in ignore}
    if type(forward) is not type(backward) or f_config != b_config:
        raise ValueError(f"layer {layer.name!r}: the backward layer must be the forward layer's mirror image")


def _check_rnn_layer(layer: keras.layers.Layer, kind: CellKind) -> tuple[str, tuple]:
    """Refuse any option of a Keras recurrent layer that scratch cells do not have."""
    config = layer.get_config()
    allowed = ("tanh", "relu") if kind == "rnn" else ("tanh",)
    if config["activation"] not in allowed:
        raise ValueError(f"layer {layer.name!r}: activation must be one of {allowed}, got {config['activation']!r}")
    if kind != "rnn" and config["recurrent_activation"] != "sigmoid":
        raise ValueError(
            f"layer {layer.name!r}: recurrent_activation must be 'sigmoid', got {config['recurrent_activation']!r}"
        )
    for option in ("dropout", "recurrent_dropout"):
        if config[option]:
            raise ValueError(f"layer {layer.name!r}: {option} is not supported: expected 0.0, got {config[option]}")
    for option in ("go_backwards", "stateful"):
        if config[option]:
            raise ValueError(f"layer {layer.name!r}: {option}=True is not supported")
    dtype = _layer_dtype(layer)
    options: dict[str, Any] = {}
    if kind == "rnn":
        options["nonlinearity"] = config["activation"]
    if kind == "gru":
        options["reset_after"] = config["reset_after"]
    return dtype, tuple(sorted(options.items()))


def _check_chain(model: keras.Model, layers: list[keras.layers.Layer]) -> None:
    """Refuse a functional model whose layers are not applied one after another, once each."""
    if isinstance(model, keras.Sequential):
        return
    if len(model.inputs) != 1 and not _has_lengths_input(model):
        raise ValueError(f"expected a model with one input (or x and lengths, as to_keras builds), got {len(model.inputs)}")
    try:
        expected = model.inputs[0]
        for layer in layers:
            if _main_output(layer.input) is not expected:
                raise ValueError(f"layer {layer.name!r} does not take the previous layer's output")
            expected = _main_output(layer.output)
    except (AttributeError, RuntimeError, ValueError) as error:  # shared layers, branches
        raise ValueError(f"expected a model that is a single chain of layers: {error}") from error
    if _main_output(model.outputs[0]) is not expected:
        raise ValueError("the model's first output must be its last layer's output")


def _has_lengths_input(model: keras.Model) -> bool:
    """Whether the model's inputs are [x, lengths] with a LengthMask, as `to_keras` builds them."""
    return len(model.inputs) == 2 and any(isinstance(layer, LengthMask) for layer in model.layers)


def _main_output(output: Any) -> Any:
    """The sequence (or last) output of a layer that may also return its states."""
    return output[0] if isinstance(output, (list, tuple)) else output


def _layer_dtype(layer: keras.layers.Layer) -> str:
    compute, variable = layer.compute_dtype, layer.variable_dtype
    if compute != variable or compute not in _DTYPES:
        raise ValueError(
            f"layer {layer.name!r}: expected float32 or float64 weights and computation, "
            f"got variable dtype {variable} and compute dtype {compute} (mixed precision is not supported)"
        )
    return compute


# --------------------------------------------------------------------------- small helpers
def _check_dtype(dtype: str) -> str:
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return dtype
