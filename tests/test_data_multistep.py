"""Tests of rnnlab.data.multistep: direct multi-step windows with no target in an input or across a split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab import data


def test_windows_hold_the_next_h_steps_and_no_target_inside_the_inputs():
    values = np.arange(30, dtype=np.float32)[:, None] * np.array([1.0, 100.0], dtype=np.float32)  # step i: (i, 100 i)
    x, y = data.make_multistep_windows(values, 4, 3, target_columns=[1])
    assert x.shape == (24, 4, 2) and y.shape == (24, 3, 1) and x.dtype == y.dtype == np.float32
    np.testing.assert_array_equal(x[5, :, 0], [5, 6, 7, 8])
    np.testing.assert_array_equal(y[5, :, 0], [900, 1000, 1100])  # steps 9, 10, 11 of column 1
    assert (y[:, :, 0] / 100 > x[:, -1:, 0]).all()  # every target after every input of its window
    with pytest.raises(ValueError, match="too short for window=20, horizon=11"):
        data.make_multistep_windows(values, 20, 11)
    with pytest.raises(ValueError, match="horizon must be an int >= 1, received 0"):
        data.make_multistep_windows(values, 4, 0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(60, 200), window=st.integers(1, 12), horizon=st.integers(1, 8))
def test_split_by_time_without_overlap(n, window, horizon):
    values = np.arange(n, dtype=np.float32)  # the value is the step's index
    split = data.multistep_dataset(values, window, horizon, fractions=(0.6, 0.2, 0.2))
    val_start, test_start = split.boundaries
    scale = lambda part: split.scaler.inverse_transform(part)
    targets = [np.rint(scale(part[1][..., 0])) for part in (split.train, split.val, split.test)]
    inputs = [np.rint(scale(part[0][..., 0])) for part in (split.train, split.val, split.test)]
    for x, y, origin in zip(inputs, targets, split.origin_index):
        assert (y.min(axis=1) > x.max(axis=1)).all()  # no target inside its input window
        np.testing.assert_array_equal(x[:, -1], origin)
        np.testing.assert_array_equal(y, origin[:, None] + np.arange(1, horizon + 1))
    assert targets[0].max() < val_start <= targets[1].min()  # no target in two periods
    assert targets[1].max() < test_start <= targets[2].min()
    assert len(split.origin_index.train) == val_start - window - horizon + 1  # the H - 1 straddlers dropped
    assert split.origin_index.val[0] == val_start - 1 and split.origin_index.test[0] == test_start - 1


def test_scaler_sees_the_training_period_only():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(300, 2)).astype(np.float32)
    split = data.multistep_dataset(values, 10, 5)
    n_train = split.boundaries[0]
    np.testing.assert_allclose(split.scaler.mean, values[:n_train].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(split.scaler.std, values[:n_train].std(axis=0), rtol=1e-5)
    future = values.copy()
    future[n_train:] += 1000.0  # change only the future
    changed = data.multistep_dataset(future, 10, 5)
    for a, b in zip(split.train, changed.train):
        np.testing.assert_array_equal(a, b)  # training windows are untouched by anything after n_train
    assert changed.test[1].mean() > 100  # ... while the future, scaled by the past, is far off


def test_persistence_and_errors():
    x = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    forecast = data.multistep_persistence(x, 5, [2])
    assert forecast.shape == (2, 5, 1)
    np.testing.assert_array_equal(forecast[:, :, 0], [[11] * 5, [23] * 5])
    with pytest.raises(ValueError, match="leave no validation window"):
        data.multistep_dataset(np.arange(40.0), 5, 10, fractions=(0.7, 0.15, 0.15))
