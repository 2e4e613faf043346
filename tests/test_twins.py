"""One model, three implementations, one truth: scratch vs PyTorch vs Keras.

The frameworks are the oracle: outputs, final states and every gradient of the scratch cells
must match ``torch.autograd`` and ``tf.GradientTape`` once the weights are transferred.
"""

from __future__ import annotations

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from scratch_helpers import CELL_IDS, CELLS  # noqa: E402

from rnnlab import _layout, scratch  # noqa: E402
from rnnlab import keras as rk  # noqa: E402
from rnnlab import torch as rt  # noqa: E402

# Tolerances from the issue: float64 scratch vs float64 framework, and anything in float32.
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}
BATCH, TIME, INPUT, HIDDEN = 3, 6, 3, 4


def assert_close(got: object, expected: np.ndarray, tol: float, what: str) -> None:
    got = np.asarray(got)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    err = np.abs(got.astype(np.float64) - expected).max()
    assert err < tol, f"{what}: max abs diff {err:.3g} >= {tol:g}"


def scratch_run(model, x, weights):
    """Forward, then backward of loss = Σ out·R + Σ h_n·S (+ Σ c_n·S_c) with fixed R, S."""
    out, state = model(x)
    dstate = tuple(weights[1:]) if isinstance(state, tuple) else weights[1]
    dx, _ = model.backward(weights[0], dstate)
    states = list(state) if isinstance(state, tuple) else [state]
    return out, states, dx


def loss_weights(kind: str, num_layers: int, dtype, rng) -> list[np.ndarray]:
    shapes = [(BATCH, TIME, HIDDEN)] + [(num_layers, BATCH, HIDDEN)] * (2 if kind == "lstm" else 1)
    return [rng.normal(size=shape).astype(dtype) for shape in shapes]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind, options", CELLS, ids=CELL_IDS)
def test_scratch_torch_keras_agree(kind, options, num_layers, dtype):
    rng = np.random.default_rng(7)
    model = scratch.CELLS[kind](INPUT, HIDDEN, num_layers, seed=3, dtype=dtype, **options)
    x = rng.normal(size=(BATCH, TIME, INPUT)).astype(dtype)
    weights = loss_weights(kind, num_layers, dtype, rng)
    out, states, dx = scratch_run(model, x, weights)
    layers = _layout.split_layers(model.grads, num_layers)
    tol = TOLERANCE[dtype]

    # --- PyTorch
    if options.get("reset_after", True):
        twin = rt.to_torch(model)
        x_t = torch.tensor(x, requires_grad=True)
        out_t, state_t = twin(x_t)
        states_t = list(state_t) if kind == "lstm" else [state_t]
        loss = sum((a * torch.from_numpy(w)).sum() for a, w in zip([out_t, *states_t], weights))
        loss.backward()
        assert_close(out_t.detach(), out, tol, "torch out")
        for got, expected in zip(states_t, states):
            assert_close(got.detach(), expected, tol, "torch state")
        assert_close(x_t.grad, dx, tol, "torch dx")
        for index, layer in enumerate(layers):
            expected = _layout.scratch_to_torch(kind, layer, index)
            if kind != "gru":  # b = b_ih + b_hh, so both get dL/db
                expected[f"bias_hh_l{index}"] = expected[f"bias_ih_l{index}"]
            for name, grad in expected.items():
                assert_close(getattr(twin, name).grad, grad, tol, f"torch d{name}")
    else:
        with pytest.raises(ValueError, match="reset_after"):
            rt.to_torch(model)

    # --- Keras
    twin_k = rk.to_keras(model, return_state=True)
    x_k = tf.constant(x)
    variables = [twin_k.get_layer(f"rnn_{index}").trainable_weights for index in range(num_layers)]
    with tf.GradientTape() as tape:
        tape.watch(x_k)
        out_k, *states_k = twin_k(x_k)
        loss = sum(tf.reduce_sum(a * w) for a, w in zip([out_k, *states_k], weights))
    dx_k, *grads_k = tape.gradient(loss, [x_k, *[v for layer in variables for v in layer]])
    assert_close(out_k, out, tol, "keras out")
    for got, expected in zip(states_k, states):
        assert_close(got, expected, tol, "keras state")
    assert_close(dx_k, dx, tol, "keras dx")
    for index, layer in enumerate(layers):
        names = ["kernel", "recurrent_kernel", "bias"]
        layer_grads = grads_k[3 * index : 3 * index + 3]
        for name, got, expected in zip(names, layer_grads, _layout.scratch_to_keras(kind, layer)):
            assert_close(got, expected, tol, f"keras d{name} (layer {index})")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_torch_and_keras_agree_through_the_layout_alone(kind):
    """The layout maps, without scratch in the loop: a torch cell loaded into Keras."""
    torch.manual_seed(0)
    twin = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        INPUT, HIDDEN, 2, batch_first=True, dtype=torch.float64
    )
    arrays = {name: value.detach().numpy() for name, value in twin.state_dict().items()}
    model = rk.rnn_model(kind, INPUT, HIDDEN, 2, dtype="float64")
    for index in range(2):
        layer = _layout.torch_to_scratch(kind, arrays, index)
        model.get_layer(f"rnn_{index}").set_weights(_layout.scratch_to_keras(kind, layer))
    x = np.random.default_rng(1).normal(size=(BATCH, TIME, INPUT))
    expected, _ = twin(torch.from_numpy(x))
    assert_close(model(x), expected.detach().numpy(), 1e-12, "keras vs torch")


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["rnn", "lstm", "gru"]),
    sizes=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    reset_after=st.booleans(),
)
def test_layout_maps_are_inverses(kind, sizes, reset_after):
    input_size, hidden = sizes
    gates = len(_layout.GATE_ORDERS["scratch"][kind])
    rng = np.random.default_rng(input_size * 10 + hidden)
    layer = {
        "W": rng.normal(size=(input_size, gates * hidden)),
        "U": rng.normal(size=(hidden, gates * hidden)),
        "b": rng.normal(size=gates * hidden),
    }
    two_biases = kind == "gru" and reset_after
    if two_biases:
        layer["bU"] = rng.normal(size=gates * hidden)
    back = _layout.keras_to_scratch(kind, _layout.scratch_to_keras(kind, layer), reset_after)
    assert back.keys() == layer.keys()
    for key in layer:
        np.testing.assert_array_equal(back[key], layer[key])
    if kind != "gru" or two_biases:
        back = _layout.torch_to_scratch(kind, _layout.scratch_to_torch(kind, layer, 3), 3)
        for key in layer:
            np.testing.assert_array_equal(back[key], layer[key])


