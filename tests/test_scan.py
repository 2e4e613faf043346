"""rnnlab.scan: every parallel form equals the sequential loop, in log2(T) rounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.scan import linear_recurrence, log_space_scan, min_gru, parallel_scan


def _problem(batch, time, hidden, seed, dtype=np.float64, positive=False):
    rng = np.random.default_rng(seed)
    if positive:
        a = rng.uniform(0.05, 1.0, (batch, time, hidden))
        b = rng.uniform(0.01, 1.0, (batch, time, hidden))
        h0 = rng.uniform(0.1, 1.0, (batch, hidden))
    else:
        a = rng.uniform(-1.0, 1.0, (batch, time, hidden))
        b = rng.standard_normal((batch, time, hidden))
        h0 = rng.standard_normal((batch, hidden))
    return a.astype(dtype), b.astype(dtype), h0.astype(dtype)


def _loop(a, b, h0):
    """The definition, written out once more without the package."""
    h, out = h0.copy(), []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        out.append(h)
    return np.stack(out, axis=1)


def test_linear_recurrence_is_the_definition():
    a, b, h0 = _problem(2, 9, 3, seed=0)
    np.testing.assert_allclose(linear_recurrence(a, b, h0), _loop(a, b, h0), rtol=0, atol=0)
    np.testing.assert_allclose(linear_recurrence(a, b), _loop(a, b, np.zeros_like(h0)), rtol=0, atol=0)


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 3),
    time=st.integers(1, 70),
    hidden=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    with_h0=st.booleans(),
)
def test_parallel_scan_equals_loop(batch, time, hidden, seed, with_h0):
    a, b, h0 = _problem(batch, time, hidden, seed)
    h0 = h0 if with_h0 else None
    h, rounds = parallel_scan(a, b, h0, return_rounds=True)
    np.testing.assert_allclose(h, linear_recurrence(a, b, h0), rtol=1e-10, atol=1e-12)
    assert rounds == (math.ceil(math.log2(time)) if time > 1 else 0)


@pytest.mark.parametrize("time", [1, 2, 3, 8, 100, 1024, 1025])
def test_rounds_are_log2_time(time):
    a, b, _ = _problem(1, time, 2, seed=1)
    _, rounds = parallel_scan(a, b, return_rounds=True)
    assert rounds == math.ceil(math.log2(time))
    assert rounds < time or time == 1


def test_parallel_scan_does_not_modify_inputs_and_keeps_dtype():
    a, b, h0 = _problem(2, 17, 3, seed=2, dtype=np.float32)
    copies = a.copy(), b.copy(), h0.copy()
    h = parallel_scan(a, b, h0)
    assert h.dtype == np.float32 and h.shape == (2, 17, 3)
    for before, after in zip(copies, (a, b, h0)):
        assert np.array_equal(before, after)
    np.testing.assert_allclose(h, linear_recurrence(a, b, h0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("with_h0", [True, False])
@pytest.mark.parametrize("time", [1, 5, 64, 300])
def test_log_space_scan_equals_loop(time, with_h0):
    a, b, h0 = _problem(2, time, 3, seed=3, positive=True)
    log_h0 = np.log(h0) if with_h0 else None
    expected = linear_recurrence(a, b, h0 if with_h0 else None)
    np.testing.assert_allclose(log_space_scan(np.log(a), np.log(b), log_h0), expected, rtol=1e-10)


def test_log_space_scan_survives_where_the_cumulative_product_underflows():
    time = 2000
    a = np.full((1, time, 1), 0.5)  # prod(a) = 2**-2000 underflows to 0 in float64
    b = np.full((1, time, 1), 1.0)
    assert np.prod(a) == 0.0
    h = log_space_scan(np.log(a), np.log(b))
    np.testing.assert_allclose(h[0, -1, 0], 2.0, rtol=1e-12)  # fixed point of h = h/2 + 1
    assert np.isfinite(h).all()


@pytest.mark.parametrize("with_h0", [True, False])
def test_min_gru_scan_equals_sequential(with_h0):
    rng = np.random.default_rng(4)
    B, T, I, H = 3, 50, 4, 6
    x = rng.standard_normal((B, T, I))
    Wz, Wh = rng.standard_normal((I, H)), rng.standard_normal((I, H))
    bz, bh = rng.standard_normal(H), rng.standard_normal(H)
    h0 = rng.standard_normal((B, H)) if with_h0 else None
    parallel = min_gru(x, Wz, bz, Wh, bh, h0)
    sequential = min_gru(x, Wz, bz, Wh, bh, h0, method="sequential")
    np.testing.assert_allclose(parallel, sequential, rtol=1e-10, atol=1e-12)
    # the definition, step by step
    h = np.zeros((B, H)) if h0 is None else h0
    for t in range(T):
        z = 1 / (1 + np.exp(-(x[:, t] @ Wz + bz)))
        h = (1 - z) * h + z * (x[:, t] @ Wh + bh)
    np.testing.assert_allclose(parallel[:, -1], h, rtol=1e-10, atol=1e-12)


def test_min_gru_is_affine_in_its_initial_state():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 30, 3))
    weights = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4)), rng.standard_normal(4)
    h0, h1 = rng.standard_normal((2, 2, 4))
    mix = min_gru(x, *weights, 0.3 * h0 + 0.7 * h1)
    np.testing.assert_allclose(mix, 0.3 * min_gru(x, *weights, h0) + 0.7 * min_gru(x, *weights, h1), atol=1e-12)


def test_errors_name_what_was_expected():
    a = np.zeros((2, 5, 3))
    with pytest.raises(ValueError, match="same shape"):
        parallel_scan(a, np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="batch, time, hidden"):
        linear_recurrence(np.zeros((5, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="time >= 1"):
        parallel_scan(np.zeros((2, 0, 3)), np.zeros((2, 0, 3)))
    with pytest.raises(ValueError, match="h0 must have shape"):
        parallel_scan(a, a, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="unknown method"):
        min_gru(np.zeros((1, 2, 3)), np.zeros((3, 4)), np.zeros(4), np.zeros((3, 4)), np.zeros(4), method="fast")
    with pytest.raises(ValueError, match="Wz"):
        min_gru(np.zeros((1, 2, 3)), np.zeros((2, 4)), np.zeros(4), np.zeros((2, 4)), np.zeros(4))
