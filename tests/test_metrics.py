"""rnnlab.metrics: edit distance and chrF, on hand-computed cases and as properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.metrics import chrf, corpus_chrf, edit_distance

texts = st.text(alphabet="ab-12 ", max_size=12)


@pytest.mark.parametrize("a, b, expected", [
    ("kitten", "sitting", 3),       # k->s, e->i, insert g
    ("", "abc", 3), ("abc", "", 3), ("", "", 0),
    ("2026-11-26", "2026-11-26", 0),
    ("2026-11-26", "2026-11-62", 2),  # two digits swapped: two substitutions
    ("2026-11-26", "2026-11-2", 1),   # one deleted
    ("flaw", "lawn", 2),              # delete f, insert n
])
def test_edit_distance_hand_computed(a, b, expected):
    assert edit_distance(a, b) == expected


@settings(max_examples=80, deadline=None)
@given(texts, texts, texts)
def test_edit_distance_is_a_metric_with_its_bounds(a, b, c):
    d = edit_distance(a, b)
    assert d == edit_distance(b, a)
    assert (d == 0) == (a == b)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert edit_distance(a, c) <= d + edit_distance(b, c)  # triangle inequality


def test_chrf_hand_computed():
    # hyp "ab", ref "abc", n=2: n=1: P = 2/2, R = 2/3; n=2: {ab} vs {ab, bc}: P = 1/1, R = 1/2.
    # P = 1, R = 7/12; beta = 2: 5 P R / (4 P + R) = (35/12) / (55/12) = 7/11.
    assert chrf("ab", "abc", n=2, beta=2) == pytest.approx(100 * 7 / 11)
    # beta = 1 is the plain F1 of P = 1 and R = 7/12: 2 * 7/12 / (19/12) = 14/19.
    assert chrf("ab", "abc", n=2, beta=1) == pytest.approx(100 * 14 / 19)
    # Clipped counts: "aa" vs "a": unigram matches min(2, 1) = 1, so P = 1/2, R = 1; the reference
    # has no bigram, so only n = 1 counts: 5 * 0.5 / (4 * 0.5 + 1) = 2.5 / 3.
    assert chrf("aa", "a", n=2) == pytest.approx(100 * 2.5 / 3)
    # Two swapped digits of a date: of 10 unigrams all match; the n-grams that cross the swap do not.
    swapped = chrf("2026-11-62", "2026-11-26")
    assert 0 < swapped < 100 and swapped > chrf("2026-12-62", "2026-11-26")


def test_chrf_special_cases():
    assert chrf("2026-11-26", "2026-11-26") == 100.0
    assert chrf("", "") == 100.0 and chrf("", "abc") == 0.0 and chrf("abc", "") == 0.0
    assert chrf("abc", "xyz") == 0.0                     # no character in common
    assert chrf("a b c", "abc") == 100.0                 # whitespace is dropped by default
    assert chrf("a b c", "abc", whitespace=True) < 100.0


@settings(max_examples=80, deadline=None)
@given(texts, texts, st.integers(1, 6), st.floats(0.5, 3.0))
def test_chrf_properties(hypothesis, reference, n, beta):
    score = chrf(hypothesis, reference, n=n, beta=beta)
    assert 0.0 <= score <= 100.0 + 1e-9
    assert chrf(reference, reference, n=n, beta=beta) == pytest.approx(100.0)
    if "".join(hypothesis.split()) == "".join(reference.split()):
        assert score == pytest.approx(100.0)
    # beta = 1 is symmetric in precision and recall, so in the two strings
    assert chrf(hypothesis, reference, n=n, beta=1.0) == pytest.approx(chrf(reference, hypothesis, n=n, beta=1.0))
    assert corpus_chrf([hypothesis], [reference], n=n, beta=beta) == pytest.approx(score)


def test_corpus_chrf_sums_counts_over_sentences():
    # Counts are pooled: one perfect and one empty hypothesis against two 3-character references.
    # n = 1: hyp 3 unigrams, ref 6, 3 matches: P = 1, R = 1/2 -> 5 * 0.5 / 4.5 = 5/9.
    assert corpus_chrf(["abc", ""], ["abc", "xyz"], n=1) == pytest.approx(100 * 5 / 9)
    assert corpus_chrf(["abc", "xyz"], ["abc", "xyz"]) == 100.0


@pytest.mark.parametrize("call, error, words", [
    (lambda: edit_distance("a", 3), TypeError, "b must be a str"),
    (lambda: chrf(["a"], "a"), TypeError, "hypothesis must be a str"),
    (lambda: chrf("a", "a", n=0), ValueError, "n must be an int >= 1"),
    (lambda: chrf("a", "a", beta=0), ValueError, "beta must be a finite number > 0"),
    (lambda: chrf("a", "a", whitespace=1), TypeError, "whitespace must be a bool"),
    (lambda: corpus_chrf(["a"], ["a", "b"]), ValueError, "equally many, received 1 and 2"),
    (lambda: corpus_chrf("ab", "ab"), TypeError, "sequences of strings"),
    (lambda: corpus_chrf([], []), ValueError, "non-empty"),
    (lambda: corpus_chrf(["a", None], ["a", "b"]), TypeError, r"hypotheses\[1\] must be a str"),
])
def test_bad_input_names_what_was_expected(call, error, words):
    with pytest.raises(error, match=words):
        call()
