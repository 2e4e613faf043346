"""Toy movie-review sentiment where word order and negation decide the label.

The grammar (every sentence starts with a subject and a verb, "the plot was ..."):

* ``plain``       "the film was very good"              -> polarity of the adjective
* ``negated``     "the film was not good"               -> flipped by "not" / "never"
* ``but``         "the film was boring but never dull"  -> the phrase after "but" decides
* ``although``    "the film was fun although silly"     -> the phrase before "although" decides
* ``correction``  "the film was good , not bad"         -> the phrase before ", not" decides

A phrase is ``[not|never] [very|really] ADJ``; its value is the adjective's polarity, flipped by a
negator. A two-phrase sentence is drawn in two steps: first its two phrases, which always have
opposite values and different adjectives; then the connector, which says which phrase counts,
the second ("but") or the first ("although", ", not"), each with probability one half. So
neither phrase on its own says anything about the label: the same phrase is the deciding one
as often as the overruled one. The connector has to be read together with a phrase.

Two shapes of phrase pair are drawn, each with its own pair of connectors: full phrases (as
above) go with "but" or "although"; a short pair, ``[very|really] ADJ`` and a bare adjective,
goes with "but" or ", not" (", not not bad" is no English). That is why ``but`` sentences are
drawn twice as often as each other kind (``KIND_WEIGHTS``).

Swapping the two phrases keeps the multiset of words and flips the label, so any bag-of-words
model, which sees both sentences as the same input, gets at most one of each such pair right:
``contrast_pairs`` yields them, and ``swap_phrases`` gives any such sentence's partner.
``rule_label`` applies the rule to any sentence of the grammar; ``split_phrases`` cuts a
two-phrase sentence into (first phrase, connector, second phrase). Shapes use the book's
notation: N sentences, K = the vocabulary size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_choice, check_int, make_rng
from rnnlab.data.splits import Splits, random_split
from rnnlab.data.vocab import WordVocab, pad_sequences

SUBJECTS = ("the movie", "the film", "the plot", "the acting", "the ending", "this show")
VERBS = ("was", "is")
#: The positive adjectives of the grammar (polarity +1).
POSITIVE = ("good", "great", "fun", "brilliant", "moving")
#: The negative adjectives of the grammar (polarity -1).
NEGATIVE = ("bad", "boring", "dull", "awful", "silly")
#: Words that flip the polarity of the adjective that follows.
NEGATORS = ("not", "never")
INTENSIFIERS = ("very", "really")
KINDS = ("plain", "negated", "but", "although", "correction")
#: Relative frequency of each kind: "but" mirrors both "although" and "correction".
KIND_WEIGHTS = {"plain": 1, "negated": 1, "but": 2, "although": 1, "correction": 1}
#: The kinds with two phrases, and the connector word that marks each.
CONNECTORS = {"but": "but", "although": "although", "correction": ","}
#: The longest sentence in words, subject (2) + verb + phrase (3) + connector + phrase (3).
MAX_LEN = 10

_POLARITY = {**{w: 1 for w in POSITIVE}, **{w: -1 for w in NEGATIVE}}


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    """One of ``options``, uniformly (``rng.choice`` on a tuple of strings is ten times slower)."""
    return options[int(rng.integers(len(options)))]


def _phrase(
    rng: np.random.Generator, value: int | None = None, negated: bool | None = None, avoid: str = "",
    intensify: bool = True,
) -> tuple[str, int]:
    """A random ``[negator] [intensifier] ADJ`` phrase, optionally with a given value (+1 / -1).

    ``avoid`` is an adjective not to use, so "good but not good" never appears.
    """
    if negated is None:
        negated = bool(rng.integers(2))
    if value is None:
        value = 2 * int(rng.integers(2)) - 1
    words = [_pick(rng, NEGATORS)] if negated else []
    if intensify and rng.integers(3):  # two times in three: an intensifier, which never changes the label
        words.append(_pick(rng, INTENSIFIERS))
    adjective_polarity = -value if negated else value
    adjectives = [a for a in (POSITIVE if adjective_polarity > 0 else NEGATIVE) if a != avoid]
    words.append(_pick(rng, adjectives))
    return " ".join(words), value


def _phrase_pair(rng: np.random.Generator, short: bool) -> tuple[str, int, str]:
    """Two phrases with opposite values: (first, its value, second); ``short``: the correction shape."""
    if short:
        first, value = _phrase(rng, negated=False)
        second, _ = _phrase(rng, value=-value, negated=False, intensify=False)
    else:
        first, value = _phrase(rng)
        second, _ = _phrase(rng, value=-value, avoid=first.split()[-1])
    return first, value, second


def _sentence(rng: np.random.Generator, kind: str) -> tuple[str, int]:
    """One sentence of the given kind and its label (1 positive, 0 negative)."""
    start = f"{_pick(rng, SUBJECTS)} {_pick(rng, VERBS)}"
    if kind in ("plain", "negated"):
        phrase, value = _phrase(rng, negated=kind == "negated")
        return f"{start} {phrase}", int(value > 0)
    short = kind == "correction" or (kind == "but" and bool(rng.integers(2)))
    first, value, second = _phrase_pair(rng, short)
    if kind == "but":
        return f"{start} {first} but {second}", int(value < 0)  # the second phrase, of value -value, decides
    connector = "although" if kind == "although" else ", not"
    return f"{start} {first} {connector} {second}", int(value > 0)


def sentence_kind(sentence: str) -> str:
    """Which of ``KINDS`` a sentence of the grammar is, read from its words."""
    words = sentence.split()
    for kind in ("but", "although"):
        if kind in words:
            return kind
    if "," in words:
        return "correction"
    return "negated" if set(NEGATORS) & set(words) else "plain"


def split_phrases(sentence: str) -> tuple[str, str, str]:
    """(first phrase, connector, second phrase) of a two-phrase sentence.

    The connector is "but", "although" or ", not"; the subject and verb are left out, e.g.
    "the film was never dull but really silly" -> ("never dull", "but", "really silly").
    Raises ``ValueError`` for a one-phrase sentence.
    """
    kind = sentence_kind(sentence)
    if kind not in CONNECTORS:
        raise ValueError(f"expected a two-phrase sentence of the grammar ({', '.join(CONNECTORS)}), "
                         f"received {sentence!r}")
    words = sentence.split()[3:]
    cut = words.index(CONNECTORS[kind])
    width = 2 if kind == "correction" else 1  # ", not" is two words
    return " ".join(words[:cut]), " ".join(words[cut:cut + width]), " ".join(words[cut + width:])


def rule_label(sentence: str) -> int:
    """The label the grammar's rule gives a sentence: 1 positive, 0 negative.

    After "but" the second phrase decides; before "although" or ", not" the first phrase
    decides; a negator flips the adjective's polarity.
    """
    words = sentence.split()
    if "but" in words:
        words = words[words.index("but") + 1:]
    elif "although" in words:
        words = words[: words.index("although")]
    elif "," in words:
        words = words[: words.index(",")]
    adjectives = [w for w in words if w in _POLARITY]
    if len(adjectives) != 1:
        raise ValueError(f"expected a sentence of the sentiment grammar, received {sentence!r}")
    negations = sum(w in NEGATORS for w in words)
    return int(_POLARITY[adjectives[0]] * (-1) ** negations > 0)


def sentiment_sentences(
    n_samples: int, *, seed: int, kinds: Sequence[str] = KINDS
) -> tuple[list[str], np.ndarray]:
    """Distinct random sentences of the grammar and their labels.

    Kinds are drawn with the probabilities of ``KIND_WEIGHTS`` restricted to ``kinds``;
    duplicates are dropped, so for large N the mix tilts towards the two-phrase kinds once
    the few hundred one-phrase sentences run out.

    Args:
        n_samples: N distinct sentences, at most 20,000.
        seed: random seed.
        kinds: a subset of ``KINDS``.

    Returns:
        sentences: N strings, words separated by single spaces.
        labels: (N,) int64, 1 positive and 0 negative.
    """
    n_samples = check_int("n_samples", n_samples)
    if n_samples > 20_000:
        raise ValueError(f"n_samples must be <= 20000 distinct sentences, received {n_samples}")
    kinds = [check_choice("kind", kind, KINDS) for kind in kinds]
    if not kinds:
        raise ValueError(f"kinds must name at least one of {list(KINDS)}, received none")
    weights = np.array([KIND_WEIGHTS[kind] for kind in kinds], dtype=float)
    rng = make_rng(seed)
    found: dict[str, int] = {}
    draws = rng.choice(len(kinds), size=50 * n_samples, p=weights / weights.sum())  # ample
    for draw in draws:  # duplicates are rare until the short kinds run out
        sentence, label = _sentence(rng, kinds[draw])
        found.setdefault(sentence, label)
        if len(found) == n_samples:
            break
    else:
        raise ValueError(f"kinds {kinds} cannot produce {n_samples} distinct sentences")
    return list(found), np.fromiter(found.values(), dtype=np.int64)


def contrast_pairs(n_pairs: int, *, seed: int) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Sentence pairs with the same multiset of words and opposite labels.

    Each pair swaps the two phrases of a two-phrase sentence, e.g.
    "the plot was dull but fun" (positive) / "the plot was fun but dull" (negative).

    Args:
        n_pairs: P.
        seed: random seed.

    Returns:
        first: P sentences; second: their swapped partners;
        first_labels, second_labels: (P,) int64 with ``second_labels == 1 - first_labels``.
    """
    first, labels = sentiment_sentences(n_pairs, seed=seed, kinds=tuple(CONNECTORS))
    second = [swap_phrases(sentence) for sentence in first]
    return first, second, labels, 1 - labels


