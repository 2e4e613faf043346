"""rnnlab.data.sentiment: the grammar's kinds, its phrases, and that no phrase alone gives the label away."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

from rnnlab import data
from rnnlab.data import sentiment


def two_phrase(n: int, seed: int) -> tuple[list[tuple[str, str, str]], np.ndarray]:
    sentences, labels = data.sentiment_sentences(n, seed=seed, kinds=tuple(sentiment.CONNECTORS))
    return [sentiment.split_phrases(s) for s in sentences], labels


def test_sentence_kind_and_split_phrases():
    assert sentiment.sentence_kind("the film was very good") == "plain"
    assert sentiment.sentence_kind("the film was never boring") == "negated"
    assert sentiment.sentence_kind("the film was not bad but really dull") == "but"
    assert sentiment.sentence_kind("the film was fun although silly") == "although"
    assert sentiment.sentence_kind("the film was good , not bad") == "correction"
    assert sentiment.split_phrases("the film was never dull but really silly") == ("never dull", "but", "really silly")
    assert sentiment.split_phrases("the film was fun although not very moving") == ("fun", "although", "not very moving")
    assert sentiment.split_phrases("this show is very good , not bad") == ("very good", ", not", "bad")
    with pytest.raises(ValueError, match="two-phrase sentence"):
        sentiment.split_phrases("the film was not good")


def test_every_kind_is_drawn_with_its_weight():
    sentences, labels = data.sentiment_sentences(900, seed=3, kinds=("but", "although"))  # few duplicates yet
    counts = Counter(sentiment.sentence_kind(s) for s in sentences)
    assert set(counts) == {"but", "although"} and 1.6 < counts["but"] / counts["although"] < 2.5  # weights 2 : 1
    assert [data.rule_label(s) for s in sentences] == labels.tolist()
    assert all(len(s.split()) <= sentiment.MAX_LEN for s in sentences)
    assert len(data.sentiment_vocab()) == 29 and "although" in data.sentiment_vocab()


def test_the_two_phrases_have_opposite_values_and_the_connector_picks_one():
    parts, labels = two_phrase(2000, seed=0)
    for (first, connector, second), label in zip(parts, labels):
        value_first, value_second = (data.rule_label(f"the film was {phrase}") for phrase in (first, second))
        assert value_first != value_second  # opposite values ...
        assert label == (value_second if connector == "but" else value_first)  # ... the connector decides


def test_neither_phrase_alone_predicts_the_label():
    parts, labels = two_phrase(8000, seed=1)
    for position in (0, 2):
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for part, label in zip(parts, labels):
            counts[part[position]][label] += 1
        frequent = {phrase: c for phrase, c in counts.items() if sum(c) >= 40}
        assert len(frequent) >= 30
        for phrase, (negative, positive) in frequent.items():  # each phrase decides as often as it loses
            n = negative + positive
            assert abs(positive / n - 0.5) < 4 * np.sqrt(0.25 / n), (position, phrase, negative, positive)
        # the best any classifier of this phrase can do: the majority label of each phrase, in sample
        assert sum(max(c) for c in counts.values()) / len(parts) < 0.57
    # ... while a phrase together with its connector gives the label exactly
    by_pair: dict[tuple[str, str], set[int]] = defaultdict(set)
    for (first, connector, _), label in zip(parts, labels):
        by_pair[(connector, first)].add(int(label))
    assert all(len(found) == 1 for found in by_pair.values())


def test_contrast_pairs_cover_every_two_phrase_kind():
    first, second, first_labels, second_labels = data.contrast_pairs(300, seed=2)
    assert {sentiment.sentence_kind(s) for s in first} == set(sentiment.CONNECTORS)
    assert [sentiment.sentence_kind(s) for s in first] == [sentiment.sentence_kind(s) for s in second]
    assert [data.rule_label(s) for s in second] == (1 - first_labels).tolist() == second_labels.tolist()
