"""Argument checks shared by the scratch modules: every error names what was expected and what came."""

from __future__ import annotations

import numpy as np

from .._checks import check_int
from .._checks import check_seed as check_int_seed

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int, or raise if it is not an int >= 1."""
    return check_int(name, value, minimum=1)


def check_seed(seed: object) -> int | None:
    """Accept None (fresh entropy) or an int >= 0 as a random seed."""
    return None if seed is None else check_int_seed(seed)


def check_float_dtype(dtype: object) -> np.dtype:
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
