"""Tests of rnnlab.forecast: the Diebold–Mariano test and walk-forward state-space forecasts."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

pytest.importorskip("statsmodels")
from scipy import stats

from rnnlab.forecast import (
    diebold_mariano,
    fit_arima,
    fit_exponential_smoothing,
    long_run_variance,
    statespace_multistep,
)

# A loss differential worked out by hand: d = |e_a| - |e_b| = [1, -1, 3, 0, 2], mean 1,
# deviations [0, -2, 2, -1, 1], gamma_0 = 10/5 = 2, gamma_1 = (0 - 4 - 2 - 1)/5 = -1.4.
E_A = np.array([1.0, 0.0, 3.0, 0.0, 2.0])
E_B = np.array([0.0, 1.0, 0.0, 0.0, 0.0])


def test_dm_by_hand_one_step():
    # V = gamma_0 = 2, DM = 1 / sqrt(2/5); HLN factor sqrt((5 + 1 - 2)/5) = sqrt(0.8): DM* = sqrt(2).
    result = diebold_mariano(E_A, E_B, 1, loss="absolute")
    assert result.statistic == pytest.approx(math.sqrt(2))
    assert result.p_value == pytest.approx(2 * stats.t(df=4).sf(math.sqrt(2)))
    assert result.mean_difference == pytest.approx(1.0) and result.n == 5 and result.kernel == "rectangular"
    plain = diebold_mariano(E_A, E_B, 1, loss="absolute", correction=False)
    assert plain.statistic == pytest.approx(1 / math.sqrt(0.4))
    assert plain.p_value == pytest.approx(2 * stats.norm.sf(1 / math.sqrt(0.4)))


def test_dm_by_hand_two_steps_falls_back_to_bartlett():
    # Rectangular V = 2 + 2(-1.4) = -0.8 < 0, so Bartlett: V = 2 + 2(0.5)(-1.4) = 0.6, DM = 1/sqrt(0.12);
    # HLN factor sqrt((5 + 1 - 4 + 2/5)/5) = sqrt(0.48): DM* = sqrt(0.48/0.12) = 2.
    assert long_run_variance(E_A - E_B, 1) == pytest.approx(-0.8)
    assert long_run_variance(E_A - E_B, 1, "bartlett") == pytest.approx(0.6)
    result = diebold_mariano(E_A, E_B, 2, loss="absolute")
    assert result.kernel == "bartlett" and result.statistic == pytest.approx(2.0)


def test_dm_rectangular_two_steps_and_squared_loss():
    # d = e_a^2 = [1, 2, 3, 4, 10]: mean 4, deviations [-3, -2, -1, 0, 6], gamma_0 = 10, gamma_1 = 8/5.
    e_a, e_b = np.sqrt([1.0, 2.0, 3.0, 4.0, 10.0]), np.zeros(5)
    result = diebold_mariano(e_a, e_b, 2, correction=False)
    assert result.kernel == "rectangular"
    assert result.statistic == pytest.approx(4 / math.sqrt((10 + 2 * 1.6) / 5))


def test_dm_properties_identical_swapped_and_pooled():
    rng = np.random.default_rng(0)
    e_a, e_b = rng.normal(size=(2, 120))
    with pytest.raises(ValueError, match="constant"):
        diebold_mariano(e_a, e_a.copy(), 3)
    forward, backward = diebold_mariano(e_a, e_b, 3), diebold_mariano(e_b, e_a, 3)
    assert backward.statistic == pytest.approx(-forward.statistic)
    assert backward.p_value == pytest.approx(forward.p_value)
    # (n, K) errors: the same as the (n,) series whose squared error is the sum over K.
    pair_a, pair_b = rng.normal(size=(2, 120, 2))
    pooled = diebold_mariano(pair_a, pair_b, 2)
    norms = diebold_mariano(np.linalg.norm(pair_a, axis=1), np.linalg.norm(pair_b, axis=1), 2)
    assert pooled.statistic == pytest.approx(norms.statistic)
    # A much better forecast is detected, with the negative sign for "a is better".
    strong = diebold_mariano(0.5 * e_b, e_b, 1)
    assert strong.statistic < -5 and strong.p_value < 1e-6


def test_dm_matches_statsmodels_newey_west():
    from statsmodels.tsa.stattools import diebold_mariano_test

    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    f_a, f_b = y + rng.normal(size=200), y + 1.1 * rng.normal(size=200)
    for h in (1, 3):
        reference = diebold_mariano_test(y, f_a, f_b, lags=h - 1, harvey_adj=True, horizon=h)
        ours = diebold_mariano(y - f_a, y - f_b, h, kernel="bartlett")
        assert ours.statistic == pytest.approx(reference.statistic)
        assert ours.p_value == pytest.approx(reference.pvalue)


def test_dm_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        diebold_mariano(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="at least 2 \\* horizon \\+ 1 = 7"):
        diebold_mariano(E_A, E_B, 3)
    with pytest.raises(ValueError, match="finite"):
        diebold_mariano(np.array([1.0, np.nan, 2.0]), np.zeros(3))
    with pytest.raises(ValueError, match="unknown loss"):
        diebold_mariano(E_A, E_B, loss="pinball")
    with pytest.raises(TypeError, match="horizon must be an int"):
        diebold_mariano(E_A, E_B, 1.0)


def _ar1_series(n=400, phi=0.6, mu=2.0, seed=0):
    rng = np.random.default_rng(seed)
    y = np.empty(n)
    y[0] = mu
    for t in range(1, n):
        y[t] = mu + phi * (y[t - 1] - mu) + rng.normal()
    return y


def test_statespace_multistep_matches_refiltering_and_closed_form():
    y = _ar1_series()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the wrappers let no warning through
        fitted = fit_arima(y[:300], (1, 0, 0), "c")
        forward = fitted.apply(y)  # fixed parameters, filtered over the whole series
    forecasts = statespace_multistep(forward, 5)
    assert forecasts.shape == (395, 5)
    mu, phi = fitted.params[0], fitted.params[1]
    for t in (10, 299, 350, 394):
        np.testing.assert_allclose(forecasts[t], fitted.apply(y[:t + 1]).forecast(5), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(forecasts[t], mu + phi ** np.arange(1, 6) * (y[t] - mu), rtol=1e-6)


def test_exponential_smoothing_forecasts_are_flat_levels():
    y = np.cumsum(np.random.default_rng(2).normal(size=300))
    fitted = fit_exponential_smoothing(y[:200])
    forecasts = statespace_multistep(fitted.apply(y), 4)
    np.testing.assert_allclose(forecasts, forecasts[:, :1].repeat(4, axis=1))  # simple smoothing: one level
    np.testing.assert_allclose(forecasts[250], fitted.apply(y[:251]).forecast(4), rtol=1e-8)
    with pytest.raises(ValueError, match="no origin with 300 observed steps"):
        statespace_multistep(fitted.apply(y), 300)


def test_fit_wrappers_catch_optimiser_warnings_and_check_convergence():
    from types import SimpleNamespace

    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    from rnnlab import forecast

    def noisy_fit():
        warnings.warn("Maximum Likelihood optimization failed to converge", ConvergenceWarning, stacklevel=1)
        return SimpleNamespace(mle_retvals={"converged": False})

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = forecast._quietly(noisy_fit)  # the warning is caught at the source ...
    with pytest.raises(RuntimeError, match="ARIMA\\(1, 0, 0\\): maximum likelihood did not converge"):
        forecast._checked(results, "ARIMA(1, 0, 0)")  # ... and the failure is reported, not hidden
    with pytest.raises(ValueError, match="finite 1-D series"):
        fit_arima(np.zeros((3, 2)))
