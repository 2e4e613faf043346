"""A character-level English corpus that ships with Python, and next-character windows.

The corpus is the text of Python's interactive ``help()`` topics (``pydoc_data.topics``), about
465k characters of technical English in CPython 3.11. It is part of the standard library, so it
needs no download; its exact content changes slightly between Python versions.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_int
from rnnlab.data.splits import Splits, split_counts
from rnnlab.data.vocab import CharVocab

#: The default alphabet: printable ASCII without tab/\r/\x0b/\x0c, plus the newline (96 characters).
ASCII_ALPHABET = "".join(sorted(set(string.printable) - set("\t\r\x0b\x0c")))

# Typographic characters rewritten to ASCII so that they do not all become <unk>.
_TO_ASCII = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."})


def load_corpus(max_chars: int | None = None) -> str:
    """The concatenated ``help()`` topics of this Python, topics in sorted order.

    Typographic quotes, dashes and ellipses become ASCII; the handful of other non-ASCII
    characters (e.g. "°") are kept and map to ``<unk>`` in the default ``CharVocab``.

    Args:
        max_chars: keep only the first ``max_chars`` characters (None keeps all).

    Returns:
        The corpus as one string.
    """
    from pydoc_data.topics import topics  # stdlib; present in every CPython install

    text = "\n\n".join(topics[name] for name in sorted(topics)).translate(_TO_ASCII)
    if max_chars is not None:
        text = text[: check_int("max_chars", max_chars)]
    return text


def char_vocab(alphabet: str = ASCII_ALPHABET) -> CharVocab:
    """A ``CharVocab`` with id 0 = ``<unk>`` and then the characters of ``alphabet`` in sorted order."""
    return CharVocab(alphabet, specials=("<unk>",), unknown="<unk>")


def split_text(text: str, fractions: tuple[float, float, float] = (0.9, 0.05, 0.05)) -> Splits:
    """Cut a text into contiguous train / val / test pieces, in this order (no shuffling).

    Contiguous pieces keep test sentences out of training; a random split of windows would not.

    Returns:
        ``Splits`` of three strings.
    """
    n_train, n_val, _ = split_counts(len(text), fractions)
    return Splits(text[:n_train], text[n_train:n_train + n_val], text[n_train + n_val:])


def next_char_windows(ids: np.ndarray, seq_len: int, *, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut an id stream into (input, target) windows for next-token prediction.

    Window i covers ``ids[i*stride : i*stride + seq_len]``; its target is the same window moved
    one step on, so ``targets[:, t] == inputs[:, t + 1]`` inside a window.

    Args:
        ids: (L,) ints, e.g. ``vocab.encode(text)``.
        seq_len: T.
        stride: step between window starts; default T (non-overlapping windows).

    Returns:
        inputs: (N, T) int64, N = (L - 1 - T) // stride + 1.
        targets: (N, T) int64.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D (L,), received shape {ids.shape}")
    seq_len = check_int("seq_len", seq_len)
    stride = seq_len if stride is None else check_int("stride", stride)
    if len(ids) < seq_len + 1:
        raise ValueError(f"ids must hold at least seq_len + 1 = {seq_len + 1} tokens, received {len(ids)}")
    starts = np.arange(0, len(ids) - seq_len, stride)
    offsets = starts[:, None] + np.arange(seq_len)  # (N, T)
    return ids[offsets], ids[offsets + 1]


@dataclass(frozen=True)
class CharData:
    """The corpus prepared for a character-level language model.

    Attributes:
        vocab: the ``CharVocab`` used to encode.
        text: the train / val / test strings.
        train, val, test: (inputs, targets), each (N, T) int64.
    """

    vocab: CharVocab
    text: Splits
    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


def char_dataset(
    seq_len: int,
    *,
    max_chars: int | None = None,
    fractions: tuple[float, float, float] = (0.9, 0.05, 0.05),
    stride: int | None = None,
) -> CharData:
    """Load the corpus, split it contiguously, encode it and cut next-character windows.

    Args:
        seq_len: T, the window length.
        max_chars: use only the start of the corpus (handy for fast notebooks).
        fractions: (train, val, test) fractions of the characters.
        stride: step between windows; default T.

    Returns:
        ``CharData`` with (N, T) int64 windows per split.
    """
    vocab = char_vocab()
    pieces = split_text(load_corpus(max_chars), fractions)
    windows = [next_char_windows(vocab.encode(piece), seq_len, stride=stride) for piece in pieces]
    return CharData(vocab, pieces, *windows)
