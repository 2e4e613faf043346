"""Count-based n-gram language models over token ids: add-k and interpolated Kneser–Ney.

An n-gram model of order n predicts the next token y from its context q, the previous n - 1
tokens, using only counts from a training stream of ids in 0..K-1 (K = the vocabulary size, as
in the book's notation; c(qy) is how often the tokens q followed by y occur in training, and
c(q) = sum over y of c(qy)). Two smoothings, so that no held-out token gets probability zero:

* ``AdditiveNGram``: add-k (Laplace for k = 1), p(y | q) = (c(qy) + k) / (c(q) + kK).
* ``KneserNeyNGram``: interpolated modified Kneser–Ney (Kneser and Ney, 1995, "Improved
  backing-off for m-gram language modeling"; Chen and Goodman, 1999, "An empirical study of
  smoothing techniques for language modeling"), the best of the smoothings Chen and Goodman
  compared. At every order m it subtracts a discount D from each seen
  count (three discounts, for counts 1, 2 and 3+, estimated from the counts of counts), gives
  the freed mass to the order m - 1 distribution, and below the top order it counts *continuation*
  counts N1+(. g), the number of distinct tokens seen before the m-gram g, instead of raw
  counts. The lowest order is interpolated with the uniform distribution 1/K.

In the Kneser–Ney model a context never seen in training backs off: it has no counts, so the
model uses the next lower order (ultimately the unigram, then uniform); add-k gives such a context
the uniform distribution. In both, a context shorter than n - 1 tokens, such as
the first positions of a window, uses the model of the order it can fill, with raw counts at that
order. Every distribution sums to 1 over the K tokens.

N-grams are stored as base-K integer codes in sorted arrays and looked up with
``numpy.searchsorted``, so scoring B x T positions is a handful of vectorised searches per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnlab._checks import check_float, check_int

__all__ = ["AdditiveNGram", "KneserNeyNGram"]

_MAX_CODE = 2**62  # n-gram codes K**n must stay well inside int64


@dataclass(frozen=True)
class _Level:
    """The counts of one order m: the m-grams seen (sorted codes) and their contexts.

    ``grams``/``counts``: codes of the m-grams with a count > 0 and those counts.
    ``contexts``/``totals``/``gamma``: codes of their (m-1)-gram contexts (sorted, distinct), the
    sum of the counts over each context, and the mass each context gives to the lower order
    (the sum of the discounts; 0 for add-k).
    ``discounts``: D for counts 1, 2 and 3+ (zeros for add-k).
    """

    grams: np.ndarray
    counts: np.ndarray
    contexts: np.ndarray
    totals: np.ndarray
    gamma: np.ndarray
    discounts: np.ndarray


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[i] where keys[i] == query, else 0; ``keys`` sorted and distinct."""
    index = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[index] == queries, values[index], 0)


def _check_ids(name: str, ids: Any, vocab_size: int, ndim: int) -> np.ndarray:
    """``ids`` as an int64 array of ``ndim`` dimensions with every value in 0..K-1."""
    array = np.asarray(ids)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"{name} must hold integer token ids, received dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), received shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        raise ValueError(
            f"{name} must be ids in 0..{vocab_size - 1} (K = {vocab_size}), "
            f"received values in {array.min()}..{array.max()}"
        )
    return array


