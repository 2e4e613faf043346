"""String metrics for translation output: exact match's softer neighbours.

* ``edit_distance(a, b)``: the Levenshtein distance, the fewest single-character insertions,
  deletions and substitutions that turn ``a`` into ``b``.
* ``chrf(hypothesis, reference)``: the character n-gram F-score of Popović (2015), "chrF:
  character n-gram F-score for automatic MT evaluation" (WMT 2015). For each order n = 1..N,
  the n-gram precision P_n is the fraction of the hypothesis's character n-grams that also occur
  in the reference (counts clipped, as multisets), and the recall R_n the fraction of the
  reference's n-grams found in the hypothesis. With P and R their means over the orders,

  .. math:: \\mathrm{chrF}_\\beta = 100 \\cdot (1 + \\beta^2) \\frac{P R}{\\beta^2 P + R},

  so beta = 2 weighs recall more than precision. Whitespace is dropped before the n-grams are
  taken (as the paper and sacreBLEU do by default). The mean runs over the orders that both
  strings are long enough to have (the "effective order" of sacreBLEU), so a string shorter than
  N characters is not punished for its missing long n-grams.
* ``corpus_chrf(hypotheses, references)``: chrF of a whole test set, from the n-gram counts
  summed over its sentences (not the mean of the sentence scores).

Pure Python; no model and no torch needed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rnnlab._checks import check_float, check_int

__all__ = ["chrf", "corpus_chrf", "edit_distance"]


def _check_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, received {type(value).__name__} {value!r}")
    return value


def edit_distance(a: str, b: str) -> int:
    """The Levenshtein distance between two strings (unit cost per insertion, deletion, substitution).

    Args:
        a, b: the two strings, compared character by character.

    Returns:
        an int in [|len(a) - len(b)|, max(len(a), len(b))]; 0 exactly when a == b.
    """
    a, b = _check_str("a", a), _check_str("b", b)
    previous = list(range(len(b) + 1))  # distances from a[:0] to every prefix of b
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1,                         # delete char_a
                               current[j - 1] + 1,                      # insert char_b
                               previous[j - 1] + (char_a != char_b)))   # substitute (or keep)
        previous = current
    return previous[-1]


def _ngram_counts(text: str, order: int, whitespace: bool) -> list[Counter]:
    """Counters of the character n-grams of ``text`` for n = 1..order."""
    if not whitespace:
        text = "".join(text.split())
    return [Counter(text[i:i + n] for i in range(len(text) - n + 1)) for n in range(1, order + 1)]


def _statistics(hypothesis: str, reference: str, order: int, whitespace: bool) -> list[tuple[int, int, int]]:
    """Per order n: (n-grams in the hypothesis, n-grams in the reference, clipped matches)."""
    hyp, ref = _ngram_counts(hypothesis, order, whitespace), _ngram_counts(reference, order, whitespace)
    return [(sum(h.values()), sum(r.values()), sum((h & r).values())) for h, r in zip(hyp, ref)]


def _f_score(statistics: Sequence[tuple[int, int, int]], beta: float) -> float:
    """chrF in [0, 100] from per-order (hypothesis count, reference count, matches)."""
    used = [(matches / n_hyp, matches / n_ref) for n_hyp, n_ref, matches in statistics if n_hyp and n_ref]
    if not used:  # one side has no characters at all (after dropping whitespace)
        return 100.0 if all(n_hyp == n_ref == 0 for n_hyp, n_ref, _ in statistics) else 0.0
    precision = sum(p for p, _ in used) / len(used)
    recall = sum(r for _, r in used) / len(used)
    if precision + recall == 0:
        return 0.0
    return 100.0 * (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def _check_options(n: object, beta: object, whitespace: object) -> tuple[int, float, bool]:
    if not isinstance(whitespace, bool):
        raise TypeError(f"whitespace must be a bool, received {type(whitespace).__name__} {whitespace!r}")
    return check_int("n", n), check_float("beta", beta, strict=True), whitespace


def chrf(hypothesis: str, reference: str, *, n: int = 6, beta: float = 2.0, whitespace: bool = False) -> float:
    """Sentence-level chrF (Popović, 2015) of one hypothesis against one reference.

    Args:
        hypothesis: the system's output. reference: the correct output.
        n: N, the highest character n-gram order (chrF uses 6).
        beta: weight of recall against precision (chrF2, the common default, uses 2).
        whitespace: keep spaces and other whitespace as characters (default: drop them).

    Returns:
        a float in [0, 100]: 100 when the strings are equal (after dropping whitespace), 0 when
        they share no character.
    """
    n, beta, whitespace = _check_options(n, beta, whitespace)
    statistics = _statistics(_check_str("hypothesis", hypothesis), _check_str("reference", reference), n, whitespace)
    return _f_score(statistics, beta)


def corpus_chrf(
    hypotheses: Sequence[str], references: Sequence[str], *, n: int = 6, beta: float = 2.0, whitespace: bool = False
) -> float:
    """chrF of a test set: n-gram counts summed over all sentence pairs, then one F-score.

    Args:
        hypotheses, references: equally many strings, pair i being (output i, reference i).
        n, beta, whitespace: as in ``chrf``.

    Returns:
        a float in [0, 100]; equal to ``chrf`` for a single pair.
    """
    n, beta, whitespace = _check_options(n, beta, whitespace)
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise TypeError("hypotheses and references must be sequences of strings, received a str")
    if len(hypotheses) != len(references) or not len(references):
        raise ValueError(f"hypotheses and references must be non-empty and equally many, received "
                         f"{len(hypotheses)} and {len(references)}")
    totals = [[0, 0, 0] for _ in range(n)]
    for k, (hypothesis, reference) in enumerate(zip(hypotheses, references)):
        pair = _statistics(_check_str(f"hypotheses[{k}]", hypothesis), _check_str(f"references[{k}]", reference),
                           n, whitespace)
        for total, counts in zip(totals, pair):
            for i in range(3):
                total[i] += counts[i]
    return _f_score([tuple(total) for total in totals], beta)  # type: ignore[misc]