def swap_phrases(sentence: str) -> str:
    """The contrast partner of a two-phrase sentence: the same words, the opposite label.

    Swaps the phrases around "but" or "although", or the adjectives around ", not"; swapping
    twice gives the sentence back. Raises ``ValueError`` for a one-phrase sentence.
    """
    if sentence_kind(sentence) not in CONNECTORS:
        raise ValueError(f"expected a 'but', 'although' or 'correction' sentence of the grammar, "
                         f"received {sentence!r}")
    words = sentence.split()
    start, rest = words[:3], words[3:]
    for connector in ("but", "although"):
        if connector in rest:
            cut = rest.index(connector)
            return " ".join(start + rest[cut + 1:] + [connector] + rest[:cut])
    cut = rest.index(",")
    kept, rejected = rest[:cut], rest[cut + 2:]  # rest[cut:cut + 2] == [",", "not"]
    return " ".join(start + kept[:-1] + rejected + [",", "not", kept[-1]])


def sentiment_vocab() -> WordVocab:
    """The fixed word vocabulary of the grammar: ``<pad>`` = 0, ``<unk>`` = 1, then the words sorted."""
    words = {w for phrase in SUBJECTS for w in phrase.split()}
    words |= {*VERBS, *POSITIVE, *NEGATIVE, *NEGATORS, *INTENSIFIERS, "but", "although", ","}
    return WordVocab(words, specials=("<pad>", "<unk>"), unknown="<unk>")


