"""rnnlab.keras: exact weight transfer between scratch models and their Keras twins.

The three-way equality of outputs and gradients lives in test_twins.py; this file covers what
is Keras's own: round trips, single layers, Sequential models, options and refusals.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from scratch_helpers import CELL_IDS, CELLS  # noqa: E402

from rnnlab import keras as rk  # noqa: E402
from rnnlab import scratch  # noqa: E402


def assert_params_equal(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def numpy(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind, options", CELLS, ids=CELL_IDS)
def test_round_trip_is_exact(kind, options, num_layers, dtype):
    model = scratch.CELLS[kind](3, 4, num_layers, seed=0, dtype=dtype, **options)
    twin = rk.to_keras(model)
    layers = [layer for layer in twin.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert len(layers) == num_layers
    assert all(layer.return_sequences and layer.dtype_policy.name == np.dtype(dtype).name for layer in layers)
    back = rk.from_keras(twin)
    assert type(back) is type(model)
    if kind == "gru":
        assert back.reset_after == options.get("reset_after", True)
    assert_params_equal(back.params, model.params)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_return_state_outputs_stacked_states(kind):
    model = scratch.CELLS[kind](3, 4, 2, seed=0, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    out, state = model(x)
    outputs = rk.to_keras(model, return_state=True)(x)
    expected = [out, *(state if kind == "lstm" else [state])]
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(numpy(got), want, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "layer",
    [
        keras.layers.GRU(4, reset_after=False, use_bias=False),
        keras.layers.LSTM(4, unroll=True, return_sequences=False),
        keras.layers.SimpleRNN(4, activation="relu"),
    ],
    ids=["gru-no-bias", "lstm-last-only", "rnn-relu"],
)
def test_from_a_single_keras_layer(layer):
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
    expected = numpy(layer(x))  # builds the layer with random weights
    model = rk.from_keras(layer)
    out, _ = model(x)
    got = out if layer.return_sequences else out[:, -1]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_from_a_sequential_model():
    twin = keras.Sequential([keras.Input(shape=(None, 3)), keras.layers.LSTM(4, return_sequences=True),
                             keras.layers.LSTM(4, return_sequences=True)])
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
    model = rk.from_keras(twin)
    assert isinstance(model, scratch.LSTM) and model.num_layers == 2
    np.testing.assert_allclose(model(x)[0], numpy(twin(x)), rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind, options", CELLS, ids=CELL_IDS)
def test_sequence_classifier_twin(kind, options):
    model = scratch.SequenceClassifier(3, 4, 5, cell=kind, num_layers=2, seed=1, dtype=np.float64, **options)
    twin = rk.to_keras(model)
    x = np.random.default_rng(0).normal(size=(2, 6, 3))
    np.testing.assert_allclose(numpy(twin(x)), model(x), rtol=0, atol=1e-12)
    back = rk.from_keras(twin)
    assert isinstance(back, scratch.SequenceClassifier)
    assert_params_equal(back.params, model.params)


@pytest.mark.parametrize("kind, options", CELLS, ids=CELL_IDS)
def test_language_model_twin(kind, options):
    model = scratch.LanguageModel(7, 3, 4, cell=kind, num_layers=2, seed=1, dtype=np.float64, **options)
    twin = rk.to_keras(model)
    ids = np.random.default_rng(0).integers(0, 7, size=(2, 6))
    logits, _ = model(ids)
    np.testing.assert_allclose(numpy(twin(ids)), logits, rtol=0, atol=1e-12)
    back = rk.from_keras(twin)
    assert isinstance(back, scratch.LanguageModel)
    assert_params_equal(back.params, model.params)


def test_builders_make_twins_of_the_same_shape():
    classifier = rk.sequence_classifier(3, 4, 2, cell="gru", num_layers=2, dtype="float64")
    assert classifier.output.shape == (None, 2)
    model = rk.from_keras(classifier)
    assert isinstance(model.rnn, scratch.GRU) and model.rnn.num_layers == 2 and model.dtype == np.float64
    lm = rk.language_model(7, 3, 4)
    assert lm.output.shape == (None, None, 7)
    assert isinstance(rk.from_keras(lm).rnn, scratch.LSTM)


def chain(*layers, inputs=None):
    """A functional model: inputs -> layers applied one after another."""
    inputs = inputs if inputs is not None else keras.Input(shape=(None, 3))
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


def branching_model():
    inputs = keras.Input(shape=(None, 3))
    first, second = keras.layers.GRU(4, return_sequences=True), keras.layers.GRU(4, return_sequences=True)
    return keras.Model(inputs, second(inputs) + first(inputs))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: chain(keras.layers.Bidirectional(keras.layers.LSTM(4), merge_mode="sum")), "merge_mode"),
        (lambda: keras.layers.LSTM(4, dropout=0.1), "dropout"),
        (lambda: keras.layers.GRU(4, recurrent_dropout=0.1), "recurrent_dropout"),
        (lambda: keras.layers.GRU(4, go_backwards=True), "go_backwards"),
        (lambda: keras.layers.LSTM(4, stateful=True), "stateful"),
        (lambda: keras.layers.SimpleRNN(4, activation="sigmoid"), "activation"),
        (lambda: keras.layers.LSTM(4, recurrent_activation="hard_sigmoid"), "recurrent_activation"),
        (lambda: keras.layers.LSTM(4, dtype="mixed_float16"), "mixed precision"),
        (lambda: keras.layers.LSTM(4), "no weights yet"),
        (lambda: keras.layers.Dense(4), "got Dense"),
        (lambda: chain(keras.layers.LSTM(4, return_sequences=True), keras.layers.GRU(4)), "same kind"),
        (lambda: chain(keras.layers.LSTM(4, return_sequences=True), keras.layers.Dense(2)), "return_sequences"),
        (lambda: chain(keras.layers.LSTM(4), keras.layers.Dense(2, activation="softmax")), "linear"),
        (branching_model, "unsupported layer|chain"),
        (lambda: chain(keras.layers.Dense(2)), "at least one"),
    ],
    ids=[
        "bidirectional-sum", "dropout", "recurrent_dropout", "go_backwards", "stateful", "activation",
        "recurrent_activation", "mixed-precision", "unbuilt", "not-recurrent", "mixed-cells",
        "classifier-on-sequence", "softmax-head", "branches", "head-only",
    ],
)
def test_from_keras_refuses_what_scratch_lacks(make, message):
    with pytest.raises(ValueError, match=message):
        rk.from_keras(make())


def test_to_keras_refuses_strangers_and_bad_options():
    with pytest.raises(ValueError, match="got Linear"):
        rk.to_keras(scratch.Linear(3, 4))
    with pytest.raises(ValueError, match="'float32' or 'float64'"):
        rk.make_rnn_layer("lstm", 4, dtype="float16")
    with pytest.raises(ValueError, match="'tanh' or 'relu'"):
        rk.make_rnn_layer("rnn", 4, nonlinearity="sigmoid")


@pytest.mark.parametrize("with_lengths", [False, True], ids=["plain", "lengths"])
@pytest.mark.parametrize("kind, options", CELLS, ids=CELL_IDS)
def test_bidirectional_dropout_round_trip(kind, options, with_lengths):
    model = scratch.CELLS[kind](3, 4, 3, bidirectional=True, dropout=0.2, seed=0, dtype=np.float32, **options)
    twin = rk.to_keras(model, with_lengths=with_lengths)
    names = [layer.name for layer in twin.layers]
    assert ["rnn_0", "dropout_0", "rnn_1", "dropout_1", "rnn_2"] == [n for n in names if n.startswith(("rnn", "drop"))]
    assert all(twin.get_layer(f"rnn_{index}").merge_mode == "concat" for index in range(3))
    back = rk.from_keras(twin)
    assert type(back) is type(model) and back.bidirectional and back.dropout == pytest.approx(0.2)
    assert_params_equal(back.params, model.params)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_composites_with_bidirectional_and_lengths(kind):
    lengths = np.array([2, 6, 1])
    rng = np.random.default_rng(0)
    clf = scratch.SequenceClassifier(3, 4, 5, cell=kind, num_layers=2, bidirectional=True, dropout=0.3,
                                     seed=1, dtype=np.float64).eval()
    x = rng.normal(size=(3, 6, 3))
    twin = rk.to_keras(clf, with_lengths=True)
    np.testing.assert_allclose(numpy(twin([x, lengths])), clf(x, lengths=lengths), rtol=0, atol=1e-12)
    back = rk.from_keras(twin)
    assert isinstance(back, scratch.SequenceClassifier) and back.rnn.bidirectional
    assert_params_equal(back.params, clf.params)
    lm = scratch.LanguageModel(7, 3, 4, cell=kind, num_layers=2, bidirectional=True, seed=1, dtype=np.float64)
    ids = rng.integers(0, 7, size=(3, 6))
    logits, _ = lm(ids, lengths=lengths)
    got = numpy(rk.to_keras(lm, with_lengths=True)([ids, lengths]))
    real = np.arange(6)[None, :] < lengths[:, None]
    np.testing.assert_allclose(got[real], logits[real], rtol=0, atol=1e-12)  # Keras: real steps only
    assert_params_equal(rk.from_keras(rk.to_keras(lm)).params, lm.params)


def test_what_keras_cannot_take_or_give():
    with pytest.raises(ValueError, match="padding_idx=2 cannot be converted"):
        rk.to_keras(scratch.LanguageModel(7, 3, 4, padding_idx=2))
    inputs = keras.Input(shape=(None, 3))
    x = keras.layers.LSTM(4, return_sequences=True)(inputs)
    x = keras.layers.Dropout(0.5)(x)
    with pytest.raises(ValueError, match="between two recurrent layers"):
        rk.from_keras(keras.Model(inputs, x))
    x = keras.layers.LSTM(4, return_sequences=True)(inputs)
    x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.LSTM(4, return_sequences=True)(x)
    x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.LSTM(4, return_sequences=True)(x)
    with pytest.raises(ValueError, match="one Dropout rate"):
        rk.from_keras(keras.Model(inputs, x))


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_mask_zero_is_the_twin_of_padding_idx_zero(bidirectional):
    """Embedding(mask_zero=True) <-> LanguageModel(padding_idx=0): equal on the real steps of a batch
    padded at the end with id 0, when scratch gets lengths = (ids != 0).sum(axis=1)."""
    lm = scratch.LanguageModel(7, 3, 4, cell="gru", num_layers=2, bidirectional=bidirectional, padding_idx=0,
                               seed=2, dtype=np.float64)
    twin = rk.to_keras(lm)
    assert twin.get_layer("embedding").mask_zero
    rng = np.random.default_rng(0)
    lengths = np.array([5, 2, 1])
    ids = rng.integers(1, 7, size=(3, 5))
    real = np.arange(5)[None, :] < lengths[:, None]
    ids[~real] = 0
    logits, _ = lm(ids, lengths=(ids != 0).sum(axis=1))
    np.testing.assert_allclose(numpy(twin(ids))[real], logits[real], rtol=0, atol=1e-12)
    back = rk.from_keras(twin)
    assert back.embedding.padding_idx == 0
    assert_params_equal(back.params, lm.params)
