"""Token <-> id mappings, padding and one-hot encoding.

A vocabulary is fixed when it is built: special tokens take the first ids, then the alphabet in
sorted order. Tokens outside it map to ``unknown`` (or raise, if ``unknown=None``), so the
size of a model's embedding never depends on the data it happens to see.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rnnlab._checks import check_choice, check_int


class Vocab:
    """A fixed token <-> id mapping; subclasses decide what a token is (a character, a word).

    Args:
        tokens: the alphabet; duplicates are dropped and the rest sorted.
        specials: reserved tokens placed first, e.g. ``("<pad>", "<unk>")``.
        unknown: the special that unseen tokens map to, or None to raise ``ValueError`` instead.
    """

    separator = ""  # how decode() joins tokens

    def __init__(
        self, tokens: Iterable[str], *, specials: Sequence[str] = ("<unk>",), unknown: str | None = "<unk>"
    ) -> None:
        specials = list(specials)
        if unknown is not None and unknown not in specials:
            raise ValueError(f"unknown must be one of specials {specials}, received {unknown!r}")
        regular = sorted(set(tokens) - set(specials))
        self.itos: list[str] = specials + regular
        self.stoi: dict[str, int] = {token: i for i, token in enumerate(self.itos)}
        self.specials: tuple[str, ...] = tuple(specials)
        self.unknown = unknown

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={len(self)}, specials={self.specials})"

    def __getitem__(self, token: str) -> int:
        """The id of one token (a special such as ``"<pad>"`` included)."""
        if token in self.stoi:
            return self.stoi[token]
        if self.unknown is None:
            raise ValueError(f"token {token!r} is not in the vocabulary and unknown=None")
        return self.stoi[self.unknown]

    def tokenize(self, text: str) -> list[str]:
        """Split a string into tokens (characters here; words in ``WordVocab``)."""
        return list(text)

    def encode(self, text: str | Sequence[str]) -> np.ndarray:
        """Map a string (or a list of tokens) to ids.

        Returns:
            ids: (len,) int64; tokens outside the vocabulary become the id of ``unknown``.
        """
        tokens = self.tokenize(text) if isinstance(text, str) else list(text)
        return np.fromiter((self[token] for token in tokens), dtype=np.int64, count=len(tokens))

    def decode(self, ids: Iterable[int], *, skip_specials: bool = False) -> str:
        """Map ids (len,) back to a string; specials appear as their names unless ``skip_specials``."""
        tokens = [self.itos[int(i)] for i in ids]
        if skip_specials:
            tokens = [t for t in tokens if t not in self.specials]
        return self.separator.join(tokens)


class CharVocab(Vocab):
    """Characters <-> ids. Default: ``<unk>`` = 0, then the given alphabet sorted.

    Unknown characters encode to ``<unk>`` and decode as the string ``"<unk>"``.
    """


class WordVocab(Vocab):
    """Words <-> ids; ``tokenize`` lower-cases and splits on white space, keeping ``,`` and ``.`` as words."""

    separator = " "

    def tokenize(self, text: str) -> list[str]:
        return text.lower().replace(",", " , ").replace(".", " . ").split()


def pad_sequences(
    sequences: Sequence[np.ndarray], *, max_len: int | None = None, pad_id: int = 0, padding: str = "pre"
) -> np.ndarray:
    """Stack variable-length id sequences into one padded array.

    ``padding="pre"`` (the default) puts the padding first, so the last time step is the last real
    token: a classifier that reads ``out[:, -1]`` then sees the end of every sentence.

    Args:
        sequences: N arrays of ids, each (len_i,).
        max_len: length to pad to; default the longest sequence. Longer sequences raise ValueError.
        pad_id: the id to pad with.
        padding: ``"pre"`` or ``"post"``.

    Returns:
        ids: (N, max_len) int64.
    """
    check_choice("padding", padding, ("pre", "post"))
    lengths = [len(s) for s in sequences]
    longest = max(lengths, default=0)
    max_len = longest if max_len is None else check_int("max_len", max_len)
    if longest > max_len:
        raise ValueError(f"max_len must be >= the longest sequence ({longest}), received {max_len}")
    out = np.full((len(sequences), max_len), pad_id, dtype=np.int64)
    for row, seq in zip(out, sequences):
        if len(seq):
            if padding == "pre":
                row[max_len - len(seq):] = seq
            else:
                row[: len(seq)] = seq
    return out


def one_hot(ids: np.ndarray, num_classes: int) -> np.ndarray:
    """One-hot encode integer ids.

    Args:
        ids: (...) ints in ``[0, num_classes)``.
        num_classes: C.

    Returns:
        (..., C) float32.
    """
    num_classes = check_int("num_classes", num_classes)
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        raise ValueError(f"ids must lie in [0, {num_classes}), received range [{ids.min()}, {ids.max()}]")
    return np.eye(num_classes, dtype=np.float32)[ids]