def encode_sentences(
    sentences: Sequence[str], vocab: WordVocab, *, max_len: int = MAX_LEN, padding: str = "pre"
) -> np.ndarray:
    """Encode sentences to ids padded with ``<pad>`` (id 0) to a common length.

    Returns:
        ids: (N, max_len) int64; with ``padding="pre"`` the last column is each sentence's last word.
    """
    encoded = [vocab.encode(sentence) for sentence in sentences]
    return pad_sequences(encoded, max_len=max_len, pad_id=vocab["<pad>"], padding=padding)


def bag_of_words(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Word counts per sentence, ignoring order and the padding id 0.

    Args:
        ids: (N, L) int ids.
        vocab_size: K.

    Returns:
        counts: (N, K) float32, column 0 (padding) always 0.
    """
    ids = np.asarray(ids)
    counts = np.zeros((len(ids), check_int("vocab_size", vocab_size)), dtype=np.float32)
    np.add.at(counts, (np.arange(len(ids))[:, None], ids), 1.0)
    counts[:, 0] = 0.0
    return counts


@dataclass(frozen=True)
class SentimentData:
    """Encoded sentiment splits.

    Attributes:
        vocab: the ``WordVocab``.
        sentences: ``Splits`` of three lists of strings.
        train, val, test: (x (N, MAX_LEN) int64 ids, y (N,) int64 labels).
    """

    vocab: WordVocab
    sentences: Splits
    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


def sentiment_dataset(
    n_samples: int, *, seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), padding: str = "pre"
) -> SentimentData:
    """Distinct sentences, split with the labels stratified (no sentence in two splits), then encoded."""
    sentences, labels = sentiment_sentences(n_samples, seed=seed)
    vocab = sentiment_vocab()
    parts = random_split(np.asarray(sentences, dtype=object), labels, seed=seed, fractions=fractions, stratify=labels)
    encoded = [(encode_sentences(list(s), vocab, padding=padding), y) for s, y in parts]
    return SentimentData(vocab, Splits(*(list(s) for s, _ in parts)), *encoded)
