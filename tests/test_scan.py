"""rnnlab.scan: every parallel form equals the sequential loop, in log2(T) rounds.

Shapes: B sequences, T steps, D input features, H hidden units, as in the book.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.scan import (
    linear_recurrence,
    log_positive_activation,
    log_space_scan,
    min_gru,
    parallel_scan,
    positive_activation,
)


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
    B, T, D, H = 3, 50, 4, 6
    x = rng.standard_normal((B, T, D))
    Wz, Wh = rng.standard_normal((D, H)), rng.standard_normal((D, H))
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


def test_positive_activation_is_feng_et_al_g():
    x = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    expected = [1 / (1 + np.exp(3.0)), 1 / (1 + np.exp(0.5)), 0.5, 0.75, 2.5]
    np.testing.assert_allclose(positive_activation(x), expected, rtol=1e-12)


def test_positive_activation_is_positive_increasing_and_continuous_at_zero():
    x = np.linspace(-700, 30, 73001)  # below about -745, sigma(x) itself underflows to 0 in float64
    g = positive_activation(x)
    assert (g > 0).all()
    assert (np.diff(g) > 0).all()
    for eps in (1e-3, 1e-6, 1e-9):  # both one-sided limits at 0 are 1/2, the value at 0
        assert abs(positive_activation(np.array(-eps)) - 0.5) < eps
        assert abs(positive_activation(np.array(eps)) - 0.5) <= eps * (1 + 1e-6)
    assert positive_activation(np.array(0.0)) == 0.5
    assert positive_activation(np.array([1, -1])).dtype == np.float64  # ints become floats


def test_log_positive_activation_is_the_log_and_never_overflows():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(log_positive_activation(x), np.log(positive_activation(x)), rtol=1e-12, atol=1e-12)
    reference = np.where(x >= 0, np.log(np.abs(x) + 0.5), -np.log1p(np.exp(-x)))
    np.testing.assert_allclose(log_positive_activation(x), reference, rtol=1e-12)
    extreme = log_positive_activation(np.array([-1e4, -800.0, 800.0, 1e4]))
    assert np.isfinite(extreme).all()
    np.testing.assert_allclose(extreme[:2], [-1e4, -800.0])  # log sigma(x) -> x far left


def _min_gru_loop(x, Wz, bz, Wh, bh, h0, candidate):
    """minGRU step by step, from its equations (z_t on the new candidate, as in Feng et al.)."""
    h, out = h0.copy(), []
    for t in range(x.shape[1]):
        z = 1 / (1 + np.exp(-(x[:, t] @ Wz + bz)))
        pre = x[:, t] @ Wh + bh
        h_tilde = pre if candidate == "linear" else np.where(pre >= 0, pre + 0.5, 1 / (1 + np.exp(-pre)))
        h = (1 - z) * h + z * h_tilde
        out.append(h)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("with_h0", [True, False])
def test_min_gru_in_log_space_equals_the_sequential_loop(with_h0):
    rng = np.random.default_rng(6)
    B, T, D, H = 2, 200, 3, 5
    x = rng.standard_normal((B, T, D))
    Wz, Wh = rng.standard_normal((D, H)), rng.standard_normal((D, H))
    bz, bh = rng.standard_normal(H), rng.standard_normal(H)
    h0 = rng.uniform(0.1, 2.0, (B, H)) if with_h0 else None
    assert (x @ Wh + bh < 0).mean() > 0.2  # the linear candidate really is negative often
    h_log = min_gru(x, Wz, bz, Wh, bh, h0, candidate="positive", method="log")
    loop = _min_gru_loop(x, Wz, bz, Wh, bh, np.zeros((B, H)) if h0 is None else h0, "positive")
    np.testing.assert_allclose(h_log, loop, rtol=1e-9, atol=1e-12)
    for method in ("scan", "sequential"):
        np.testing.assert_allclose(min_gru(x, Wz, bz, Wh, bh, h0, candidate="positive", method=method),
                                   loop, rtol=1e-9, atol=1e-12)
    assert (h_log > 0).all()


def test_log_space_needs_a_positive_candidate_and_state():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 10, 3))
    weights = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4)), rng.standard_normal(4)
    with pytest.raises(ValueError, match="candidate='positive'"):
        min_gru(x, *weights, method="log")
    with pytest.raises(ValueError, match="positive h0"):
        min_gru(x, *weights, -np.ones((1, 4)), candidate="positive", method="log")
    with pytest.raises(ValueError, match="unknown candidate"):
        min_gru(x, *weights, candidate="relu")
    # the linear candidate's logarithm is undefined where it is negative: that is the whole problem
    b = (x @ weights[2] + weights[3]) / 2
    with np.errstate(invalid="ignore"):
        assert np.isnan(np.log(b)).any()
