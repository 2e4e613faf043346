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

Supported and refused, ``from_keras`` (always a ValueError naming the feature):

* handled: ``use_bias=False`` (zero biases), ``return_sequences=False`` on the top layer of a
  plain stack (the weights are the same), ``unroll=True``, ``reset_after`` either way.
* refused: ``Bidirectional`` and any other layer than Input, Embedding, SimpleRNN, LSTM, GRU
  and Dense; activations other than tanh (or relu for SimpleRNN) and a recurrent activation
  other than sigmoid; ``dropout``/``recurrent_dropout > 0``; ``go_backwards``; ``stateful``;
  ``Embedding(mask_zero=True)``; a Dense head with an activation; mixed precision; models
  that are not a single chain of layers.
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
    load_scratch,
    scratch_cell_options,
    scratch_kind,
    keras_to_scratch,
    scratch_to_keras,
    split_layers,
)

__all__ = [
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
    dtype: str, return_state: bool = False, **cell_kwargs: Any,
) -> tuple[Any, list[Any]]:
    """Apply ``num_layers`` recurrent layers named rnn_0, rnn_1, ... to the symbolic input x.

    Returns:
        The top layer's output and, with ``return_state``, each layer's final state tensors.
    """
    states = []
    for index in range(num_layers):
        layer = make_rnn_layer(
            cell, hidden_size, dtype=dtype, return_state=return_state, name=f"rnn_{index}",
            return_sequences=last_sequences or index < num_layers - 1, **cell_kwargs,
        )
        x = layer(x)
        if return_state:
            x, *layer_state = x
            states.append(layer_state)
    return x, states


def rnn_model(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    *,
    dtype: str = "float32",
    return_state: bool = False,
    **cell_kwargs: Any,
) -> keras.Model:
    """A stack of recurrent layers as a ``keras.Model``, the twin of a scratch cell.

    Args:
        cell: "rnn", "lstm" or "gru".
        input_size, hidden_size, num_layers: as for the scratch cell.
        dtype: "float32" or "float64".
        return_state: also output the final states, stacked like scratch's.
        **cell_kwargs: ``nonlinearity`` (RNN) or ``reset_after`` (GRU).

    Returns:
        A model mapping x (batch, time, input_size) to out (batch, time, hidden_size); with
        ``return_state``, to ``[out, h_n]`` (``[out, h_n, c_n]`` for the LSTM), each state
        (num_layers, batch, hidden_size).
    """
    inputs = keras.Input(shape=(None, input_size), dtype=_check_dtype(dtype), name="x")
    out, states = _rnn_stack(
        inputs, cell, hidden_size, num_layers, dtype=dtype, return_state=return_state, **cell_kwargs
    )
    if not return_state:
        return keras.Model(inputs, out, name=f"{cell}_stack")
    # Layer l returns [h_l] or [h_l, c_l]; scratch stacks each kind over layers: (L, B, H).
    stacked = [keras.ops.stack(parts) for parts in zip(*states)]
    return keras.Model(inputs, [out, *stacked], name=f"{cell}_stack")


def sequence_classifier(
    input_size: int,
    hidden_size: int,
    num_classes: int,
    *,
    cell: str = "lstm",
    num_layers: int = 1,
    dtype: str = "float32",
    **cell_kwargs: Any,
) -> keras.Model:
    """Twin of ``scratch.SequenceClassifier``: RNN stack, then a Dense head on the last state.

    Args:
        input_size, hidden_size, num_classes: feature, hidden and class counts.
        cell: "rnn", "lstm" or "gru".
        num_layers: depth of the recurrent stack.
        dtype: "float32" or "float64".
        **cell_kwargs: ``nonlinearity`` (RNN) or ``reset_after`` (GRU).

    Returns:
        A model mapping x (batch, time, input_size) to logits (batch, num_classes).
    """
    inputs = keras.Input(shape=(None, input_size), dtype=_check_dtype(dtype), name="x")
    # return_sequences=False on the top layer gives out[:, -1], the scratch head's input.
    last, _ = _rnn_stack(inputs, cell, hidden_size, num_layers, last_sequences=False, dtype=dtype, **cell_kwargs)
    logits = keras.layers.Dense(num_classes, dtype=dtype, name="head")(last)
    return keras.Model(inputs, logits, name="sequence_classifier")


def language_model(
    vocab_size: int,
    embedding_dim: int,
    hidden_size: int,
    *,
    cell: str = "lstm",
    num_layers: int = 1,
    dtype: str = "float32",
    **cell_kwargs: Any,
) -> keras.Model:
    """Twin of ``scratch.LanguageModel``: Embedding, RNN stack, Dense head at every step.

    Args:
        vocab_size, embedding_dim, hidden_size: vocabulary, embedding and hidden sizes.
        cell: "rnn", "lstm" or "gru".
        num_layers: depth of the recurrent stack.
        dtype: "float32" or "float64".
        **cell_kwargs: ``nonlinearity`` (RNN) or ``reset_after`` (GRU).

    Returns:
        A model mapping token ids (batch, time) to logits (batch, time, vocab_size), starting
        from the zero state (scratch's ``lm(ids)`` with ``state=None``).
    """
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    embedded = keras.layers.Embedding(vocab_size, embedding_dim, dtype=_check_dtype(dtype), name="embedding")(ids)
    out, _ = _rnn_stack(embedded, cell, hidden_size, num_layers, dtype=dtype, **cell_kwargs)
    logits = keras.layers.Dense(vocab_size, dtype=dtype, name="head")(out)
    return keras.Model(ids, logits, name="language_model")


