"""Exact BPTT: every analytic gradient matches centred finite differences in float64."""

from __future__ import annotations

import numpy as np
import pytest
from scratch_helpers import CELL_IDS, CELL_SPECS, like_state, state_parts, weighted_loss

from rnnlab import scratch

TOLERANCE = 1e-6


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
def test_cell_gradients_match_finite_differences(name, cell, kwargs, num_layers):
    rng = np.random.default_rng(7)
    model = cell(3, 4, num_layers, seed=3, dtype=np.float64, **kwargs)
    x = rng.standard_normal((2, 5, 3))
    _, final = model(x)
    state0 = like_state(final, lambda shape: 0.5 * rng.standard_normal(shape))
    out_weights = rng.standard_normal((2, 5, 4))
    state_weights = like_state(final, rng.standard_normal)

    def loss() -> float:
        out, state = model(x, state0)
        return weighted_loss(out, state, out_weights, state_weights)

    loss()
    dx, dstate0 = model.backward(out_weights, state_weights)
    arrays = {**model.params, "x": x}
    analytic = {**model.grads, "x": dx}
    for label, value, grad in zip("hc", state_parts(state0), state_parts(dstate0)):
        arrays[f"{label}0"], analytic[f"{label}0"] = value, grad
    result = scratch.gradcheck(loss, arrays, analytic)
    assert result.max_relative_error < TOLERANCE, str(result)


def test_gradcheck_detects_a_wrong_gradient():
    """The checker itself can fail: a gradient off by 1% is reported."""
    model = scratch.RNN(2, 3, seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((1, 4, 2))
    loss = lambda: float(model(x)[0].sum())
    out, _ = model(x)
    model.backward(np.ones_like(out))
    wrong = {name: 1.01 * grad for name, grad in model.grads.items()}
    assert scratch.gradcheck(loss, model.params, wrong).max_relative_error > 1e-3


def test_gradcheck_refuses_float32():
    model = scratch.RNN(2, 3, seed=0)
    with pytest.raises(TypeError, match="float64"):
        scratch.gradcheck(lambda: 0.0, model.params, model.grads)


def test_linear_and_embedding_gradients():
    rng = np.random.default_rng(1)
    linear = scratch.Linear(4, 3, seed=0, dtype=np.float64)
    x = rng.standard_normal((2, 5, 4))
    weights = rng.standard_normal((2, 5, 3))
    loss = lambda: float(np.sum(linear(x) * weights))
    loss()
    dx = linear.backward(weights)
    result = scratch.gradcheck(loss, {**linear.params, "x": x}, {**linear.grads, "x": dx})
    assert result.max_relative_error < TOLERANCE, str(result)

    embedding = scratch.Embedding(6, 3, seed=0, dtype=np.float64)
    ids = np.array([[0, 2, 2, 5], [1, 2, 0, 0]])  # repeated ids must accumulate
    weights = rng.standard_normal((2, 4, 3))
    loss = lambda: float(np.sum(embedding(ids) * weights))
    loss()
    embedding.backward(weights)
    result = scratch.gradcheck(loss, embedding.params, embedding.grads)
    assert result.max_relative_error < TOLERANCE, str(result)


def test_loss_gradients():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((3, 4, 5))
    targets = rng.integers(0, 5, size=(3, 4))
    _, dlogits = scratch.softmax_cross_entropy(logits, targets)
    loss = lambda: scratch.softmax_cross_entropy(logits, targets)[0]
    assert scratch.gradcheck(loss, {"logits": logits}, {"logits": dlogits}).max_relative_error < TOLERANCE

    pred, target = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    _, dpred = scratch.mse(pred, target)
    loss = lambda: scratch.mse(pred, target)[0]
    assert scratch.gradcheck(loss, {"pred": pred}, {"pred": dpred}).max_relative_error < TOLERANCE


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_composite_model_gradients(cell):
    rng = np.random.default_rng(3)
    classifier = scratch.SequenceClassifier(3, 4, 2, cell=cell, num_layers=2, seed=0, dtype=np.float64)
    x = rng.standard_normal((3, 5, 3))
    y = rng.integers(0, 2, size=3)
    loss = lambda: scratch.softmax_cross_entropy(classifier(x), y)[0]
    _, dlogits = scratch.softmax_cross_entropy(classifier(x), y)
    dx = classifier.backward(dlogits)
    result = scratch.gradcheck(loss, {**classifier.params, "x": x}, {**classifier.grads, "x": dx})
    assert result.max_relative_error < TOLERANCE, str(result)

    lm = scratch.LanguageModel(7, 3, 4, cell=cell, seed=0, dtype=np.float64)
    ids = rng.integers(0, 7, size=(2, 6))
    targets = rng.integers(0, 7, size=(2, 6))
    loss = lambda: scratch.softmax_cross_entropy(lm(ids)[0], targets)[0]
    _, dlogits = scratch.softmax_cross_entropy(lm(ids)[0], targets)
    lm.backward(dlogits)
    result = scratch.gradcheck(loss, lm.params, lm.grads)
    assert result.max_relative_error < TOLERANCE, str(result)


@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
def test_truncated_bptt_chunk_gradients(name, cell, kwargs):
    """Within a chunk that starts from a carried state, gradients are exact for that chunk's loss,
    and the gradient with respect to the carried state is what full BPTT would pass back."""
    rng = np.random.default_rng(4)
    model = cell(2, 3, seed=1, dtype=np.float64, **kwargs)
    x = rng.standard_normal((2, 8, 2))
    _, carried = model(x[:, :4])  # first chunk: its state is carried into the second
    weights = rng.standard_normal((2, 4, 3))
    loss = lambda: float(np.sum(model(x[:, 4:], carried)[0] * weights))
    loss()
    dx, dcarried = model.backward(weights)
    arrays = {**model.params, "x2": x[:, 4:].copy()}
    x_chunk = arrays["x2"]
    loss = lambda: float(np.sum(model(x_chunk, carried)[0] * weights))
    analytic = {**model.grads, "x2": dx}
    for label, value, grad in zip("hc", state_parts(carried), state_parts(dcarried)):
        arrays[f"{label}_carried"], analytic[f"{label}_carried"] = value, grad
    result = scratch.gradcheck(loss, arrays, analytic)
    assert result.max_relative_error < TOLERANCE, str(result)
