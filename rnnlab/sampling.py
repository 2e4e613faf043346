"""Drawing the next token from a model's logits: temperature and top-k, in NumPy.

A language model gives logits z (V,) for the next token. Sampling with temperature tau draws
from softmax(z / tau): tau < 1 sharpens the distribution towards the likeliest tokens, tau > 1
flattens it towards uniform, and tau -> 0 is greedy decoding (argmax). Top-k sampling first keeps
only the k largest logits and renormalises over them (Fan, Lewis and Dauphin, 2018,
"Hierarchical Neural Story Generation"), so that the long tail of unlikely tokens is never drawn.
Graves (2013) and Karpathy (2015) generate text character by character this way.

One draw uses exactly one uniform number from ``rng`` (inverse-CDF sampling), so two models that
give the same probabilities, driven by generators with the same seed, draw the same tokens.
Works on any framework's logits once they are NumPy arrays; computes in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlab._checks import check_float, check_int

__all__ = ["next_token_probs", "sample_next"]


def next_token_probs(logits: Any, *, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """The distribution that ``sample_next`` draws from.

    Args:
        logits: (..., V) unnormalised log-probabilities (finite).
        temperature: tau >= 0; 0 puts all mass on the largest logit (the first one on ties).
        top_k: keep only the k largest logits (1 <= k <= V); None keeps all V. On ties at the
            k-th place, which of the tied tokens are kept is unspecified, but exactly k are.

    Returns:
        (..., V) float64 probabilities, each row summing to 1, zero outside the top k.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim == 0:
        raise ValueError(f"logits must have a last axis of size V, received a scalar {z!r}")
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite, received NaN or inf")
    temperature = check_float("temperature", temperature)
    vocab_size = z.shape[-1]
    if top_k is not None:
        top_k = check_int("top_k", top_k)
        if top_k > vocab_size:
            raise ValueError(f"top_k must be <= V = {vocab_size}, received {top_k}")
    if temperature == 0.0:  # greedy: the limit tau -> 0 of softmax(z / tau)
        return np.eye(vocab_size)[z.argmax(axis=-1)]
    if top_k is not None and top_k < vocab_size:
        dropped = np.argpartition(z, vocab_size - top_k, axis=-1)[..., : vocab_size - top_k]
        z = z.copy()
        np.put_along_axis(z, dropped, -np.inf, axis=-1)  # exp(-inf) = 0: never drawn
    # Shift so the largest logit is 0 before dividing: exp never overflows, and a tiny tau
    # sends the others to -inf (probability 0) instead of producing inf - inf = NaN.
    with np.errstate(over="ignore"):
        weights = np.exp((z - z.max(axis=-1, keepdims=True)) / temperature)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_next(
    logits: Any, *, temperature: float = 1.0, top_k: int | None = None, rng: np.random.Generator
) -> int | np.ndarray:
    """Draw the next token id from ``softmax(logits / temperature)``, restricted to the top k.

    Inverse-CDF sampling: one uniform ``u = rng.random()`` per row picks the first id whose
    cumulative probability exceeds ``u``.

    Args:
        logits: (V,) or (B, V) logits.
        temperature: tau >= 0 (0 is greedy).
        top_k: keep the k largest logits, or None for all.
        rng: a ``numpy.random.Generator``; one draw per row is taken from it.

    Returns:
        An int for (V,) logits; (B,) int64 ids for (B, V) logits.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, received {type(rng).__name__}")
    probs = next_token_probs(logits, temperature=temperature, top_k=top_k)
    if probs.ndim > 2:
        raise ValueError(f"logits must be (V,) or (B, V), received shape {probs.shape}")
    uniform = rng.random(probs.shape[:-1])  # () or (B,)
    cdf = np.cumsum(probs, axis=-1)
    ids = (cdf <= uniform[..., None]).sum(axis=-1)  # first index with cdf > u
    # Rounding can leave cdf[-1] a hair below u; fall back to the last token with probability > 0.
    last_allowed = probs.shape[-1] - 1 - np.argmax(probs[..., ::-1] > 0, axis=-1)
    ids = np.minimum(ids, last_allowed).astype(np.int64)
    return int(ids) if ids.ndim == 0 else ids