# --------------------------------------------------------------------------- scratch -> keras
def to_keras(model: ScratchModel, *, return_state: bool = False) -> keras.Model:
    """The Keras twin of a scratch model: same architecture, dtype and weights.

    Args:
        model: a scratch ``RNN``, ``LSTM`` or ``GRU`` (-> `rnn_model`), ``SequenceClassifier``
            (-> `sequence_classifier`) or ``LanguageModel`` (-> `language_model`).
        return_state: cells only; see `rnn_model`.

    Returns:
        A new ``keras.Model`` holding copies of the weights.

    Raises:
        ValueError: for a model of another type or a dtype other than float32/float64.
    """
    rnn = model.rnn if isinstance(model, SCRATCH_COMPOSITES) else model
    kind = scratch_kind(rnn, "to_keras")
    options = dict(num_layers=rnn.num_layers, dtype=np.dtype(rnn.dtype).name, **scratch_cell_options(rnn))
    if isinstance(model, scratch.SequenceClassifier):
        num_classes = model.head.params["W"].shape[1]
        twin = sequence_classifier(rnn.input_size, rnn.hidden_size, num_classes, cell=kind, **options)
    elif isinstance(model, scratch.LanguageModel):
        vocab_size, embedding_dim = model.embedding.params["E"].shape
        twin = language_model(vocab_size, embedding_dim, rnn.hidden_size, cell=kind, **options)
        twin.get_layer("embedding").set_weights([model.embedding.params["E"]])
    else:
        twin = rnn_model(kind, rnn.input_size, rnn.hidden_size, return_state=return_state, **options)
    if isinstance(model, SCRATCH_COMPOSITES):
        twin.get_layer("head").set_weights([model.head.params["W"], model.head.params["b"]])
    for index, layer in enumerate(split_layers(rnn.params, rnn.num_layers)):
        twin.get_layer(f"rnn_{index}").set_weights(scratch_to_keras(kind, layer))
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
    layers = [layer for layer in obj.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers:
        raise ValueError("from_keras got a model without layers")
    for layer in layers:  # one layer's refusal says more than a broken chain would
        _check_layer(layer)
    _check_chain(obj, layers)
    if isinstance(layers[0], keras.layers.Embedding):
        return _scratch_language_model(layers)
    if isinstance(layers[-1], keras.layers.Dense):
        return _scratch_classifier(layers)
    return _scratch_stack(layers)


def _scratch_stack(layers: list[keras.layers.Layer]) -> ScratchRecurrent:
    """A scratch cell from a chain of Keras recurrent layers."""
    kind, dtype, options = _check_rnn_layers(layers)
    first = layers[0]
    if not first.built:
        raise ValueError(f"layer {first.name!r} has no weights yet: call or build it before converting")
    input_size = first.get_weights()[0].shape[0]
    model = SCRATCH_CELLS[kind](input_size, first.units, len(layers), dtype=dtype, **options)
    load_scratch(model, _rnn_params(layers, kind, options))
    return model


def _scratch_classifier(layers: list[keras.layers.Layer]) -> scratch.SequenceClassifier:
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
        input_size, rnns[0].units, head.units, cell=kind, num_layers=len(rnns), dtype=dtype, **options
    )
    values = {f"rnn.{key}": value for key, value in _rnn_params(rnns, kind, options).items()}
    values.update(_dense_params(head, dtype))
    load_scratch(model, values)
    return model


def _scratch_language_model(layers: list[keras.layers.Layer]) -> scratch.LanguageModel:
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
        embedding.input_dim, embedding.output_dim, rnns[0].units, cell=kind, num_layers=len(rnns),
        dtype=dtype, **options,
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
        for key, value in keras_to_scratch(kind, layer.get_weights(), options.get("reset_after", True)).items():
            params[f"{key}{index}"] = value
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
        if layer.mask_zero:
            raise ValueError("Embedding(mask_zero=True) is not supported: scratch models do not mask")
    elif isinstance(layer, keras.layers.Dense):
        _dense_params(layer, _layer_dtype(layer))
    elif isinstance(layer, tuple(_KERAS_CELLS.values())):
        _check_rnn_layers([layer])
    else:
        raise ValueError(
            f"unsupported layer {layer.name!r} of type {type(layer).__name__}: expected Embedding, "
            "SimpleRNN, LSTM, GRU or Dense (Bidirectional and other wrappers are not supported)"
        )


def _check_rnn_layers(layers: list[keras.layers.Layer]) -> tuple[CellKind, str, dict[str, Any]]:
    """Validate a chain of recurrent layers; return their kind, dtype and scratch options."""
    if not layers:
        raise ValueError("expected at least one SimpleRNN, LSTM or GRU layer, got none")
    configs = []
    for layer in layers:
        kind = next((k for k, cls in _KERAS_CELLS.items() if isinstance(layer, cls)), None)
        if kind is None:
            raise ValueError(
                f"layer {layer.name!r} is a {type(layer).__name__} where a SimpleRNN, LSTM or GRU "
                "was expected (Bidirectional and wrapped cells are not supported)"
            )
        configs.append((kind, *_check_rnn_layer(layer, kind)))
    if len(set(configs)) > 1:
        raise ValueError(f"all recurrent layers must have the same kind, dtype and options, got {configs}")
    kind, dtype, options = configs[0]
    return kind, dtype, dict(options)


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
    if len(model.inputs) != 1:
        raise ValueError(f"expected a model with one input, got {len(model.inputs)}")
    try:
        expected = model.inputs[0]
        for layer in layers:
            if layer.input is not expected:
                raise ValueError(f"layer {layer.name!r} does not take the previous layer's output")
            expected = _main_output(layer.output)
    except (AttributeError, RuntimeError, ValueError) as error:  # shared layers, branches
        raise ValueError(f"expected a model that is a single chain of layers: {error}") from error
    if _main_output(model.outputs[0]) is not expected:
        raise ValueError("the model's first output must be its last layer's output")


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
