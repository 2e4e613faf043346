"""Drawing the next token from a model's logits: temperature, top-k and top-p, in NumPy.

A language model gives logits s (K,) for the next token, K the vocabulary size (the book's
notation). Sampling with temperature T_s draws from softmax(s / T_s): T_s < 1 sharpens the
distribution towards the likeliest tokens, T_s > 1 flattens it towards uniform, and T_s -> 0 is
greedy decoding (argmax). Top-k sampling first keeps only the k largest logits and renormalises
over them (Fan, Lewis and Dauphin, 2018, "Hierarchical Neural Story Generation"). Top-p, or
nucleus, sampling keeps the smallest set of the likeliest tokens whose probabilities add up to
at least p and renormalises (Holtzman, Buys, Du, Forbes and Choi, 2020, "The Curious Case of
Neural Text Degeneration"): the number of tokens kept adapts to how peaked the distribution is.
Both cut off the long tail of unlikely tokens. The three compose in this order: temperature,
then top-k, then top-p on the resulting distribution. Graves (2013) and Karpathy (2015)
generate text character by character this way.

One draw uses exactly one uniform number from ``rng`` (inverse-CDF sampling), so two models that
give the same probabilities, driven by generators with the same seed, draw the same tokens.
Works on any framework's logits once they are NumPy arrays; computes in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlab._checks import check_float, check_int

__all__ = ["next_token_probs", "sample_next"]


def next_token_probs(
    logits: Any, *, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> np.ndarray:
    """The distribution that ``sample_next`` draws from: tempered softmax, then top-k, then top-p.

    Args:
        logits: s, (..., K) unnormalised log-probabilities (finite).
        temperature: T_s >= 0; 0 puts all mass on the largest logit (the first one on ties).
        top_k: keep only the k largest logits (1 <= k <= K); None keeps all K. On ties at the
            k-th place, which of the tied tokens are kept is unspecified, but exactly k are.
        top_p: nucleus threshold in (0, 1]: after temperature and top-k, keep the smallest set
            of the likeliest tokens whose probabilities add up to at least ``top_p`` (in float64;
            on ties at the boundary, which tied token is kept is unspecified) and renormalise.
            1.0 and None keep everything.

    Returns:
        (..., K) float64 probabilities, each row summing to 1, zero outside the kept tokens.
    """
    s = np.asarray(logits, dtype=np.float64)
    if s.ndim == 0:
        raise ValueError(f"logits must have a last axis of size K, received a scalar {s!r}")
    if not np.isfinite(s).all():
        raise ValueError("logits must be finite, received NaN or inf")
    temperature = check_float("temperature", temperature)
    vocab_size = s.shape[-1]
    if top_k is not None:
        top_k = check_int("top_k", top_k)
        if top_k > vocab_size:
            raise ValueError(f"top_k must be <= K = {vocab_size}, received {top_k}")
    if top_p is not None:
        top_p = check_float("top_p", top_p, strict=True)
        if top_p > 1.0:
            raise ValueError(f"top_p must be in (0, 1], received {top_p}")
    if temperature == 0.0:  # greedy: the limit T_s -> 0 of softmax(s / T_s); the argmax is in every nucleus
        return np.eye(vocab_size)[s.argmax(axis=-1)]
    if top_k is not None and top_k < vocab_size:
        dropped = np.argpartition(s, vocab_size - top_k, axis=-1)[..., : vocab_size - top_k]
        s = s.copy()
        np.put_along_axis(s, dropped, -np.inf, axis=-1)  # exp(-inf) = 0: never drawn
    # Shift so the largest logit is 0 before dividing: exp never overflows, and a tiny T_s
    # sends the others to -inf (probability 0) instead of producing inf - inf = NaN.
    with np.errstate(over="ignore"):
        weights = np.exp((s - s.max(axis=-1, keepdims=True)) / temperature)
    probs = weights / weights.sum(axis=-1, keepdims=True)
    if top_p is None or top_p == 1.0:
        return probs
    return _nucleus(probs, top_p)


def _nucleus(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Keep the smallest set of the likeliest tokens whose probability reaches ``top_p``; renormalise.

    Holtzman et al. (2020): sort the probabilities in decreasing order and keep a token when
    the mass of the tokens before it is still below ``top_p``, so the last kept token is the one
    that makes the running sum reach ``top_p``. The likeliest token is always kept.
    """
    order = np.argsort(-probs, axis=-1, kind="stable")  # (..., K) likeliest first
    ranked = np.take_along_axis(probs, order, axis=-1)
    mass_before = np.cumsum(ranked, axis=-1) - ranked  # (..., K) probability of the tokens ranked above
    keep = np.empty(probs.shape, dtype=bool)
    np.put_along_axis(keep, order, mass_before < top_p, axis=-1)
    kept = np.where(keep, probs, 0.0)
    return kept / kept.sum(axis=-1, keepdims=True)


def sample_next(
    logits: Any,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator,
) -> int | np.ndarray:
    """Draw the next token id from ``next_token_probs(logits, temperature=, top_k=, top_p=)``.

    Inverse-CDF sampling: one uniform ``u = rng.random()`` per row picks the first id whose
    cumulative probability exceeds ``u``.

    Args:
        logits: s, (K,) or (B, K) logits.
        temperature: T_s >= 0 (0 is greedy).
        top_k: keep the k largest logits, or None for all.
        top_p: keep the smallest set of the likeliest tokens with probability >= top_p, or None.
        rng: a ``numpy.random.Generator``; one draw per row is taken from it.

    Returns:
        An int for (K,) logits; (B,) int64 ids for (B, K) logits.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, received {type(rng).__name__}")
    probs = next_token_probs(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    if probs.ndim > 2:
        raise ValueError(f"logits must be (K,) or (B, K), received shape {probs.shape}")
    uniform = rng.random(probs.shape[:-1])  # () or (B,)
    cdf = np.cumsum(probs, axis=-1)
    ids = (cdf <= uniform[..., None]).sum(axis=-1)  # first index with cdf > u
    # Rounding can leave cdf[-1] a hair below u; fall back to the last token with probability > 0.
    last_allowed = probs.shape[-1] - 1 - np.argmax(probs[..., ::-1] > 0, axis=-1)
    ids = np.minimum(ids, last_allowed).astype(np.int64)
    return int(ids) if ids.ndim == 0 else ids
