"""Synthetic recall tasks: multi-query associative recall (MQAR) and sequence copying (NumPy).

MQAR follows Arora et al. 2023, "Zoology: Measuring and Improving Recall in Efficient Language
Models" (arXiv:2312.04927): a sequence opens with ``num_pairs`` key–value pairs
``k_1 v_1 k_2 v_2 ...`` (keys unique within the sequence, drawn from one half of the vocabulary,
values from the other half), and the rest of the sequence holds queries, each a key from the
context, at random positions with a filler token in between. At a query position the target is
the value that followed that key; every other position is unscored. Each key is queried at most
once, as in the Zoology generator; here the query positions are uniform over the query region
(Zoology draws them from a power law that favours short gaps).

The copy task follows Jelassi et al. 2024, "Repeat After Me" (arXiv:2402.01032): a random string,
a separator, then the same string again; the model is scored on the repeated part.

Both generators are seeded and pure NumPy. Token arrays are ``(B, T)`` integers in
``[0, vocab_size)``; targets are ``(B, T)`` with ``-100`` wherever ``mask`` is False (the value
``torch.nn.functional.cross_entropy`` ignores by default), so they can be used as they are.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlab._checks import check_int, make_rng

__all__ = ["IGNORE_INDEX", "FILLER", "RecallBatch", "copy_task", "mqar"]

IGNORE_INDEX = -100  #: target value at unscored positions
FILLER = 0           #: the token between queries (MQAR) and the separator (copy task)


class RecallBatch(NamedTuple):
    """A batch of a recall task, a named tuple ``(tokens, targets, mask)``.

    ``tokens`` are the (B, T) int64 inputs; ``targets`` (B, T) int64 hold the token to predict
    at the scored positions and ``IGNORE_INDEX`` elsewhere; ``mask`` (B, T) bool is True at the
    scored positions.
    """

    tokens: np.ndarray
    targets: np.ndarray
    mask: np.ndarray


def _check_vocab(vocab_size: int, needed: int, what: str) -> None:
    if vocab_size < needed:
        raise ValueError(f"vocab_size must be >= {needed} for {what}, received {vocab_size}")


def mqar(
    batch_size: int,
    seq_len: int,
    num_pairs: int,
    vocab_size: int,
    *,
    num_queries: int | None = None,
    seed: int,
) -> RecallBatch:
    """Multi-query associative recall: ``num_pairs`` key–value pairs, then queries of those keys.

    Layout of one sequence (T = seq_len, P = num_pairs, Q = num_queries):
    positions ``0 .. 2P-1`` hold ``k_1 v_1 ... k_P v_P``; positions ``2P .. T-1`` hold Q queries
    (distinct keys of this sequence, at distinct random positions) and ``FILLER`` elsewhere. Keys
    come from ``1 .. vocab_size // 2 - 1`` and values from ``vocab_size // 2 .. vocab_size - 1``,
    so a token's role can be read from its value, and keys are unique within a sequence (values
    are drawn independently and may repeat).

    Args:
        batch_size: B, the number of sequences.
        seq_len: T; at least ``2 * num_pairs + num_queries``.
        num_pairs: P, key–value pairs per sequence (>= 1).
        vocab_size: V; needs at least P keys in the key half, so ``V // 2 - 1 >= P``.
        num_queries: Q, queries per sequence, 1 <= Q <= P (default P: every key is queried once).
        seed: seed of the NumPy generator; the same seed gives the same batch.

    Returns:
        ``RecallBatch(tokens, targets, mask)``, each (B, T); ``mask`` is True exactly at the Q
        query positions of each sequence, where ``targets`` holds the queried key's value.

    Raises:
        ValueError: for sizes that do not fit, naming what was expected and received.
    """
    batch_size = check_int("batch_size", batch_size)
    num_pairs = check_int("num_pairs", num_pairs)
    num_queries = num_pairs if num_queries is None else check_int("num_queries", num_queries)
    if num_queries > num_pairs:
        raise ValueError(f"num_queries must be <= num_pairs = {num_pairs}, received {num_queries}")
    seq_len = check_int("seq_len", seq_len)
    if seq_len < 2 * num_pairs + num_queries:
        raise ValueError(
            f"seq_len must be >= 2 * num_pairs + num_queries = {2 * num_pairs + num_queries}, "
            f"received {seq_len}"
        )
    vocab_size = check_int("vocab_size", vocab_size)
    _check_vocab(vocab_size, 2 * (num_pairs + 1), f"{num_pairs} distinct keys")
    rng = make_rng(seed)
    half = vocab_size // 2
    B, T, P, Q = batch_size, seq_len, num_pairs, num_queries

    # Distinct keys per row: the first P entries of a random permutation of the key range.
    keys = np.argsort(rng.random((B, half - 1)), axis=1)[:, :P] + 1            # (B, P) in 1..half-1
    values = rng.integers(half, vocab_size, size=(B, P))                         # (B, P)
    tokens = np.full((B, T), FILLER, dtype=np.int64)
    tokens[:, 0:2 * P:2], tokens[:, 1:2 * P:2] = keys, values

    which = np.argsort(rng.random((B, P)), axis=1)[:, :Q]                        # which pairs are queried
    region = T - 2 * P
    offsets = np.sort(np.argsort(rng.random((B, region)), axis=1)[:, :Q], axis=1)  # where, in order
    positions = 2 * P + offsets                                                  # (B, Q)
    rows = np.arange(B)[:, None]
    tokens[rows, positions] = keys[rows, which]
    targets = np.full((B, T), IGNORE_INDEX, dtype=np.int64)
    targets[rows, positions] = values[rows, which]
    return RecallBatch(tokens, targets, targets != IGNORE_INDEX)


def copy_task(batch_size: int, length: int, vocab_size: int, *, seed: int) -> RecallBatch:
    """Copy a random string: ``s_1 .. s_L FILLER s_1 .. s_L``, scored on the second copy.

    The model reads the string and the separator and must then reproduce the string; the target
    at position ``L + i`` (the separator or ``s_i``) is ``s_{i+1}``, so the L scored positions are
    ``L .. 2L - 1`` and the sequence has T = 2L + 1 tokens.

    Args:
        batch_size: B.
        length: L, symbols to copy (>= 1).
        vocab_size: V >= 2; symbols are drawn uniformly from ``1 .. V - 1`` (0 is the separator).
        seed: seed of the NumPy generator.

    Returns:
        ``RecallBatch(tokens, targets, mask)``, each (B, 2L + 1).
    """
    batch_size = check_int("batch_size", batch_size)
    length = check_int("length", length)
    vocab_size = check_int("vocab_size", vocab_size)
    _check_vocab(vocab_size, 2, "one symbol and the separator")
    rng = make_rng(seed)
    string = rng.integers(1, vocab_size, size=(batch_size, length))
    tokens = np.concatenate([string, np.full((batch_size, 1), FILLER), string], axis=1).astype(np.int64)
    targets = np.full_like(tokens, IGNORE_INDEX)
    targets[:, length:2 * length] = string
    return RecallBatch(tokens, targets, targets != IGNORE_INDEX)
