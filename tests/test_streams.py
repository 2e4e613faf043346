"""rnnlab.streams: truncated BPTT in PyTorch over B parallel streams of one text."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import scratch
from rnnlab.streams import (
    StreamHistory,
    detach_state,
    fit_tbptt,
    next_token_loss,
    stream_batches,
    stream_nll,
    tbptt_epoch,
)
from rnnlab.torch import LanguageModel, from_torch

K = 7


def small_model(cell: str = "gru", seed: int = 0) -> LanguageModel:
    torch.manual_seed(seed)
    return LanguageModel(K, 5, 6, cell=cell, dtype=torch.float64)


def random_ids(length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, K, size=length)


def test_stream_batches_rows_are_consecutive_text():
    ids = np.arange(23)
    inputs, targets = stream_batches(ids, 4)  # S = (23 - 1) // 4 = 5
    assert inputs.shape == targets.shape == (4, 5) and inputs.dtype == targets.dtype == np.int64
    np.testing.assert_array_equal(inputs.reshape(-1), ids[:20])
    np.testing.assert_array_equal(targets.reshape(-1), ids[1:21])
    np.testing.assert_array_equal(targets[:, :-1], inputs[:, 1:])  # one token on inside a row
    np.testing.assert_array_equal(targets[:-1, -1], inputs[1:, 0])  # a row ends where the next begins


def test_stream_batches_rejects_bad_input():
    with pytest.raises(ValueError, match="1-D array of ints"):
        stream_batches(np.zeros((2, 5), dtype=int), 2)
    with pytest.raises(ValueError, match="1-D array of ints"):
        stream_batches(np.zeros(5), 2)
    with pytest.raises(ValueError, match="at least batch_size \\+ 1 = 4 tokens, received 3"):
        stream_batches(np.arange(3), 3)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        stream_batches(np.arange(10), 2.0)


def test_detach_state_handles_tensors_tuples_and_none():
    h = torch.ones(1, 2, 3, requires_grad=True) * 2
    c = torch.zeros(1, 2, 3, requires_grad=True) + 1
    assert detach_state(None) is None
    assert not detach_state(h).requires_grad and torch.equal(detach_state(h), h)
    hc = detach_state((h, c))
    assert isinstance(hc, tuple) and all(not part.requires_grad for part in hc)


def test_tbptt_epoch_matches_scratch_truncated_bptt():
    """The same chunks, carried state and updates as the NumPy loop, to float64 rounding.

    (A GRU: its scratch twin keeps PyTorch's two biases, so plain SGD moves both models alike;
    the scratch LSTM merges PyTorch's two biases into one, which SGD then updates once, not twice.)
    """
    inputs, targets = stream_batches(random_ids(3 * 40 + 1), 3)  # (3, 40)
    model = small_model("gru")
    twin = from_torch(model)
    losses, state = tbptt_epoch(model, inputs, targets, torch.optim.SGD(model.parameters(), lr=0.5), 8,
                                clip_norm=1.0)
    scratch_losses, scratch_state = scratch.truncated_bptt(
        twin, inputs, targets, scratch.softmax_cross_entropy, scratch.SGD(twin.params, lr=0.5), 8, clip_norm=1.0)
    assert len(losses) == 5
    np.testing.assert_allclose(losses, scratch_losses, rtol=1e-12)
    trained = from_torch(model).params
    for name, value in twin.params.items():
        np.testing.assert_allclose(trained[name], value, atol=1e-12)
    assert not state.requires_grad and np.allclose(state.numpy(), scratch_state)


def test_tbptt_epoch_carries_an_lstm_state_detached():
    inputs, targets = stream_batches(random_ids(3 * 20 + 1), 3)
    model = small_model("lstm")
    losses, (h, c) = tbptt_epoch(model, inputs, targets, torch.optim.Adam(model.parameters(), lr=0.01), 6)
    assert len(losses) == 4 and h.shape == c.shape == (1, 3, 6)
    assert not h.requires_grad and not c.requires_grad and model.training


def test_carry_state_false_is_independent_windows():
    """Resetting at each chunk gives the losses of the chunks as separate sequences."""
    inputs, targets = stream_batches(random_ids(2 * 30 + 1, seed=1), 2)  # (2, 30)
    model = small_model()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    losses, state = tbptt_epoch(model, inputs, targets, torch.optim.SGD(model.parameters(), lr=0.0), 10,
                                carry_state=False)
    assert state is None
    model.load_state_dict(start)
    with torch.no_grad():
        expected = [next_token_loss(model(torch.as_tensor(inputs[:, s:s + 10]))[0],
                                    torch.as_tensor(targets[:, s:s + 10])).item() for s in (0, 10, 20)]
    np.testing.assert_allclose(losses, expected, rtol=1e-12)


def test_stream_nll_carried_does_not_depend_on_chunk_length():
    inputs, targets = stream_batches(random_ids(2 * 50 + 1, seed=2), 2)
    model = small_model()
    a = stream_nll(model, inputs, targets, 7)
    b = stream_nll(model, inputs, targets, 50)
    assert a.shape == (2, 50) and a.dtype == np.float64
    np.testing.assert_allclose(a, b, rtol=1e-10)
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(inputs))
    full = torch.nn.functional.cross_entropy(logits.transpose(1, 2), torch.as_tensor(targets), reduction="none")
    np.testing.assert_allclose(a, full.numpy(), rtol=1e-10)
    assert not model.training


def test_stream_nll_reset_restarts_every_chunk():
    inputs, targets = stream_batches(random_ids(1 * 20 + 1, seed=3), 1)
    model = small_model()
    reset = stream_nll(model, inputs, targets, 10, carry_state=False)
    second = stream_nll(model, inputs[:, 10:], targets[:, 10:], 10)
    np.testing.assert_allclose(reset[:, 10:], second, rtol=1e-12)  # chunk 2 read from a zero state
    carried = stream_nll(model, inputs, targets, 10)
    np.testing.assert_allclose(reset[:, :10], carried[:, :10], rtol=1e-12)
    assert not np.allclose(reset[:, 10:], carried[:, 10:])


def test_stream_nll_rejects_mismatched_shapes():
    model = small_model()
    with pytest.raises(ValueError, match=r"\(B, S\) ids of the same shape, received \(2, 5\) and \(2, 4\)"):
        stream_nll(model, np.zeros((2, 5), dtype=int), np.zeros((2, 4), dtype=int), 3)
    with pytest.raises(TypeError, match="carry_state must be a bool"):
        stream_nll(model, np.zeros((2, 5), dtype=int), np.zeros((2, 5), dtype=int), 3, carry_state=1)


def test_fit_tbptt_learns_and_is_deterministic():
    rng = np.random.default_rng(4)
    pattern = rng.integers(0, K, size=9)
    ids = np.tile(pattern, 60)  # a period-9 text: predictable from 8 tokens of context
    histories, weights = [], []
    for _ in range(2):
        model = small_model(seed=5)
        history = fit_tbptt(model, ids[:400], ids[400:], epochs=3, batch_size=4, chunk_length=12, lr=0.05,
                            clip_norm=1.0, seed=0)
        histories.append(history)
        weights.append({k: v.clone() for k, v in model.state_dict().items()})
    history = histories[0]
    assert isinstance(history, StreamHistory)
    assert len(history.train_loss) == len(history.val_loss) == 3 and len(history.chunk_loss) == 3 * 9
    assert history.val_loss[-1] < 0.5 * history.val_loss[0]
    assert histories[1].chunk_loss == history.chunk_loss
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not model.training


def test_fit_tbptt_rejects_bad_settings():
    model = small_model()
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        fit_tbptt(model, random_ids(50), epochs=1, batch_size=2, chunk_length=5, lr=0.0, seed=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        fit_tbptt(model, random_ids(50), epochs=1, batch_size=2, chunk_length=5, seed=None)
    with pytest.raises(ValueError, match="chunk_length must be an int >= 1"):
        fit_tbptt(model, random_ids(50), epochs=1, batch_size=2, chunk_length=0, seed=0)


def test_stream_nll_reset_equals_chunk_by_chunk_with_a_short_last_chunk():
    inputs, targets = stream_batches(random_ids(2 * 23 + 1, seed=6), 2)  # (2, 23): chunks of 5, 5, 5, 5, 3
    model = small_model()
    reset = stream_nll(model, inputs, targets, 5, carry_state=False)
    assert reset.shape == (2, 23)
    for start in range(0, 23, 5):
        piece = slice(start, min(start + 5, 23))
        np.testing.assert_allclose(reset[:, piece], stream_nll(model, inputs[:, piece], targets[:, piece], 5),
                                   rtol=1e-12)
