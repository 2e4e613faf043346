"""Train / validation / test splits that never overlap.

Random splits go through scikit-learn's ``train_test_split`` (with ``stratify`` for class labels);
time series are split by time in :mod:`rnnlab.data.series` instead, so that no future value leaks
into training.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rnnlab._checks import check_fractions, check_int, check_seed


class Splits(NamedTuple):
    """Three disjoint parts of a data set; each is whatever the loader documents (often ``(x, y)``).

    Unpack it directly: ``(x_train, y_train), (x_val, y_val), (x_test, y_test) = splits``.
    """

    train: Any
    val: Any
    test: Any


def split_counts(n: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> tuple[int, int, int]:
    """Sizes of the (train, val, test) parts of ``n`` items; every part gets at least one item.

    Args:
        n: number of items, at least 3.
        fractions: (train, val, test) fractions, each > 0, summing to 1.

    Returns:
        (n_train, n_val, n_test), summing to ``n``.
    """
    n = check_int("n", n, minimum=3)
    _, val_frac, test_frac = check_fractions(fractions)
    n_val = max(1, round(n * val_frac))
    n_test = max(1, round(n * test_frac))
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(f"fractions {fractions} leave no training items out of n={n}")
    return n_train, n_val, n_test


def random_split(
    *arrays: np.ndarray | list,
    seed: int,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    stratify: np.ndarray | None = None,
) -> Splits:
    """Shuffle and split aligned arrays into disjoint train / val / test parts.

    Args:
        *arrays: arrays (or lists) sharing their first dimension N, e.g. ``x (N, ...)`` and ``y (N,)``.
        seed: random seed of the shuffle.
        fractions: (train, val, test) fractions, each > 0, summing to 1.
        stratify: optional class labels (N,); each part then keeps the class proportions.

    Returns:
        ``Splits`` whose parts are tuples of arrays in the order given, each with its own N.
    """
    from sklearn.model_selection import train_test_split  # lazy: scikit-learn is an optional extra

    seed = check_seed(seed)
    if not arrays:
        raise ValueError("random_split expected at least one array, received none")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"arrays must share their first dimension, received lengths {[len(a) for a in arrays]}")
    _, n_val, n_test = split_counts(n, fractions)
    index = np.arange(n)
    rest, test = train_test_split(index, test_size=n_test, random_state=seed, stratify=stratify)
    rest_labels = None if stratify is None else np.asarray(stratify)[rest]
    train, val = train_test_split(rest, test_size=n_val, random_state=seed, stratify=rest_labels)
    return Splits(*(tuple(_take(a, part) for a in arrays) for part in (train, val, test)))


def _take(items: Any, index: np.ndarray) -> Any:
    """``items[index]`` for arrays; a list of the picked items for lists (e.g. of sentences)."""
    if isinstance(items, np.ndarray):
        return items[index]
    return [items[i] for i in index]
