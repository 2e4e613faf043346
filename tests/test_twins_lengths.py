"""Ragged, bidirectional stacks: scratch vs PyTorch (packed sequences) and vs Keras (masking).

PyTorch, float64, < 1e-10: outputs on the real steps (and zeros on the padded ones), final
states, dL/dx and every weight gradient. Keras, float32, < 1e-5: the same on the real steps and
final states only, since Keras masking repeats the last output at padded steps instead of zeros.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scratch_helpers import TORCH_CELL_IDS, TORCH_CELLS  # noqa: E402

from rnnlab import _layout, scratch  # noqa: E402
from rnnlab import torch as rt  # noqa: E402

B, T, D, H = 4, 6, 3, 4
LENGTHS = np.array([3, 6, 1, 4])  # unsorted; a length-1 and a full-length sequence


def real_steps(lengths, time):
    return np.arange(time)[None, :] < np.asarray(lengths)[:, None]  # (B, T)


def scratch_run(model, x, lengths, weights):
    """Forward, then backward of loss = Σ out·R + Σ h_n·S (+ Σ c_n·S_c)."""
    out, state = model(x, lengths=lengths)
    dstate = tuple(weights[1:]) if isinstance(state, tuple) else weights[1]
    dx, _ = model.backward(weights[0], dstate)
    return out, list(state) if isinstance(state, tuple) else [state], dx


def loss_weights(kind, model, dtype, rng):
    shapes = [(B, T, model.output_size)] + [(2 * model.num_layers, B, H)] * (2 if kind == "lstm" else 1)
    weights = [rng.normal(size=shape).astype(dtype) for shape in shapes]
    weights[0] *= real_steps(LENGTHS, T)[..., None]  # padded outputs are constants in both worlds
    return weights


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind, options", TORCH_CELLS, ids=TORCH_CELL_IDS)
def test_scratch_and_torch_agree_on_ragged_bidirectional_stacks(kind, options, num_layers):
    rng = np.random.default_rng(3)
    model = scratch.CELLS[kind](D, H, num_layers, bidirectional=True, dropout=0.25, seed=2,
                                dtype=np.float64, **options).eval()
    x = rng.normal(size=(B, T, D))
    weights = loss_weights(kind, model, np.float64, rng)
    out, states, dx = scratch_run(model, x, LENGTHS, weights)

    twin = rt.to_torch(model)
    x_t = torch.tensor(x, requires_grad=True)
    out_t, state_t = rt.run_rnn(twin, x_t, lengths=LENGTHS)
    states_t = list(state_t) if kind == "lstm" else [state_t]
    loss = sum((a * torch.from_numpy(w)).sum() for a, w in zip([out_t, *states_t], weights))
    loss.backward()
    tol = 1e-10
    np.testing.assert_allclose(out_t.detach().numpy(), out, rtol=0, atol=tol)  # zeros at padding too
    assert np.all(out[~real_steps(LENGTHS, T)] == 0.0)
    for got, expected in zip(states_t, states):
        np.testing.assert_allclose(got.detach().numpy(), expected, rtol=0, atol=tol)
    np.testing.assert_allclose(x_t.grad.numpy(), dx, rtol=0, atol=tol)
    for suffix in _layout.directions(True):
        for index, layer in enumerate(_layout.split_layers(model.grads, num_layers, suffix)):
            expected = _layout.scratch_to_torch(kind, layer, index, suffix)
            if kind != "gru":  # b = b_ih + b_hh, so both get dL/db
                expected[f"bias_hh_l{index}{suffix}"] = expected[f"bias_ih_l{index}{suffix}"]
            for name, grad in expected.items():
                np.testing.assert_allclose(getattr(twin, name).grad.numpy(), grad, rtol=0, atol=tol, err_msg=name)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind, options", [
    ("rnn", {"nonlinearity": "tanh"}), ("lstm", {}), ("gru", {"reset_after": True}), ("gru", {"reset_after": False}),
], ids=["rnn", "lstm", "gru", "gru-reset-before"])
def test_scratch_and_keras_agree_on_real_steps_and_final_states(kind, options, num_layers):
    """float32, < 1e-5. The loss weights are zero at padded steps, where Keras's outputs are not
    scratch's zeros (see rnnlab.keras); dL/dx and the weight gradients then agree everywhere."""
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    from rnnlab import keras as rk

    rng = np.random.default_rng(4)
    model = scratch.CELLS[kind](D, H, num_layers, bidirectional=True, dropout=0.5, seed=6,
                                dtype=np.float32, **options).eval()
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    weights = loss_weights(kind, model, np.float32, rng)
    out, states, dx = scratch_run(model, x, LENGTHS, weights)

    twin = rk.to_keras(model, return_state=True, with_lengths=True)
    x_k = tf.constant(x)
    layers = [twin.get_layer(f"rnn_{index}") for index in range(num_layers)]
    variables = [v for layer in layers for v in layer.trainable_weights]
    with tf.GradientTape() as tape:
        tape.watch(x_k)
        out_k, *states_k = twin([x_k, tf.constant(LENGTHS.astype(np.int32))], training=False)
        loss = sum(tf.reduce_sum(a * w) for a, w in zip([out_k, *states_k], weights))
    dx_k, *grads_k = tape.gradient(loss, [x_k, *variables])
    tol = 1e-5
    real = real_steps(LENGTHS, T)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out_k)[real], out[real], rtol=0, atol=tol)
    for got, expected in zip(states_k, states):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), expected, rtol=0, atol=tol)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dx_k), dx, rtol=0, atol=tol)
    expected_grads = [
        array
        for index in range(num_layers)
        for suffix in _layout.directions(True)
        for array in _layout.scratch_to_keras(kind, _layout.split_layers(model.grads, num_layers, suffix)[index])
    ]
    assert len(grads_k) == len(expected_grads)
    for got, expected in zip(grads_k, expected_grads):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), expected, rtol=0, atol=tol)