class _NGram:
    """What both smoothings share: counting, the back-off recursion and the public methods."""

    def __init__(self, ids: Any, *, order: int, vocab_size: int) -> None:
        self.order = check_int("order", order)
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        if float(self.vocab_size) ** self.order >= _MAX_CODE:
            raise ValueError(
                f"order must keep K**order < 2**62 for K = {self.vocab_size}, received order {self.order}"
            )
        ids = _check_ids("ids", ids, self.vocab_size, ndim=1)
        if len(ids) < self.order:
            raise ValueError(f"ids must hold at least order = {self.order} tokens, received {len(ids)}")
        # raw[m - 1]: the distinct m-grams of the training stream (sorted codes) and their counts
        codes = ids  # (L,) the 1-gram codes are the ids themselves
        self._raw = [np.unique(codes, return_counts=True)]
        for m in range(2, self.order + 1):
            codes = codes[:-1] * self.vocab_size + ids[m - 1:]  # (L - m + 1,) base-K codes, oldest token first
            self._raw.append(np.unique(codes, return_counts=True))

    # ------------------------------------------------------------------ smoothing-specific parts
    def _levels(self, top: int) -> list[_Level]:
        """The count tables of orders 1..top used when order ``top`` is the highest one."""
        raise NotImplementedError

    def _combine(self, level: _Level, count: np.ndarray, total: np.ndarray, gamma: np.ndarray,
                 lower: np.ndarray) -> np.ndarray:
        """p_m(y | q) from c(qy), c(q) (0 for an unseen context), gamma(q) and p_{m-1}(y | q'); all (B,)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the shared recursion
    def _prob(self, contexts: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """p(target | context) for contexts (B, k) of one length k and targets (B,); float64 (B,)."""
        vocab_size = self.vocab_size
        width = min(contexts.shape[1], self.order - 1)  # only the last n - 1 tokens matter
        levels = self._levels(width + 1)
        prob = np.full(len(targets), 1.0 / vocab_size)  # order 0: uniform
        context_code = np.zeros(len(targets), dtype=np.int64)  # code of the last m - 1 context tokens
        for m, level in enumerate(levels, start=1):
            if m > 1:
                context_code = contexts[:, -(m - 1)] * vocab_size ** (m - 2) + context_code
            total = _lookup(level.contexts, level.totals, context_code).astype(np.float64)
            gamma = _lookup(level.contexts, level.gamma, context_code)
            count = _lookup(level.grams, level.counts, context_code * vocab_size + targets).astype(np.float64)
            prob = self._combine(level, count, total, gamma, prob)
        return prob

    def _all_levels(self) -> list[_Level]:
        """Every count table the model holds."""
        raise NotImplementedError

    # ------------------------------------------------------------------ public API
    @property
    def num_counts(self) -> int:
        """How many counts the model stores: one per distinct n-gram of every table it uses."""
        return int(sum(len(level.grams) for level in self._all_levels()))

    def log_prob(self, contexts: Any, targets: Any) -> np.ndarray:
        """Natural log of p(target | context) for a batch of equally long contexts.

        Args:
            contexts: (B, k) ids, any k >= 0; only the last n - 1 are used, and a shorter context
                uses the model of order k + 1.
            targets: (B,) ids.

        Returns:
            (B,) float64 log-probabilities.
        """
        contexts = _check_ids("contexts", contexts, self.vocab_size, ndim=2)
        targets = _check_ids("targets", targets, self.vocab_size, ndim=1)
        if len(contexts) != len(targets):
            raise ValueError(
                f"contexts and targets must have the same length B, received {len(contexts)} and {len(targets)}"
            )
        return np.log(self._prob(contexts, targets))

    def probs(self, context: Any) -> np.ndarray:
        """The next-token distribution after one context, or after each of a batch of contexts.

        Args:
            context: (k,) ids, or (B, k) for a batch.

        Returns:
            (K,) or (B, K) float64 probabilities, each row summing to 1.
        """
        context = np.asarray(context)
        single = context.ndim == 1
        batch = _check_ids("context", context[None] if single else context, self.vocab_size, ndim=2)
        vocab_size = self.vocab_size
        rows = np.repeat(batch, vocab_size, axis=0)  # (B*K, k): every context once per candidate
        candidates = np.tile(np.arange(vocab_size), len(batch))  # (B*K,)
        result = self._prob(rows, candidates).reshape(len(batch), vocab_size)
        return result[0] if single else result

    def nll(self, inputs: Any, targets: Any) -> np.ndarray:
        """Negative log-likelihood of every target of next-token windows, context inside the window.

        Position t of a window predicts ``targets[:, t]`` from ``inputs[:, : t + 1]`` (its last
        n - 1 ids): the same characters an RNN that starts each window from h_0 = 0 has read.

        Args:
            inputs: (B, T) ids; targets: (B, T) ids, ``targets[:, t]`` follows ``inputs[:, t]``.

        Returns:
            (B, T) float64, -log p(targets[b, t] | inputs[b, : t + 1]).
        """
        inputs = _check_ids("inputs", inputs, self.vocab_size, ndim=2)
        targets = _check_ids("targets", targets, self.vocab_size, ndim=2)
        if inputs.shape != targets.shape:
            raise ValueError(
                f"inputs and targets must have the same shape, received {inputs.shape} and {targets.shape}"
            )
        batch, time = inputs.shape
        full = self.order - 1  # context length that fills the model: the last n - 1 inputs
        out = np.empty((batch, time))
        short = min(max(full - 1, 0), time)  # positions t < n - 2 have read fewer than n - 1 inputs
        for t in range(short):  # one context length per position
            out[:, t] = -np.log(self._prob(inputs[:, : t + 1], targets[:, t]))
        if time > short:  # every later position at once, as B * (T - short) contexts of n - 1 ids
            if full:
                contexts = np.lib.stride_tricks.sliding_window_view(inputs, full, axis=1)  # (B, T - short, n - 1)
            else:
                contexts = np.zeros((batch, time, 0), dtype=np.int64)
            nll = -np.log(self._prob(contexts.reshape(batch * (time - short), full), targets[:, short:].reshape(-1)))
            out[:, short:] = nll.reshape(batch, time - short)
        return out


class AdditiveNGram(_NGram):
    """An n-gram model with add-k smoothing: p(y | q) = (c(qy) + k) / (c(q) + kK).

    With k = 1 this is Laplace's add-one rule. Order 1 is the smoothed unigram (character
    frequencies), order 2 the smoothed bigram. A context never seen in training has c(q) = 0,
    so the formula gives it the uniform distribution 1/K; only a context shorter than n - 1
    tokens uses a lower order.

    Args:
        ids: (L,) training ids in 0..K-1.
        order: n >= 1.
        vocab_size: K >= 2.
        k: the pseudo-count added to every n-gram, > 0.
    """

    def __init__(self, ids: Any, *, order: int, vocab_size: int, k: float = 1.0) -> None:
        self.k = check_float("k", k, strict=True)
        super().__init__(ids, order=order, vocab_size=vocab_size)
        self._tables = []
        for grams, counts in self._raw:
            contexts, inverse = np.unique(grams // self.vocab_size, return_inverse=True)
            totals = np.bincount(inverse, weights=counts).astype(np.int64)
            self._tables.append(_Level(grams, counts, contexts, totals, np.zeros(len(contexts)), np.zeros(3)))

    def _levels(self, top: int) -> list[_Level]:
        return self._tables[:top]

    def _all_levels(self) -> list[_Level]:
        return self._tables

    def _combine(self, level, count, total, gamma, lower):
        return (count + self.k) / (total + self.k * self.vocab_size)  # uniform when c(q) = 0


def _modified_discounts(counts: np.ndarray) -> np.ndarray:
    """Chen and Goodman's D1, D2, D3+ from the counts of counts n_1..n_4 of one order.

    Y = n1 / (n1 + 2 n2), D_r = r - (r + 1) Y n_{r+1} / n_r. Where the counts of counts are too
    sparse for the formula (a tiny corpus), each D_r falls back to the single discount Y, or 0.5.
    """
    n = np.array([(counts == r).sum() for r in (1, 2, 3, 4)], dtype=np.float64)
    y = n[0] / (n[0] + 2 * n[1]) if n[0] + 2 * n[1] > 0 else 0.5
    fallback = y if 0 < y < 1 else 0.5
    discounts = np.full(3, fallback)
    for r in (1, 2, 3):
        if n[r - 1] > 0:
            d = r - (r + 1) * y * n[r] / n[r - 1]
            if 0 < d <= r:  # a discount must leave the count >= 0 and free some mass
                discounts[r - 1] = d
    return discounts


class KneserNeyNGram(_NGram):
    """An interpolated modified Kneser–Ney n-gram model (Chen and Goodman, 1999).

    At order m, for context q (the last m - 1 tokens) and next token y,

        p_m(y | q) = max(c(qy) - D(c(qy)), 0) / c(q) + gamma(q) / c(q) * p_{m-1}(y | q'),

    where q' drops the oldest token of q, c(q) = sum over y of c(qy), D(c) is D1, D2 or D3+ for
    counts 1, 2 and >= 3, and gamma(q) = D1 N1(q .) + D2 N2(q .) + D3+ N3+(q .) (N_r(q .): the
    number of tokens seen after q exactly r times) is exactly the mass the discounts removed, so
    every distribution sums to 1. c is the raw count at the highest order and the continuation
    count N1+(. qy) (distinct tokens seen before qy) below it; p_0 is uniform, 1/K. An unseen
    context (c(q) = 0) uses p_{m-1}. Order 1 is a discounted unigram interpolated with the uniform
    distribution; it ignores the context.

    Args:
        ids: (L,) training ids in 0..K-1.
        order: n >= 1.
        vocab_size: K >= 2.
    """

    def __init__(self, ids: Any, *, order: int, vocab_size: int) -> None:
        super().__init__(ids, order=order, vocab_size=vocab_size)
        vocab_size = self.vocab_size
        self._raw_levels = [self._level(grams, counts) for grams, counts in self._raw]
        # continuation counts of the m-grams: distinct tokens seen before them (from the (m+1)-grams)
        self._continuation_levels = []
        for m in range(1, self.order):
            longer = self._raw[m][0]  # distinct (m+1)-gram codes
            grams, counts = np.unique(longer % vocab_size**m, return_counts=True)  # drop the oldest token
            self._continuation_levels.append(self._level(grams, counts))

    def _level(self, grams: np.ndarray, counts: np.ndarray) -> _Level:
        discounts = _modified_discounts(counts)
        contexts, inverse = np.unique(grams // self.vocab_size, return_inverse=True)
        totals = np.bincount(inverse, weights=counts).astype(np.int64)
        removed = discounts[np.minimum(counts, 3) - 1]  # D(c) of every seen m-gram
        gamma = np.bincount(inverse, weights=removed)
        return _Level(grams, counts, contexts, totals, gamma, discounts)

    @property
    def discounts(self) -> np.ndarray:
        """(n, 3) D1, D2, D3+ of each order's highest-order (raw-count) table, order 1 first."""
        return np.array([level.discounts for level in self._raw_levels])

    def _levels(self, top: int) -> list[_Level]:
        return self._continuation_levels[: top - 1] + [self._raw_levels[top - 1]]

    def _all_levels(self) -> list[_Level]:
        return self._raw_levels + self._continuation_levels

    def _combine(self, level, count, total, gamma, lower):
        discount = np.where(count > 0, level.discounts[np.clip(count, 1, 3).astype(np.int64) - 1], 0.0)
        seen = total > 0
        interpolated = (np.maximum(count - discount, 0.0) + gamma * lower) / np.where(seen, total, 1.0)
        return np.where(seen, interpolated, lower)  # an unseen context backs off: p_m = p_{m-1}
