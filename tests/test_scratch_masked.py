"""Masked pieces: Embedding(padding_idx), cross-entropy with ignore_index, mse with a mask,
and the composite models over ragged batches."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab import scratch

TOLERANCE = 1e-6


def import_torch():
    """PyTorch, the oracle for the losses and the embedding; the other tests run without it."""
    return pytest.importorskip("torch")


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = scratch.Embedding(6, 3, padding_idx=0, seed=0, dtype=np.float64)
    np.testing.assert_array_equal(emb.params["E"][0], 0.0)
    ids = np.array([[0, 2, 0], [5, 0, 2]])
    w = np.random.default_rng(0).standard_normal((2, 3, 3))

    def loss() -> float:
        return float(np.sum(np.tanh(emb(ids)) * w))

    out = emb(ids)
    emb.backward((1 - np.tanh(out) ** 2) * w)
    np.testing.assert_array_equal(emb.grads["E"][0], 0.0)
    # The finite differences see a dependence on row 0 (it is looked up); the contract, as in
    # torch, is that the padding row is a constant: compare every other row.
    numeric = scratch.numerical_gradient(loss, emb.params["E"])
    assert np.abs(numeric[1:] - emb.grads["E"][1:]).max() < 1e-8
    assert scratch.Embedding(6, 3, padding_idx=-1).padding_idx == 5


def test_embedding_padding_matches_torch():
    torch = import_torch()
    emb = scratch.Embedding(5, 2, padding_idx=3, seed=1, dtype=np.float64)
    twin = torch.nn.Embedding(5, 2, padding_idx=3, dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(emb.params["E"]))
    ids = np.array([[3, 1, 3, 4]])
    dout = np.random.default_rng(0).standard_normal((1, 4, 2))
    emb(ids)
    emb.backward(dout)
    twin(torch.from_numpy(ids)).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(emb.grads["E"], twin.weight.grad.numpy(), rtol=0, atol=1e-15)


def test_embedding_padding_idx_is_checked():
    with pytest.raises(ValueError, match=r"padding_idx must lie in \[-4, 4\)"):
        scratch.Embedding(4, 2, padding_idx=4)
    with pytest.raises(ValueError, match="padding_idx"):
        scratch.Embedding(4, 2, padding_idx=-5)


@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_ignore_index_matches_torch_and_finite_differences(ignore_index):
    torch = import_torch()
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((3, 5, 4))
    targets = rng.integers(0, 4, size=(3, 5))
    targets[0, 3:] = ignore_index
    targets[2, 1:] = ignore_index
    loss, dlogits = scratch.softmax_cross_entropy(logits, targets, ignore_index=ignore_index)
    logits_t = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(
        logits_t.reshape(-1, 4), torch.from_numpy(targets).reshape(-1), ignore_index=ignore_index
    )
    expected.backward()
    assert abs(loss - expected.item()) < 1e-12
    np.testing.assert_allclose(dlogits, logits_t.grad.numpy(), rtol=0, atol=1e-12)
    assert np.all(dlogits[targets == ignore_index] == 0.0)
    f = lambda: scratch.softmax_cross_entropy(logits, targets, ignore_index=ignore_index)[0]
    assert scratch.gradcheck(f, {"logits": logits}, {"logits": dlogits}).max_relative_error < TOLERANCE


def test_cross_entropy_without_ignored_targets_is_unchanged():
    rng = np.random.default_rng(0)
    logits, targets = rng.standard_normal((4, 3)), rng.integers(0, 3, size=4)
    plain = scratch.softmax_cross_entropy(logits, targets)
    masked = scratch.softmax_cross_entropy(logits, targets, ignore_index=-100)
    assert abs(plain[0] - masked[0]) < 1e-15
    np.testing.assert_allclose(plain[1], masked[1], rtol=0, atol=1e-17)


def test_cross_entropy_all_ignored_and_bad_targets():
    logits = np.zeros((2, 3), dtype=np.float32)
    loss, dlogits = scratch.softmax_cross_entropy(logits, np.array([-1, -1]), ignore_index=-1)
    assert loss == 0.0 and dlogits.dtype == np.float32 and not dlogits.any()
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        scratch.softmax_cross_entropy(logits, np.array([-1, 3]), ignore_index=-1)


@pytest.mark.parametrize("mask_shape", [(3, 5), (3, 5, 2)], ids=["leading-axes", "full"])
def test_masked_mse_matches_torch_and_finite_differences(mask_shape):
    torch = import_torch()
    rng = np.random.default_rng(1)
    pred, target = rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 5, 2))
    mask = rng.random(mask_shape) < 0.6
    loss, dpred = scratch.mse(pred, target, mask=mask)
    full = np.broadcast_to(mask.reshape(mask_shape + (1,) * (3 - len(mask_shape))), pred.shape).copy()
    pred_t = torch.tensor(pred, requires_grad=True)
    expected = torch.nn.functional.mse_loss(pred_t[torch.from_numpy(full)], torch.from_numpy(target[full]))
    expected.backward()
    assert abs(loss - expected.item()) < 1e-12
    np.testing.assert_allclose(dpred, pred_t.grad.numpy(), rtol=0, atol=1e-12)
    f = lambda: scratch.mse(pred, target, mask=mask)[0]
    assert scratch.gradcheck(f, {"pred": pred}, {"pred": dpred}).max_relative_error < TOLERANCE


def test_mse_mask_checks():
    pred = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="leading part"):
        scratch.mse(pred, pred, mask=np.ones(3, bool))
    with pytest.raises(TypeError, match="booleans"):
        scratch.mse(pred, pred, mask=np.full((2, 3), 0.5))
    loss, dpred = scratch.mse(pred, pred + 1, mask=np.zeros((2, 3), bool))
    assert loss == 0.0 and not dpred.any() and dpred.dtype == np.float32


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_classifier_reads_the_last_real_state_and_has_exact_gradients(cell, bidirectional):
    rng = np.random.default_rng(5)
    model = scratch.SequenceClassifier(2, 3, 4, cell=cell, num_layers=2, bidirectional=bidirectional,
                                       seed=1, dtype=np.float64)
    x = rng.standard_normal((3, 5, 2))
    lengths = np.array([2, 5, 1])
    targets = np.array([0, 3, 1])
    logits = model(x, lengths=lengths)
    for b, length in enumerate(lengths):  # each sequence alone, unpadded, gives its logits
        np.testing.assert_allclose(model(x[b : b + 1, :length])[0], logits[b], rtol=0, atol=1e-12)

    def loss() -> float:
        return scratch.softmax_cross_entropy(model(x, lengths=lengths), targets)[0]

    loss()
    _, dlogits = scratch.softmax_cross_entropy(model(x, lengths=lengths), targets)
    dx = model.backward(dlogits)
    result = scratch.gradcheck(loss, {**model.params, "x": x}, {**model.grads, "x": dx})
    assert result.max_relative_error < TOLERANCE, str(result)
    assert model.head.in_features == 3 * (2 if bidirectional else 1)


def test_classifier_without_lengths_is_unchanged():
    """Unidirectional, no lengths: the head reads out[:, -1], as before."""
    model = scratch.SequenceClassifier(2, 3, 4, seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 4, 2))
    out, _ = model.rnn(x)
    np.testing.assert_array_equal(model(x), model.head(out[:, -1]))


def test_language_model_with_lengths_padding_and_masked_loss_gradients():
    rng = np.random.default_rng(6)
    model = scratch.LanguageModel(6, 3, 4, cell="gru", num_layers=2, bidirectional=True, padding_idx=0,
                                  seed=2, dtype=np.float64)
    lengths = np.array([4, 1, 3])
    ids = rng.integers(1, 6, size=(3, 4))
    ids[np.arange(4)[None, :] >= lengths[:, None]] = 0
    targets = np.where(ids == 0, -100, rng.integers(0, 6, size=ids.shape))

    def loss() -> float:
        logits, _ = model(ids, lengths=lengths)
        return scratch.softmax_cross_entropy(logits, targets, ignore_index=-100)[0]

    logits, _ = model(ids, lengths=lengths)
    _, dlogits = scratch.softmax_cross_entropy(logits, targets, ignore_index=-100)
    model.backward(dlogits)
    np.testing.assert_array_equal(model.grads["embedding.E"][0], 0.0)
    params = {k: v for k, v in model.params.items() if k != "embedding.E"}
    result = scratch.gradcheck(loss, params, model.grads)
    assert result.max_relative_error < TOLERANCE, str(result)
