"""From labelled sentences to model inputs, as a practitioner prepares any text classifier.

The steps, each a function: ``tokenize`` a text into lower-case words and punctuation;
``build_word_vocab`` from the **training split only** (``<pad>`` = 0, ``<unk>`` = 1, words seen
fewer than ``min_count`` times map to ``<unk>``); ``unknown_rate`` measures how much of another
split falls outside it; ``encode_with_lengths`` turns sentences into ids padded after the end,
with each sentence's real length; ``trim_batch`` cuts a batch to its own longest sentence, so a
batch is padded to its longest member, not to the longest sentence of the data set;
``padding_share`` measures the padding either way. Shapes: N sentences, L the padded length.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rnnlab._checks import check_int, make_rng
from rnnlab.data.vocab import WordVocab, pad_sequences

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lower-case words (with an apostrophe part, "don't") and single punctuation marks.

    "The film was good, not bad!" -> ["the", "film", "was", "good", ",", "not", "bad", "!"].
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, received {type(text).__name__}")
    return _TOKEN.findall(text.lower())


def build_word_vocab(sentences: Iterable[str], *, min_count: int = 1) -> WordVocab:
    """The vocabulary of the words that occur at least ``min_count`` times in ``sentences``.

    Pass the training sentences only: a word first seen in validation or test must be as
    unknown to the model as it would be in use. Ids: ``<pad>`` = 0, ``<unk>`` = 1, then the
    kept words sorted.
    """
    min_count = check_int("min_count", min_count)
    counts = Counter(token for sentence in sentences for token in tokenize(sentence))
    if not counts:
        raise ValueError("build_word_vocab expected at least one non-empty sentence, received none")
    return WordVocab((w for w, c in counts.items() if c >= min_count), specials=("<pad>", "<unk>"),
                     unknown="<unk>")


def _check_vocab(vocab: Any) -> WordVocab:
    if not isinstance(vocab, WordVocab) or "<pad>" not in vocab or vocab.unknown is None:
        raise ValueError(f"vocab must be a WordVocab with '<pad>' and an unknown token, received {vocab!r}")
    return vocab


def unknown_rate(sentences: Sequence[str], vocab: WordVocab) -> float:
    """The share of the tokens of ``sentences`` that ``vocab`` maps to its unknown token."""
    vocab = _check_vocab(vocab)
    tokens = [token for sentence in sentences for token in tokenize(sentence)]
    if not tokens:
        raise ValueError("unknown_rate expected at least one token, received none")
    return sum(token not in vocab for token in tokens) / len(tokens)


def encode_with_lengths(
    sentences: Sequence[str], vocab: WordVocab, *, max_len: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Ids padded with ``<pad>`` after each sentence, and the real lengths.

    Args:
        sentences: N texts, each with at least one token.
        vocab: the ``WordVocab`` (from ``build_word_vocab``).
        max_len: keep at most this many tokens of each sentence (the first ones); default all.

    Returns:
        ids: (N, L) int64, L the longest kept length; ``ids[i, lengths[i]:]`` is padding.
        lengths: (N,) int64, each in 1..L.
    """
    vocab = _check_vocab(vocab)
    encoded = [vocab.encode(tokenize(sentence)) for sentence in sentences]
    if max_len is not None:
        encoded = [ids[: check_int("max_len", max_len)] for ids in encoded]
    lengths = np.array([len(ids) for ids in encoded], dtype=np.int64)
    if not len(encoded) or lengths.min() == 0:
        raise ValueError("encode_with_lengths expected sentences with at least one token each")
    return pad_sequences(encoded, pad_id=vocab["<pad>"], padding="post"), lengths


def trim_batch(ids: Any, lengths: Any) -> Any:
    """A batch cut to its own longest sentence: ``ids[:, :max(lengths)]`` (NumPy or torch).

    Args:
        ids: (B, L) ids padded after the end.
        lengths: (B,) real lengths, each <= L.

    Returns:
        (B, max(lengths)), the same ids without the columns that are padding in every row.
    """
    longest = int(lengths.max())
    if longest > ids.shape[1]:
        raise ValueError(f"lengths must be <= the padded length {ids.shape[1]}, received a length {longest}")
    return ids[:, :longest]


def padding_share(lengths: Sequence[int], batch_size: int, *, seed: int) -> tuple[float, float]:
    """The share of padded positions, padding each shuffled batch to its longest vs all to the longest.

    Returns:
        (per_batch, global): padding / all positions, over one epoch of batches of ``batch_size``.
    """
    steps = np.asarray(lengths, dtype=np.int64)
    if steps.ndim != 1 or not len(steps) or steps.min() < 1:
        raise ValueError(f"lengths must be a non-empty 1-D sequence of positive ints, received {lengths!r}")
    batch_size = check_int("batch_size", batch_size)
    order = make_rng(seed).permutation(len(steps))
    batches = [steps[order[i:i + batch_size]] for i in range(0, len(steps), batch_size)]
    per_batch = sum(len(b) * int(b.max()) for b in batches)
    total = int(steps.sum())
    return float(1 - total / per_batch), float(1 - total / (len(steps) * int(steps.max())))
