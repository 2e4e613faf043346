"""Property-based tests over random shapes: shapes, dtypes, determinism, batch independence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scratch_helpers import CELL_IDS, CELL_SPECS, state_parts

from rnnlab import scratch

sizes = st.integers(min_value=1, max_value=5)
dtypes = st.sampled_from([np.float32, np.float64])
FAST = settings(max_examples=25, deadline=None)


@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
@FAST
@given(batch=sizes, time=sizes, input_size=sizes, hidden=sizes, layers=st.integers(1, 3), dtype=dtypes, seed=st.integers(0, 2**31))
def test_shapes_and_dtypes(name, cell, kwargs, batch, time, input_size, hidden, layers, dtype, seed):
    model = cell(input_size, hidden, layers, seed=seed, dtype=dtype, **kwargs)
    x = np.random.default_rng(seed).standard_normal((batch, time, input_size)).astype(dtype)
    out, state = model(x)
    assert out.shape == (batch, time, hidden) and out.dtype == dtype
    for part in state_parts(state):
        assert part.shape == (layers, batch, hidden) and part.dtype == dtype
    dx, dstate0 = model.backward(np.ones_like(out))
    assert dx.shape == x.shape and dx.dtype == dtype
    for part in state_parts(dstate0):
        assert part.shape == (layers, batch, hidden) and part.dtype == dtype
    for key, grad in model.grads.items():
        assert grad.shape == model.params[key].shape and grad.dtype == dtype, key
    # The top layer's last output is the top layer's final hidden state.
    np.testing.assert_array_equal(out[:, -1], state_parts(state)[0][-1])


@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
@FAST
@given(seed=st.integers(0, 2**31), dtype=dtypes)
def test_same_seed_same_result_bit_for_bit(name, cell, kwargs, seed, dtype):
    x = np.random.default_rng(seed).standard_normal((3, 4, 2))
    results = []
    for _ in range(2):
        model = cell(2, 3, 2, seed=seed, dtype=dtype, **kwargs)
        out, _ = model(x)
        dx, _ = model.backward(np.ones_like(out))
        results.append((out, dx, model.grads))
    (out_a, dx_a, grads_a), (out_b, dx_b, grads_b) = results
    np.testing.assert_array_equal(out_a, out_b)
    np.testing.assert_array_equal(dx_a, dx_b)
    for key in grads_a:
        np.testing.assert_array_equal(grads_a[key], grads_b[key])


@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
def test_different_seeds_give_different_weights(name, cell, kwargs):
    a, b = cell(2, 3, seed=0, **kwargs), cell(2, 3, seed=1, **kwargs)
    assert not np.array_equal(a.params["W0"], b.params["W0"])


@pytest.mark.parametrize("name, cell, kwargs", CELL_SPECS, ids=CELL_IDS)
@FAST
@given(batch=st.integers(2, 5), time=sizes, seed=st.integers(0, 2**31))
def test_batch_rows_are_independent(name, cell, kwargs, batch, time, seed):
    """Row i of a batched run equals running row i alone (float64: no reduction-order noise)."""
    model = cell(3, 4, 2, seed=seed, dtype=np.float64, **kwargs)
    x = np.random.default_rng(seed).standard_normal((batch, time, 3))
    out, state = model(x)
    row = int(seed % batch)
    out_row, state_row = model(x[row : row + 1])
    np.testing.assert_allclose(out[row : row + 1], out_row, rtol=0, atol=1e-12)
    for part, part_row in zip(state_parts(state), state_parts(state_row)):
        np.testing.assert_allclose(part[:, row : row + 1], part_row, rtol=0, atol=1e-12)


# ReLU is unbounded by design (overflow there is the exploding-activation lesson), so it is left out.
SATURATING = [spec for spec in CELL_SPECS if spec[0] != "rnn-relu"]


@pytest.mark.parametrize("name, cell, kwargs", SATURATING, ids=[spec[0] for spec in SATURATING])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_inputs_raise_no_overflow(name, cell, kwargs, dtype):
    """Saturating nonlinearities stay finite and silent for |z| far beyond exp's range."""
    model = cell(2, 3, seed=0, dtype=dtype, **kwargs)
    x = np.full((2, 3, 2), 1e30 if dtype == np.float64 else 1e20, dtype=dtype)
    x[0] *= -1
    with np.errstate(all="raise"):
        out, _ = model(x)
        dx, _ = model.backward(np.ones_like(out))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    with np.errstate(all="raise"):
        assert scratch.sigmoid(np.array([-1e308, 1e308])).tolist() == [0.0, 1.0]


def test_initialisation_is_as_documented():
    lstm = scratch.LSTM(5, 4, seed=0, dtype=np.float64)
    b, U, W = lstm.params["b0"], lstm.params["U0"], lstm.params["W0"]
    np.testing.assert_array_equal(b[4:8], 1.0)  # forget gate
    np.testing.assert_array_equal(np.delete(b, range(4, 8)), 0.0)
    for gate in range(4):
        block = U[:, 4 * gate : 4 * gate + 4]
        np.testing.assert_allclose(block.T @ block, np.eye(4), atol=1e-12)  # orthogonal
    assert np.abs(W).max() <= np.sqrt(6 / (5 + 4))  # Glorot uniform bound per gate block
