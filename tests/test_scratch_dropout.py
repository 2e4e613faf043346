"""Dropout: between stacked layers (PyTorch semantics) and as a layer; train() and eval()."""

from __future__ import annotations

import numpy as np
import pytest
from scratch_helpers import CELL_IDS, CELL_SPECS, like_state, weighted_loss

from rnnlab import scratch

TOLERANCE = 1e-6
LENGTHS = np.array([3, 5, 1])


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
def test_gradients_with_fixed_dropout_masks(name, cell, kwargs, bidirectional):
    """Replaying the masks (a freshly seeded generator before each forward) makes the loss a
    fixed function, whose finite differences the analytic gradient must match."""
    rng = np.random.default_rng(2)
    model = cell(2, 3, 2, bidirectional=bidirectional, dropout=0.4, seed=4, dtype=np.float64, **kwargs)
    x = rng.standard_normal((3, 5, 2))
    out, final = model(x, lengths=LENGTHS)
    out_weights = rng.standard_normal(out.shape)
    state_weights = like_state(final, rng.standard_normal)

    def loss() -> float:
        model.dropout_rng = np.random.default_rng(123)
        out, state = model(x, lengths=LENGTHS)
        return weighted_loss(out, state, out_weights, state_weights)

    loss()
    masks = [m for m in model._graph["masks"] if m is not None]
    assert len(masks) == 1 and (masks[0] == 0).any(), "the mask must actually drop something"
    dx, _ = model.backward(out_weights, state_weights)
    result = scratch.gradcheck(loss, {**model.params, "x": x}, {**model.grads, "x": dx})
    assert result.max_relative_error < TOLERANCE, str(result)


@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
def test_eval_mode_is_deterministic_and_equals_no_dropout(name, cell, kwargs):
    x = np.random.default_rng(0).standard_normal((3, 5, 2))
    model = cell(2, 3, 3, bidirectional=True, dropout=0.5, seed=7, dtype=np.float64, **kwargs)
    reference = cell(2, 3, 3, bidirectional=True, dropout=0.0, seed=7, dtype=np.float64, **kwargs)
    assert model.eval() is model and not model.training
    first, _ = model(x, lengths=LENGTHS)
    second, _ = model(x, lengths=LENGTHS)
    expected, _ = reference(x, lengths=LENGTHS)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, expected)
    model.train()
    trained, _ = model(x, lengths=LENGTHS)
    assert not np.array_equal(trained, expected)


def test_training_masks_are_reproducible_from_the_seed():
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    runs = [scratch.LSTM(3, 5, 2, dropout=0.5, seed=1)(x)[0] for _ in range(2)]
    np.testing.assert_array_equal(*runs)


def test_dropout_touches_only_the_outputs_between_layers():
    """One layer: nothing to drop (PyTorch drops after every layer but the last)."""
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    one = scratch.GRU(3, 4, 1, dropout=0.9, seed=3)
    plain = scratch.GRU(3, 4, 1, seed=3)
    np.testing.assert_array_equal(one(x)[0], plain(x)[0])


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_layer_keeps_the_expected_activation(p):
    """E[dropout(x)] = x. Over n = 10^6 ones the sample mean has standard deviation
    sqrt(p / ((1 - p) n)) (at most 2e-3 here); the test allows 5 of them (a 1-in-10^6 false alarm)
    and checks that the kept fraction is 1 - p to the same 5-sigma tolerance."""
    n = 1_000_000
    layer = scratch.Dropout(p, seed=0)
    y = layer(np.ones(n))
    sigma = np.sqrt(p / ((1 - p) * n))
    assert abs(y.mean() - 1.0) < 5 * sigma
    kept = (y != 0).mean()
    assert abs(kept - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p))


def test_stack_dropout_keeps_the_expected_activation():
    """The mask between layers has mean 1 too (same 5-sigma tolerance as the layer's test)."""
    p = 0.3
    model = scratch.RNN(2, 50, 2, dropout=p, seed=0, dtype=np.float64)
    model(np.ones((200, 100, 2)))
    (mask,) = [m for m in model._graph["masks"] if m is not None]
    sigma = np.sqrt(p / ((1 - p) * mask.size))
    assert abs(mask.mean() - 1.0) < 5 * sigma


def test_dropout_layer_backward_reuses_the_mask_and_eval_is_identity():
    layer = scratch.Dropout(0.5, seed=1)
    x = np.random.default_rng(0).standard_normal((4, 6))
    y = layer(x)
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, (y != 0) * 2.0)
    layer.eval()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_dropout_layer_gradcheck_with_fixed_mask():
    layer = scratch.Dropout(0.3, seed=0)
    x = np.random.default_rng(1).standard_normal((3, 4))
    w = np.random.default_rng(2).standard_normal((3, 4))

    def loss() -> float:
        layer.rng = np.random.default_rng(9)
        return float(np.sum(np.tanh(layer(x)) * w))

    layer.rng = np.random.default_rng(9)
    y = layer(x)
    dx = layer.backward((1 - np.tanh(y) ** 2) * w)
    assert scratch.gradcheck(loss, {"x": x}, {"x": dx}).max_relative_error < TOLERANCE


def test_composites_propagate_train_and_eval():
    model = scratch.LanguageModel(7, 3, 4, num_layers=2, dropout=0.5, seed=0)
    model.eval()
    assert not model.rnn.training and not model.embedding.training and not model.head.training
    model.train()
    assert model.rnn.training


@pytest.mark.parametrize("p, error", [(1.0, ValueError), (-0.1, ValueError), ("0.5", TypeError)])
def test_bad_dropout_rates_are_refused(p, error):
    with pytest.raises(error, match=r"\[0, 1\)"):
        scratch.LSTM(2, 3, 2, dropout=p)
    with pytest.raises(error, match=r"\[0, 1\)"):
        scratch.Dropout(p)
