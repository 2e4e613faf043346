"""Forecast evaluation: the Diebold–Mariano test, and walk-forward forecasts from statsmodels models.

* ``diebold_mariano``: are two forecasts equally accurate? The statistic of Diebold and Mariano
  (1995) on the loss differential, with the long-run variance of an h-step forecast and the
  small-sample correction of Harvey, Leybourne and Newbold (1997).
* ``fit_arima``, ``fit_exponential_smoothing``: statsmodels state-space models fitted once, on a
  training window, with their known warnings caught at the source and their convergence checked.
* ``statespace_multistep``: the 1..H-step forecasts from every origin of a series, from one pass of
  the Kalman filter with fixed parameters (``results.apply(series)``), without refitting.

Shapes: a series is (n,); h-step forecasts from every origin are (n - H, H), row t forecasting
steps t + 1 .. t + H from the data up to step t.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnlab._checks import check_choice, check_int

LOSSES = ("squared", "absolute")
KERNELS = ("rectangular", "bartlett")


@dataclass(frozen=True)
class DieboldMariano:
    """Result of ``diebold_mariano``.

    Attributes:
        statistic: DM (or HLN-corrected DM); negative when forecast a has the smaller loss.
        p_value: two-sided, from Student's t with n - 1 degrees of freedom (corrected) or N(0, 1).
        mean_difference: mean of d_t = loss(e_a,t) - loss(e_b,t).
        n, horizon: number of forecasts, and the h used for the variance and the correction.
        kernel: the lag window actually used ("bartlett" if the rectangular estimate was <= 0).
    """

    statistic: float
    p_value: float
    mean_difference: float
    n: int
    horizon: int
    kernel: str


def long_run_variance(d: np.ndarray, lags: int, kernel: str = "rectangular") -> float:
    """Estimate of the spectral density at 0 of ``d`` (n,): γ_0 + 2 Σ_{k=1..lags} w_k γ_k.

    γ_k = (1/n) Σ_{t>k} (d_t - d̄)(d_{t-k} - d̄); w_k = 1 (rectangular, Diebold and Mariano) or
    1 - k / (lags + 1) (Bartlett, Newey and West; never negative).
    """
    d = np.asarray(d, dtype=np.float64)
    check_choice("kernel", kernel, KERNELS)
    lags = check_int("lags", lags, minimum=0)
    centred = d - d.mean()
    n = len(d)
    gammas = [centred[k:] @ centred[:n - k] / n for k in range(min(lags, n - 1) + 1)]
    weights = [1.0 if kernel == "rectangular" else 1.0 - k / (lags + 1) for k in range(len(gammas))]
    return float(gammas[0] + 2 * sum(w * g for w, g in zip(weights[1:], gammas[1:])))


def diebold_mariano(
    errors_a: np.ndarray,
    errors_b: np.ndarray,
    horizon: int = 1,
    *,
    loss: str = "squared",
    kernel: str = "rectangular",
    correction: bool = True,
) -> DieboldMariano:
    """Test the null hypothesis that forecasts a and b are equally accurate.

    With d_t = L(e_a,t) - L(e_b,t) over n forecasts, DM = d̄ / sqrt(V / n), V the long-run variance
    of d with h - 1 lags (errors of optimal h-step forecasts are MA(h - 1)). With ``correction``
    (Harvey, Leybourne and Newbold), DM* = DM · sqrt((n + 1 - 2h + h(h - 1)/n) / n), compared with
    Student's t with n - 1 degrees of freedom. A rectangular estimate V <= 0 (possible for h > 1)
    falls back to Bartlett weights, as the result's ``kernel`` records.

    Args:
        errors_a, errors_b: (n,) forecast errors (actual - forecast) of the two forecasts, aligned;
            or (n, K) for K series forecast from the same n origins, their losses summed per origin.
        horizon: h, the steps ahead of each forecast.
        loss: "squared" or "absolute".
        kernel: "rectangular" (the papers') or "bartlett" (Newey–West).
        correction: apply the small-sample correction.

    Raises:
        ValueError: for mismatched or too short inputs, or a loss differential with no variance
            (identical forecasts, for instance), for which the test is undefined.
    """
    a, b = np.asarray(errors_a, dtype=np.float64), np.asarray(errors_b, dtype=np.float64)
    if a.ndim not in (1, 2) or a.shape != b.shape:
        raise ValueError(f"errors_a and errors_b must be (n,) or (n, K) arrays of one shape, received shapes "
                         f"{a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("forecast errors must be finite; received NaN or infinity")
    horizon = check_int("horizon", horizon)
    check_choice("loss", loss, LOSSES)
    check_choice("kernel", kernel, KERNELS)
    n = len(a)
    if n < 2 * horizon + 1:
        raise ValueError(f"need at least 2 * horizon + 1 = {2 * horizon + 1} forecasts, received {n}")
    d = (a**2 - b**2) if loss == "squared" else (np.abs(a) - np.abs(b))
    if d.ndim == 2:
        d = d.sum(axis=1)  # K series forecast together: the loss of origin t sums over them
    scale = float(np.abs(d).max())
    if scale == 0.0 or np.ptp(d) <= 1e-12 * scale:
        raise ValueError("the loss differential is constant (identical forecasts?): the DM test is undefined")
    variance = long_run_variance(d, horizon - 1, kernel)
    if variance <= 0:
        kernel, variance = "bartlett", long_run_variance(d, horizon - 1, "bartlett")
    statistic = d.mean() / math.sqrt(variance / n)
    if correction:
        statistic *= math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    from scipy import stats  # lazy: scipy comes with statsmodels and scikit-learn (rnnlab[data])

    distribution = stats.t(df=n - 1) if correction else stats.norm()
    p_value = float(2 * distribution.sf(abs(statistic)))
    return DieboldMariano(float(statistic), p_value, float(d.mean()), n, horizon, kernel)


def _quietly(fit: Any) -> Any:
    """Run ``fit()`` with statsmodels' optimiser warnings caught; convergence is checked by the caller."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Non-(stationary|invertible) starting", category=UserWarning)
        return fit()


def _checked(results: Any, what: str) -> Any:
    if not results.mle_retvals.get("converged", False):
        raise RuntimeError(f"{what}: maximum likelihood did not converge ({results.mle_retvals})")
    return results


def fit_arima(train: np.ndarray, order: tuple[int, int, int] = (1, 0, 0), trend: str = "c") -> Any:
    """``statsmodels`` ARIMA fitted by maximum likelihood on ``train`` (n,); raises if it did not converge.

    Scale the series to a variance near 1 first (percent returns, say): the optimiser struggles
    with variances of 1e-4.
    """
    from statsmodels.tsa.arima.model import ARIMA

    train = _as_series(train)
    return _checked(_quietly(lambda: ARIMA(train, order=order, trend=trend).fit()), f"ARIMA{order}")


def fit_exponential_smoothing(train: np.ndarray, trend: bool = False) -> Any:
    """``statsmodels`` state-space exponential smoothing (simple, or Holt's with ``trend``) fitted on ``train`` (n,)."""
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    train = _as_series(train)
    fit = lambda: ExponentialSmoothing(train, trend=trend).fit(disp=False)
    return _checked(_quietly(fit), "exponential smoothing")


def _as_series(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or not np.isfinite(values).all():
        raise ValueError(f"expected a finite 1-D series (n,), received shape {values.shape}")
    return values


def statespace_multistep(results: Any, horizon: int) -> np.ndarray:
    """The 1..H-step forecasts from every origin, from one Kalman-filter pass with fixed parameters.

    Fit on the training window, then ``results.apply(whole_series)`` (no refit) and pass that here:
    the filter at step t has seen y_0 .. y_t only, so row t is a genuine forecast from origin t.
    Uses a_{t+k+1|t} = T a_{t+k|t} + c and ŷ_{t+k} = Z a_{t+k|t} + d_{t+k} from the filter's
    predicted states; the system matrices must not vary over time (an observation intercept may).

    Args:
        results: a statsmodels state-space results object (``ARIMA``, ``ExponentialSmoothing``, ...).
        horizon: H.

    Returns:
        (n - H, H) float64; entry [t, k - 1] forecasts y_{t+k} from data up to y_t.
    """
    horizon = check_int("horizon", horizon)
    fr = results.filter_results
    if fr.k_endog != 1:
        raise ValueError(f"expected a univariate model, received k_endog={fr.k_endog}")
    for name in ("design", "transition", "state_intercept"):
        if getattr(fr, name).shape[-1] != 1:
            raise ValueError(f"statespace_multistep needs a time-invariant {name}; this model's varies over time")
    n = fr.nobs
    if n <= horizon:
        raise ValueError(f"a series of {n} steps has no origin with {horizon} observed steps after it")
    design, transition = fr.design[0, :, 0], fr.transition[:, :, 0]
    state_intercept = fr.state_intercept[:, 0]
    intercept = fr.obs_intercept[0]  # (1,) constant or (n,) over time
    origins = np.arange(n - horizon)
    state = fr.predicted_state[:, origins + 1]  # a_{t+1|t}, (k_states, n - H)
    out = np.empty((n - horizon, horizon))
    for k in range(horizon):
        d = intercept[0] if len(intercept) == 1 else intercept[origins + k + 1]
        out[:, k] = design @ state + d
        state = transition @ state + state_intercept[:, None]
    return out