def test_reorder_gates_names_the_blocks():
    blocks = np.repeat(np.arange(3.0), 2)  # scratch GRU blocks z=0, r=1, n=2, two units each
    torch_order = _layout.reorder_gates(blocks, "gru", "scratch", "torch")
    np.testing.assert_array_equal(torch_order, [1, 1, 0, 0, 2, 2])  # r, z, n
    with pytest.raises(ValueError, match="multiple of 3"):
        _layout.reorder_gates(np.zeros(4), "gru", "scratch", "torch")


# --------------------------------------------------------------------------- trained elsewhere
def classifier_data(dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, 5, INPUT)).astype(dtype)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)  # is the first feature's sum positive?
    return x, y


def assert_classifiers_agree(model, x, tol):
    logits = model(x)
    assert_close(rt.to_torch(model)(torch.from_numpy(x)).detach(), logits, tol, "torch logits")
    assert_close(rk.to_keras(model)(x), logits, tol, "keras logits")


def test_trained_in_scratch_predicts_the_same_everywhere():
    x, y = classifier_data(np.float64)
    model = scratch.SequenceClassifier(INPUT, HIDDEN, 2, cell="gru", num_layers=2, seed=0, dtype=np.float64)
    optimizer = scratch.Adam(model.params, lr=0.05)
    first = None
    for _ in range(15):
        loss, dlogits = scratch.softmax_cross_entropy(model(x), y)
        first = loss if first is None else first
        model.backward(dlogits)
        optimizer.step(model.grads)
    assert loss < first  # it did train
    assert_classifiers_agree(model, x, 1e-10)


def test_trained_in_torch_predicts_the_same_everywhere():
    x, y = classifier_data(np.float32)
    torch.manual_seed(0)
    twin = rt.SequenceClassifier(INPUT, HIDDEN, 2, cell="lstm", num_layers=2)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(15):  # plain SGD by hand: torch.optim's first use costs seconds of imports
        twin.zero_grad()
        loss = torch.nn.functional.cross_entropy(twin(x_t), y_t)
        loss.backward()
        with torch.no_grad():
            for parameter in twin.parameters():
                parameter -= 0.5 * parameter.grad
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    model = rt.from_torch(twin)
    assert_close(model(x), twin(x_t).detach().numpy(), 1e-5, "scratch logits")
    assert_close(rk.to_keras(model)(x), twin(x_t).detach().numpy(), 1e-5, "keras logits")


def test_trained_in_keras_predicts_the_same_everywhere():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 7, size=(8, 6))
    keras.utils.set_random_seed(0)
    twin = rk.language_model(7, 5, HIDDEN, cell="rnn", num_layers=2)
    optimizer = keras.optimizers.Adam(0.05)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    losses = []
    for _ in range(10):
        with tf.GradientTape() as tape:
            loss = loss_fn(ids[:, 1:], twin(ids[:, :-1]))
        optimizer.apply(tape.gradient(loss, twin.trainable_weights), twin.trainable_weights)
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    expected = keras.ops.convert_to_numpy(twin(ids))
    model = rk.from_keras(twin)
    logits, _ = model(ids)
    assert_close(logits, expected, 1e-5, "scratch logits")
    torch_logits, _ = rt.to_torch(model)(torch.from_numpy(ids))
    assert_close(torch_logits.detach(), expected, 1e-5, "torch logits")


# --------------------------------------------------------------------------- import hygiene
def test_import_rnnlab_imports_no_framework():
    code = (
        "import sys, rnnlab, rnnlab.scratch\n"
        "assert not {'torch', 'tensorflow', 'keras'} & set(sys.modules), 'rnnlab imported a framework'\n"
        "import rnnlab.torch\n"
        "assert not {'tensorflow', 'keras'} & set(sys.modules), 'rnnlab.torch imported keras'\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr
