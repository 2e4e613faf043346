"""Argument checks shared across rnnlab: every error names what was expected and what was received."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np


def check_seed(seed: Any) -> int:
    """Return ``seed`` as an int, or raise ``TypeError`` naming the bad value.

    ``bool`` is rejected although it subclasses ``int``: ``seed=True`` is always a mistake.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, received {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be an int >= 0, received {seed}")
    return int(seed)


def check_optional_seed(seed: Any) -> int | None:
    """Accept None (fresh entropy from the operating system) or an int >= 0 as a random seed."""
    return None if seed is None else check_seed(seed)


def make_rng(seed: Any) -> np.random.Generator:
    """Check ``seed`` and return a fresh ``numpy.random.Generator`` built from it."""
    return np.random.default_rng(check_seed(seed))


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an int ``>= minimum``.

    Raises:
        TypeError: if ``value`` is not an int (floats such as ``10.0`` included).
        ValueError: if ``value < minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, received {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, received {value}")
    return int(value)


def check_float(name: str, value: Any, minimum: float = 0.0, *, strict: bool = False) -> float:
    """Return ``value`` as a float if it is a real number ``>= minimum`` (``> minimum`` if ``strict``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, received {type(value).__name__} {value!r}")
    value = float(value)
    too_small = value <= minimum if strict else value < minimum
    if too_small or not np.isfinite(value):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {relation} {minimum}, received {value}")
    return value


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    if value not in choices:
        raise ValueError(f"unknown {name}: expected one of {list(choices)}, received {value!r}")
    return value


def check_fractions(fractions: Any) -> tuple[float, float, float]:
    """Check (train, val, test) fractions: three numbers > 0 that sum to 1."""
    try:
        parts = tuple(float(f) for f in fractions)
    except TypeError:
        raise TypeError(f"fractions must be a sequence of 3 numbers, received {fractions!r}") from None
    if len(parts) != 3 or min(parts) <= 0 or abs(sum(parts) - 1.0) > 1e-6:
        raise ValueError(
            f"fractions must be 3 numbers > 0 summing to 1 (train, val, test), received {fractions!r}"
        )
    return parts[0], parts[1], parts[2]


# Arrays (the scratch models): real numbers, float32/float64, (batch, time, input_size).

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype: Any) -> np.dtype:
    """Return ``dtype`` as a NumPy dtype, which must be float32 or float64."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from error
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


def as_float_array(value: object, name: str, dtype: np.dtype) -> np.ndarray:
    """Convert real numeric input to ``dtype``; refuse strings, objects and complex numbers."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers, got an array of dtype {array.dtype} "
            f"(kind {array.dtype.kind!r})"
        )
    return np.ascontiguousarray(array, dtype=dtype)


def check_shape(array: np.ndarray, expected: tuple[int, ...], name: str) -> None:
    """Raise ValueError unless ``array.shape == expected``."""
    if array.shape != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)}, got {array.shape}")


def check_sequence(x: object, input_size: int, dtype: np.dtype, name: str = "x") -> np.ndarray:
    """Validate a batch of sequences of shape (batch, time, input_size) and cast it to ``dtype``."""
    array = as_float_array(x, name, dtype)
    if array.ndim != 3:
        raise ValueError(
            f"{name} must be 3-D (batch, time, input_size={input_size}), "
            f"got {array.ndim}-D array of shape {array.shape}"
        )
    if array.shape[2] != input_size:
        raise ValueError(
            f"{name} must have shape (batch, time, {input_size}), got {array.shape}: "
            f"last dimension {array.shape[2]} is not input_size={input_size}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} needs at least one sequence and one time step, got shape {array.shape}")
    return array


# Variable lengths, dropout rates and flags (the scratch stacks' keywords).


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (NumPy bools included), else raise ``TypeError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float in [0, 1), the range of a dropout rate."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), received {type(value).__name__} {value!r}")
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), received {value}")
    return value


def check_lengths(lengths: Any, batch: int, time: int, name: str = "lengths") -> np.ndarray | None:
    """Validate per-sequence lengths: None, or B integers in 1..T; returns an int64 array (B,)."""
    if lengths is None:
        return None
    array = np.asarray(lengths)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {array.dtype}")
    if array.shape != (batch,):
        raise ValueError(f"{name} must have shape ({batch},) (one length per sequence), got {array.shape}")
    if array.min() < 1 or array.max() > time:
        raise ValueError(
            f"{name} must lie in 1..{time} (the padded length T), got values from {array.min()} to {array.max()}"
        )
    return array.astype(np.int64)
