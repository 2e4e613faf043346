"""rnnlab.data.text_classification: tokens, a training-only vocabulary, ids with lengths, per-batch padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.data import WordVocab
from rnnlab.data.text_classification import (
    build_word_vocab,
    encode_with_lengths,
    padding_share,
    tokenize,
    trim_batch,
    unknown_rate,
)

TRAIN = ["The film was good, not bad.", "It wasn't dull!", "the film was dull"]


def test_tokenize_splits_words_and_punctuation():
    assert tokenize("The film was good, not bad!") == ["the", "film", "was", "good", ",", "not", "bad", "!"]
    assert tokenize("It wasn't  DULL...") == ["it", "wasn't", "dull", ".", ".", "."]
    assert tokenize("") == []
    with pytest.raises(TypeError, match="text must be a str, received int"):
        tokenize(3)


def test_vocabulary_comes_from_the_given_sentences_only():
    vocab = build_word_vocab(TRAIN)
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and "wasn't" in vocab and "superb" not in vocab
    assert vocab.itos[2:] == sorted(vocab.itos[2:])
    frequent = build_word_vocab(TRAIN, min_count=2)
    assert set(frequent.itos) == {"<pad>", "<unk>", "the", "film", "was", "dull"}
    with pytest.raises(ValueError, match="at least one non-empty sentence"):
        build_word_vocab(["", " "])


def test_unknown_rate_counts_tokens_outside_the_vocabulary():
    vocab = build_word_vocab(TRAIN)
    assert unknown_rate(TRAIN, vocab) == 0.0
    assert unknown_rate(["the film was superb"], vocab) == 0.25
    with pytest.raises(ValueError, match="at least one token"):
        unknown_rate([""], vocab)
    with pytest.raises(ValueError, match="WordVocab with '<pad>'"):
        unknown_rate(["the film"], WordVocab(["the"], specials=("<unk>",)))


def test_encode_with_lengths_pads_after_the_end():
    vocab = build_word_vocab(TRAIN)
    ids, lengths = encode_with_lengths(["the film was superb", "dull"], vocab)
    assert ids.dtype == lengths.dtype == np.int64 and ids.shape == (2, 4)
    assert lengths.tolist() == [4, 1]
    assert ids[0, 3] == vocab["<unk>"] and ids[1].tolist() == [vocab["dull"], 0, 0, 0]
    short, short_lengths = encode_with_lengths(["the film was superb", "dull"], vocab, max_len=2)
    assert short.shape == (2, 2) and short_lengths.tolist() == [2, 1]
    with pytest.raises(ValueError, match="at least one token each"):
        encode_with_lengths(["the film", ""], vocab)


def test_trim_batch_cuts_to_the_longest_sentence_of_the_batch():
    ids = np.array([[5, 6, 0, 0], [7, 0, 0, 0]])
    assert trim_batch(ids, np.array([2, 1])).tolist() == [[5, 6], [7, 0]]
    cut = trim_batch(torch.as_tensor(ids), torch.tensor([1, 1]))
    assert isinstance(cut, torch.Tensor) and cut.shape == (2, 1)
    with pytest.raises(ValueError, match="lengths must be <= the padded length 4"):
        trim_batch(ids, np.array([5, 1]))


def test_padding_share_per_batch_never_exceeds_the_global_one():
    lengths = np.array([1, 1, 1, 1, 10, 10, 10, 10])
    per_batch, overall = padding_share(lengths, 4, seed=0)
    assert overall == pytest.approx(1 - 44 / 80)
    assert 0.0 <= per_batch <= overall
    sorted_share, _ = padding_share(np.full(8, 3), 4, seed=0)
    assert sorted_share == 0.0
    with pytest.raises(ValueError, match="non-empty 1-D sequence of positive ints"):
        padding_share([3, 0], 4, seed=0)
