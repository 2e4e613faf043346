"""Optimisers against their formulas and against PyTorch, clipping, truncated BPTT, and learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import scratch


@pytest.mark.parametrize(
    "make_ours, make_reference, steps, tolerance",
    [
        (lambda p: scratch.SGD(p, lr=0.1, momentum=0.9), lambda w: torch.optim.SGD(w, lr=0.1, momentum=0.9), 4, 1e-14),
        (lambda p: scratch.Adam(p, lr=0.01), lambda w: torch.optim.Adam(w, lr=0.01), 10, 1e-12),
    ],
    ids=["sgd-momentum", "adam"],
)
def test_optimizer_matches_torch(make_ours, make_reference, steps, tolerance):
    """The same gradients, fed to our optimiser and to PyTorch's, give the same parameters."""
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal(6), [rng.standard_normal(6) for _ in range(steps)]
    params = {"w": start.copy()}
    opt = make_ours(params)
    w = torch.tensor(start, requires_grad=True)
    reference = make_reference([w])
    for g in grads:
        opt.step({"w": g})
        w.grad = torch.tensor(g)
        reference.step()
    np.testing.assert_allclose(params["w"], w.detach().numpy(), rtol=0, atol=tolerance)


def test_optimizers_update_the_live_arrays_in_place():
    model = scratch.RNN(2, 3, seed=0)
    weight = model.params["W0"]
    out, _ = model(np.ones((1, 2, 2), dtype=np.float32))
    model.backward(np.ones_like(out))
    scratch.Adam(model.params, lr=0.1).step(model.grads)
    assert model.params["W0"] is weight and not np.allclose(weight, scratch.RNN(2, 3, seed=0).params["W0"])


def test_clip_grad_norm_scales_jointly_and_keeps_direction():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    norm = scratch.clip_grad_norm(grads, max_norm=1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], atol=1e-6)
    np.testing.assert_allclose(grads["b"], [[0.0, 0.8]], atol=1e-6)
    small = {"a": np.array([0.3, 0.4])}
    assert scratch.clip_grad_norm(small, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small["a"], [0.3, 0.4])  # under the limit: untouched


def test_chunk_slices_cover_the_sequence():
    slices = scratch.chunk_slices(10, 4)
    assert [(s.start, s.stop) for s in slices] == [(0, 4), (4, 8), (8, 10)]
    with pytest.raises(ValueError, match="chunk_length"):
        scratch.chunk_slices(10, 0)


def test_truncated_bptt_carries_state_across_chunks():
    """With a learning rate too small to matter, chunked forward passes reproduce the full run."""
    rng = np.random.default_rng(2)
    model = scratch.LSTM(2, 3, seed=0, dtype=np.float64)
    x = rng.standard_normal((2, 12, 2))
    full_out, full_state = model(x)
    seen = []

    def loss_fn(out, target):
        seen.append(out.copy())
        return scratch.mse(out, target)

    losses, state = scratch.truncated_bptt(
        model, x, np.zeros((2, 12, 3)), loss_fn, scratch.SGD(model.params, lr=1e-300), chunk_length=5
    )
    assert len(losses) == 3
    np.testing.assert_allclose(np.concatenate(seen, axis=1), full_out, atol=1e-12)
    np.testing.assert_allclose(state[0], full_state[0], atol=1e-12)


def echo_task(rng, batch, time, delay):
    """Input: random ±1 signs; target: the input ``delay`` steps earlier (0 before that)."""
    x = rng.choice([-1.0, 1.0], size=(batch, time, 1))
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :-delay]
    return x, y


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_tiny_training_run_learns_to_echo(cell):
    """Each cell learns to output its input from 3 steps ago: MSE from 1.0 (predicting 0) to < 0.05."""
    rng = np.random.default_rng(0)
    model = scratch.make_cell(cell, 1, 16, seed=0, dtype=np.float64)
    head = scratch.Linear(16, 1, seed=1, dtype=np.float64)
    params = {**{f"rnn.{k}": v for k, v in model.params.items()}, **{f"head.{k}": v for k, v in head.params.items()}}
    opt = scratch.Adam(params, lr=0.01)
    for _ in range(300):
        x, y = echo_task(rng, 16, 20, delay=3)
        out, _ = model(x)
        _, dpred = scratch.mse(head(out)[:, 3:], y[:, 3:])
        dy = np.zeros(out.shape[:2] + (1,))
        dy[:, 3:] = dpred
        model.backward(head.backward(dy))
        grads = {**{f"rnn.{k}": v for k, v in model.grads.items()}, **{f"head.{k}": v for k, v in head.grads.items()}}
        scratch.clip_grad_norm(grads, 5.0)
        opt.step(grads)
    x, y = echo_task(np.random.default_rng(99), 64, 20, delay=3)
    test_loss, _ = scratch.mse(head(model(x)[0])[:, 3:], y[:, 3:])
    assert test_loss < 0.05, test_loss


def test_sequence_classifier_learns_order():
    """Which came first, a +1 or a −1 pulse? Order-only information; the classifier must exceed 90%."""
    rng = np.random.default_rng(0)

    def batch(n):
        x = np.zeros((n, 12, 1))
        y = rng.integers(0, 2, size=n)
        for row in range(n):
            first, second = np.sort(rng.choice(12, size=2, replace=False))
            sign = 1.0 if y[row] else -1.0
            x[row, first, 0], x[row, second, 0] = sign, -sign
        return x, y

    model = scratch.SequenceClassifier(1, 12, 2, cell="gru", seed=0, dtype=np.float64)
    opt = scratch.Adam(model.params, lr=0.02)
    for _ in range(200):
        x, y = batch(32)
        _, dlogits = scratch.softmax_cross_entropy(model(x), y)
        model.backward(dlogits)
        opt.step(model.grads)
    x, y = batch(500)
    assert (model.predict(x) == y).mean() > 0.9
