"""Weight initialisers a reader can reason about.

* Xavier/Glorot uniform (Glorot & Bengio, 2010) for input weights: keeps the variance of
  ``x W`` close to that of ``x`` when ``fan_in + fan_out`` is split evenly.
* Orthogonal (Saxe et al., 2014) for recurrent weights: every singular value is 1, so
  repeated multiplication by ``U`` neither blows up nor shrinks a vector at initialisation.
* Zeros for biases (the LSTM sets its forget-gate bias to 1, see :class:`rnnlab.scratch.LSTM`).
"""

from __future__ import annotations

import numpy as np


def xavier_uniform(rng: np.random.Generator, fan_in: int, fan_out: int, dtype: np.dtype) -> np.ndarray:
    """Uniform(-a, a) with a = sqrt(6 / (fan_in + fan_out)); shape (fan_in, fan_out)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype)


def orthogonal(rng: np.random.Generator, size: int, dtype: np.dtype) -> np.ndarray:
    """A random orthogonal matrix of shape (size, size), uniform over the orthogonal group."""
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    # Fixing the signs of R's diagonal makes Q uniformly (Haar) distributed.
    q *= np.sign(np.diag(r))
    return q.astype(dtype)


def gate_blocks(init_one, gates: int) -> np.ndarray:
    """Concatenate ``gates`` independently initialised blocks along the columns."""
    return np.concatenate([init_one() for _ in range(gates)], axis=1)
