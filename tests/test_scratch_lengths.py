"""Variable lengths and bidirectional stacks in scratch: exact gradients, and padding changes nothing.

Ragged batches always include a length-1 sequence and a full-length one, in an order that is
not sorted, so that the stack's internal sorting and unsorting are exercised too.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scratch_helpers import CELL_IDS, CELL_SPECS, like_state, state_parts, weighted_loss

from rnnlab import scratch

TOLERANCE = 1e-6
B, T, D, H = 3, 4, 2, 3
LENGTHS = np.array([2, 4, 1])  # unsorted, with a full-length and a length-1 sequence


def padding_mask(lengths, time):
    """(B, T, 1) booleans: True at real steps."""
    return (np.arange(time)[None, :] < np.asarray(lengths)[:, None])[..., None]


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
def test_ragged_gradients_match_finite_differences(name, cell, kwargs, num_layers, bidirectional):
    rng = np.random.default_rng(11)
    model = cell(D, H, num_layers, bidirectional=bidirectional, seed=5, dtype=np.float64, **kwargs)
    x = rng.standard_normal((B, T, D))
    _, final = model(x, lengths=LENGTHS)
    state0 = like_state(final, lambda shape: 0.5 * rng.standard_normal(shape))
    out_weights = rng.standard_normal((B, T, model.output_size))
    state_weights = like_state(final, rng.standard_normal)

    def loss() -> float:
        out, state = model(x, state0, lengths=LENGTHS)
        return weighted_loss(out, state, out_weights, state_weights)

    loss()
    dx, dstate0 = model.backward(out_weights, state_weights)
    arrays = {**model.params, "x": x}
    analytic = {**model.grads, "x": dx}
    for label, value, grad in zip("hc", state_parts(state0), state_parts(dstate0)):
        arrays[f"{label}0"], analytic[f"{label}0"] = value, grad
    result = scratch.gradcheck(loss, arrays, analytic)
    assert result.max_relative_error < TOLERANCE, str(result)
    # No gradient reaches the padding.
    assert np.all(dx[~padding_mask(LENGTHS, T)[..., 0]] == 0.0)


@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_padding_never_matters(name, cell, kwargs, dtype):
    """Padded outputs are zero, and what the padding holds changes nothing, forward or backward."""
    rng = np.random.default_rng(3)
    model = cell(D, H, 2, bidirectional=True, seed=1, dtype=dtype, **kwargs)
    x = rng.standard_normal((B, T, D)).astype(dtype)
    noisy = np.where(padding_mask(LENGTHS, T), x, 1e3 * rng.standard_normal(x.shape)).astype(dtype)
    dout = rng.standard_normal((B, T, 2 * H)).astype(dtype)
    results = []
    for inputs in (x, noisy):
        out, state = model(inputs, lengths=LENGTHS)
        dx, dstate0 = model.backward(dout)
        results.append((out, state_parts(state), dx, state_parts(dstate0), model.grads))
    (out_a, st_a, dx_a, ds_a, g_a), (out_b, st_b, dx_b, ds_b, g_b) = results
    assert out_a.dtype == dtype and dx_a.dtype == dtype
    assert np.all(out_a[~padding_mask(LENGTHS, T)[..., 0]] == 0.0)
    np.testing.assert_array_equal(out_a, out_b)
    np.testing.assert_array_equal(dx_a, dx_b)
    for a, b in zip(st_a + ds_a, st_b + ds_b):
        np.testing.assert_array_equal(a, b)
    for key in g_a:
        np.testing.assert_array_equal(g_a[key], g_b[key])


def test_full_lengths_equal_no_lengths():
    model = scratch.LSTM(D, H, 2, bidirectional=True, seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((B, T, D))
    out, (h, c) = model(x)
    out_l, (h_l, c_l) = model(x, lengths=[T] * B)
    np.testing.assert_array_equal(out, out_l)
    np.testing.assert_array_equal(h, h_l)
    np.testing.assert_array_equal(c, c_l)


def test_bidirectional_state_order_and_output_halves():
    """State is (layer 0 fwd, layer 0 bwd, layer 1 fwd, ...); out is [forward | backward]."""
    model = scratch.GRU(D, H, 2, bidirectional=True, seed=2, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((B, T, D))
    out, h = model(x, lengths=LENGTHS)
    assert out.shape == (B, T, 2 * H) and h.shape == (4, B, H)
    for b, length in enumerate(LENGTHS):
        np.testing.assert_array_equal(out[b, length - 1, :H], h[2, b])  # forward ends at its last step
        np.testing.assert_array_equal(out[b, 0, H:], h[3, b])  # backward ends at step 0


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_padded_batch_equals_each_sequence_alone(name, cell, kwargs, bidirectional, data):
    """Property: a padded batch with lengths gives, per sequence, what the unpadded sequence gives
    alone: outputs, final states, dL/dx, dL/d(initial state) and (summed) weight gradients."""
    batch = data.draw(st.integers(1, 4), label="batch")
    time = data.draw(st.integers(1, 5), label="time")
    lengths = np.array(data.draw(st.lists(st.integers(1, time), min_size=batch, max_size=batch), label="lengths"))
    layers = data.draw(st.integers(1, 2), label="layers")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    model = cell(2, 3, layers, bidirectional=bidirectional, seed=seed, dtype=np.float64, **kwargs)
    x = rng.standard_normal((batch, time, 2))
    out, state = model(x, lengths=lengths)
    state0 = like_state(state, lambda shape: rng.standard_normal(shape))
    dstate = like_state(state, lambda shape: rng.standard_normal(shape))
    dout = rng.standard_normal(out.shape)
    out, state = model(x, state0, lengths=lengths)
    dx, dstate0 = model.backward(dout, dstate)
    grads = model.grads
    summed = {key: np.zeros_like(value) for key, value in grads.items()}
    for b, length in enumerate(lengths):
        pick = lambda parts, b=b: tuple(part[:, b : b + 1] for part in state_parts(parts))
        alone_state0 = pick(state0) if isinstance(state0, tuple) else pick(state0)[0]
        alone_dstate = pick(dstate) if isinstance(dstate, tuple) else pick(dstate)[0]
        out_b, state_b = model(x[b : b + 1, :length], alone_state0)
        dx_b, dstate0_b = model.backward(dout[b : b + 1, :length], alone_dstate)
        np.testing.assert_allclose(out[b : b + 1, :length], out_b, rtol=0, atol=1e-12)
        np.testing.assert_allclose(dx[b : b + 1, :length], dx_b, rtol=0, atol=1e-12)
        for got, expected in zip(pick(state) + pick(dstate0), state_parts(state_b) + state_parts(dstate0_b)):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        for key, value in model.grads.items():
            summed[key] += value
    for key in grads:
        np.testing.assert_allclose(grads[key], summed[key], rtol=0, atol=1e-12, err_msg=key)


@pytest.mark.parametrize(
    "lengths, error, message",
    [
        ([2, 4], ValueError, r"shape \(3,\)"),
        ([0, 4, 1], ValueError, r"1\.\.4"),
        ([2, 5, 1], ValueError, r"1\.\.4"),
        ([2.0, 4.0, 1.0], TypeError, "integers"),
    ],
    ids=["wrong-count", "zero", "too-long", "floats"],
)
def test_bad_lengths_are_refused(lengths, error, message):
    model = scratch.RNN(D, H, seed=0)
    with pytest.raises(error, match=message):
        model(np.zeros((B, T, D)), lengths=lengths)


def test_bidirectional_state_shape_is_checked():
    model = scratch.LSTM(D, H, 2, bidirectional=True, seed=0)
    with pytest.raises(ValueError, match=r"shape \(4, 3, 3\)"):
        model(np.zeros((B, T, D)), (np.zeros((2, B, H)), np.zeros((2, B, H))))
    with pytest.raises(ValueError, match=r"dout must have shape \(3, 4, 6\)"):
        model(np.zeros((B, T, D)))
        model.backward(np.zeros((B, T, H)))


def test_unidirectional_weights_unchanged_by_the_new_keywords():
    """Adding the keywords did not move any seeded initial weight (the book's numbers stay put)."""
    plain = scratch.LSTM(3, 4, 2, seed=9)
    explicit = scratch.LSTM(3, 4, 2, bidirectional=False, dropout=0.3, seed=9)
    bidi = scratch.LSTM(3, 4, 2, bidirectional=True, seed=9)
    for key, value in plain.params.items():
        np.testing.assert_array_equal(value, explicit.params[key])
    np.testing.assert_array_equal(plain.params["W0"], bidi.params["W0"])  # drawn first either way
    assert set(bidi.params) == {f"{k}{layer}{s}" for k in "WUb" for layer in "01" for s in ("", "_reverse")}
