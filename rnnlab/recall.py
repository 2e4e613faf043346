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
a separator, then the same string again; the model is scored on the repeated part. With
``distinct=True`` no symbol repeats within a string, so each symbol has one successor and a model
can copy by looking up "what followed this symbol" (what one attention layer does).

Both generators are seeded and pure NumPy; so is ``alternate``, which interleaves several of them
into one training stream. ``recall_grid`` trains and scores small models of
:mod:`rnnlab.modern_torch` on such streams; it imports torch only when it is called. Token
arrays are ``(B, T)`` integers in ``[0, vocab_size)``; targets are ``(B, T)`` with ``-100``
wherever ``mask`` is False (the value ``torch.nn.functional.cross_entropy`` ignores by default),
so they can be used as they are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from rnnlab._checks import check_int, make_rng

__all__ = ["FILLER", "IGNORE_INDEX", "RecallBatch", "alternate", "copy_task", "mqar", "recall_grid"]

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


def copy_task(
    batch_size: int, length: int, vocab_size: int, *, distinct: bool = False, seed: int
) -> RecallBatch:
    """Copy a random string: ``s_1 .. s_L FILLER s_1 .. s_L``, scored on the second copy.

    The model reads the string and the separator and must then reproduce the string; the target
    at position ``L + i`` (the separator or ``s_i``) is ``s_{i+1}``, so the L scored positions are
    ``L .. 2L - 1`` and the sequence has T = 2L + 1 tokens.

    Args:
        batch_size: B.
        length: L, symbols to copy (>= 1).
        vocab_size: V >= 2; symbols are drawn uniformly from ``1 .. V - 1`` (0 is the separator).
        distinct: if True, the L symbols of a string are distinct (drawn without replacement),
            which needs ``V - 1 >= L``.
        seed: seed of the NumPy generator.

    Returns:
        ``RecallBatch(tokens, targets, mask)``, each (B, 2L + 1).
    """
    batch_size = check_int("batch_size", batch_size)
    length = check_int("length", length)
    vocab_size = check_int("vocab_size", vocab_size)
    _check_vocab(vocab_size, 2, "one symbol and the separator")
    if distinct:
        _check_vocab(vocab_size, length + 1, f"{length} distinct symbols and the separator")
    rng = make_rng(seed)
    if distinct:   # the first L entries of a random permutation of 1 .. V-1, per row
        string = np.argsort(rng.random((batch_size, vocab_size - 1)), axis=1)[:, :length] + 1
    else:
        string = rng.integers(1, vocab_size, size=(batch_size, length))
    tokens = np.concatenate([string, np.full((batch_size, 1), FILLER), string], axis=1).astype(np.int64)
    targets = np.full_like(tokens, IGNORE_INDEX)
    targets[:, length:2 * length] = string
    return RecallBatch(tokens, targets, targets != IGNORE_INDEX)


def alternate(*makers: Callable[[int], RecallBatch]) -> Callable[[int], RecallBatch]:
    """One training stream from several: step ``s`` returns ``makers[s % len(makers)](s)``.

    Each maker maps a step number to a ``RecallBatch`` (for example
    ``lambda step: mqar(32, 24, 6, 64, seed=step)``); interleaving makers of different lengths
    trains one model on all of them, with the same number of steps for each.
    """
    if not makers or not all(callable(m) for m in makers):
        raise TypeError(f"alternate expects one or more callables step -> RecallBatch, received {makers!r}")
    return lambda step: makers[step % len(makers)](step)


def recall_grid(
    models: Sequence[tuple[str, int]],
    train: Callable[[int], Callable[[int], RecallBatch]],
    tests: Mapping[str, RecallBatch],
    *,
    seeds: Sequence[int],
    steps: int,
    vocab_size: int,
    d: int = 32,
    lr: float = 1e-2,
) -> list[dict]:
    """Train every (model, seed) on the same budget and score it on every test batch.

    For each ``(mixer, size)`` in ``models`` and each ``seed``: ``torch.manual_seed(seed)``,
    build ``rnnlab.modern_torch.RecallModel(mixer, vocab_size, d, size)``, train it for ``steps``
    Adam steps on the stream ``train(seed)`` (a function ``step -> RecallBatch``),
    then measure its accuracy on each batch in ``tests``.

    Args:
        models: ``(mixer name, size argument)`` pairs, as ``RecallModel`` takes them.
        train: ``seed -> (step -> RecallBatch)``, the training stream of one seed.
        tests: name -> held-out ``RecallBatch``; every model is scored on every one.
        seeds: seeds of the model initialisation (and, through ``train``, of the data).
        steps, lr: the training budget, the same for every model (see ``train_recall``).
        vocab_size, d: the model's vocabulary and width.

    Returns:
        One dict per (model, seed, test): ``model``, ``size``, ``seed``, ``test``,
        ``state floats`` (the mixer's state at that test's length: the KV cache for attention),
        ``accuracy`` and ``CPU s`` (the process CPU time of training that model).
    """
    import torch  # imported here, so that importing rnnlab.recall needs no framework

    from rnnlab.modern_torch import RecallModel, recall_accuracy, train_recall

    if not models or not seeds or not tests:
        raise ValueError(
            f"recall_grid needs at least one model, seed and test; received {len(models)} models, "
            f"{len(seeds)} seeds, {len(tests)} tests"
        )
    steps = check_int("steps", steps)
    rows = []
    for mixer, size in models:
        for seed in seeds:
            torch.manual_seed(seed)
            model = RecallModel(mixer, vocab_size, d, size)
            start = time.process_time()
            train_recall(model, train(seed), steps=steps, lr=lr)
            seconds = time.process_time() - start
            for name, batch in tests.items():
                rows.append({"model": mixer, "size": size, "seed": seed, "test": name,
                             "state floats": model.state_floats(batch.tokens.shape[1]),
                             "accuracy": recall_accuracy(model, batch), "CPU s": seconds})
    return rows
