"""rnnlab.ngram: add-k and interpolated modified Kneser–Ney n-gram models over token ids."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.ngram import AdditiveNGram, KneserNeyNGram

K = 6


def markov_text(length: int, seed: int) -> np.ndarray:
    """A stream with real structure: a random second-order Markov chain over K tokens."""
    rng = np.random.default_rng(seed)
    table = rng.dirichlet(np.full(K, 0.3), size=(K, K))  # p(next | previous two), peaked
    ids = list(rng.integers(K, size=2))
    for _ in range(length - 2):
        ids.append(rng.choice(K, p=table[ids[-2], ids[-1]]))
    return np.array(ids)


STREAM = markov_text(5000, seed=0)
TRAIN, HELD_OUT = STREAM[:4000], STREAM[4000:]  # held-out text: the same chain, later draws


def windows(ids: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    n = (len(ids) - 1) // length
    return ids[: n * length].reshape(n, length), ids[1 : n * length + 1].reshape(n, length)


# --------------------------------------------------------------------------- distributions
@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(0, 4), st.integers(0, 10_000))
def test_every_context_gives_a_distribution_over_the_vocabulary(order, context_length, seed):
    rng = np.random.default_rng(seed)
    train = rng.integers(K, size=rng.integers(order, 300))
    contexts = rng.integers(K, size=(8, context_length))  # seen and unseen contexts alike
    for model in (KneserNeyNGram(train, order=order, vocab_size=K), AdditiveNGram(train, order=order, vocab_size=K)):
        probs = model.probs(contexts)
        assert probs.shape == (8, K) and probs.dtype == np.float64
        assert (probs > 0).all()  # smoothing: no token is impossible
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)


def test_log_prob_and_nll_agree_with_probs():
    model = KneserNeyNGram(TRAIN, order=4, vocab_size=K)
    inputs, targets = windows(HELD_OUT, 20)
    nll = model.nll(inputs, targets)
    assert nll.shape == inputs.shape
    for t in (0, 1, 2, 3, 10, 19):  # short contexts at the start of a window, full ones later
        expected = -np.log(model.probs(inputs[:, : t + 1])[np.arange(len(targets)), targets[:, t]])
        np.testing.assert_allclose(nll[:, t], expected, rtol=1e-12)
        np.testing.assert_allclose(model.log_prob(inputs[:, : t + 1], targets[:, t]), -expected, rtol=1e-12)


def test_only_the_last_n_minus_1_tokens_matter():
    model = KneserNeyNGram(TRAIN, order=3, vocab_size=K)
    contexts = np.array([[0, 1, 2, 3, 4], [5, 5, 5, 3, 4], [3, 4, 3, 3, 4]])
    probs = model.probs(contexts)
    np.testing.assert_array_equal(probs[0], probs[1])
    np.testing.assert_array_equal(probs[0], probs[2])
    np.testing.assert_array_equal(probs[0], model.probs([3, 4]))


# --------------------------------------------------------------------------- against the formulas
def reference_kneser_ney(train, order, context, target):
    """Interpolated modified Kneser–Ney written out with Counters (Chen and Goodman, 1999)."""
    train = [int(i) for i in train]
    grams = {m: Counter(tuple(train[i : i + m]) for i in range(len(train) - m + 1)) for m in range(1, order + 1)}

    def discounts(counts):
        n = [sum(1 for c in counts.values() if c == r) for r in (1, 2, 3, 4)]
        y = n[0] / (n[0] + 2 * n[1]) if n[0] + 2 * n[1] else 0.5
        fallback = y if 0 < y < 1 else 0.5  # the documented rule for too sparse counts of counts
        formula = [r - (r + 1) * y * n[r] / n[r - 1] if n[r - 1] else 0.0 for r in (1, 2, 3)]
        return [d if 0 < d <= r else fallback for r, d in zip((1, 2, 3), formula)]

    def table(m, top):
        if top:
            return grams[m]
        # continuation counts: distinct tokens seen before each m-gram
        return Counter(gram[1:] for gram in grams[m + 1])

    def prob(m, top, ctx):
        if m == 0:
            return 1.0 / K
        counts = table(m, top)
        d = discounts(counts)
        ctx = tuple(ctx[len(ctx) - (m - 1):]) if m > 1 else ()
        lower = prob(m - 1, False, ctx)
        seen = {g: c for g, c in counts.items() if g[:-1] == ctx}
        total = sum(seen.values())
        if total == 0:
            return lower
        count = seen.get(ctx + (target,), 0)
        gamma = sum(d[min(c, 3) - 1] for c in seen.values())
        return (max(count - (d[min(count, 3) - 1] if count else 0), 0) + gamma * lower) / total

    width = min(len(context), order - 1)
    return prob(width + 1, True, tuple(int(i) for i in context))


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_kneser_ney_matches_the_written_out_formula(order):
    train = TRAIN[:1500]
    model = KneserNeyNGram(train, order=order, vocab_size=K)
    rng = np.random.default_rng(order)
    for length in range(order + 1):
        contexts = rng.integers(K, size=(4, length))
        targets = rng.integers(K, size=4)
        got = np.exp(model.log_prob(contexts, targets))
        expected = [reference_kneser_ney(train, order, c, y) for c, y in zip(contexts, targets)]
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_modified_discounts_follow_chen_and_goodman():
    model = KneserNeyNGram(TRAIN, order=3, vocab_size=K)
    grams = Counter(tuple(TRAIN[i : i + 3]) for i in range(len(TRAIN) - 2))
    n1, n2, n3, n4 = (sum(1 for c in grams.values() if c == r) for r in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2)
    expected = [1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3]
    np.testing.assert_allclose(model.discounts[2], expected, rtol=1e-12)


def test_additive_model_is_the_add_k_formula():
    k = 0.5
    model = AdditiveNGram(TRAIN, order=2, vocab_size=K, k=k)
    pairs = np.zeros((K, K))
    np.add.at(pairs, (TRAIN[:-1], TRAIN[1:]), 1.0)
    expected = (pairs + k) / (pairs.sum(axis=1, keepdims=True) + k * K)
    np.testing.assert_allclose(model.probs(np.arange(K)[:, None]), expected, rtol=1e-12)
    unigram = AdditiveNGram(TRAIN, order=1, vocab_size=K, k=1.0)
    np.testing.assert_allclose(unigram.probs([]), (np.bincount(TRAIN, minlength=K) + 1) / (len(TRAIN) + K), rtol=1e-12)


# --------------------------------------------------------------------------- behaviour
def test_kneser_ney_beats_add_one_on_held_out_text():
    # Where the n-grams are sparse (orders 3-5 of 6 tokens in 4,000), add-one gives far too much
    # mass to the unseen ones; with plentiful bigrams both are close to the counts.
    inputs, targets = windows(HELD_OUT, 20)
    for order in (3, 4, 5):
        kneser_ney = KneserNeyNGram(TRAIN, order=order, vocab_size=K).nll(inputs, targets).mean()
        add_one = AdditiveNGram(TRAIN, order=order, vocab_size=K).nll(inputs, targets).mean()
        assert kneser_ney < add_one
    # and the chain is second order, so order 3 beats order 2 on held-out text
    assert KneserNeyNGram(TRAIN, order=3, vocab_size=K).nll(inputs, targets).mean() < \
        KneserNeyNGram(TRAIN, order=2, vocab_size=K).nll(inputs, targets).mean()


def test_unseen_contexts_back_off_to_the_lower_orders():
    train = np.array([0, 1, 2, 0, 1, 3, 0, 1, 2, 4, 3, 0])  # token 5 never occurs
    model = KneserNeyNGram(train, order=3, vocab_size=K)
    pairs = set(zip(train.tolist(), train[1:].tolist()))
    assert (0, 2) not in pairs and (4, 2) not in pairs and {(2, 0), (2, 4)} <= pairs
    # two unseen contexts ending in 2 both fall back to the order-2 distribution after 2 ...
    after_two = model.probs([0, 2])
    np.testing.assert_array_equal(after_two, model.probs([4, 2]))
    assert set(np.argsort(after_two)[-2:].tolist()) == {0, 4}  # ... which favours what followed 2
    # a context whose last token never occurs backs off all the way to the order-1 distribution
    after_five = model.probs([1, 5])
    np.testing.assert_array_equal(after_five, model.probs([0, 5]))
    assert not np.allclose(after_five, after_two)
    for context, probs in (([0, 2], after_two), ([1, 5], after_five)):
        expected = [reference_kneser_ney(train, 3, context, y) for y in range(K)]
        np.testing.assert_allclose(probs, expected, rtol=1e-12)
        np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-12)


def test_order_one_ignores_the_context_and_follows_the_counts():
    model = KneserNeyNGram(TRAIN, order=1, vocab_size=K)
    probs = model.probs(np.array([[0, 1, 2], [5, 4, 3]]))
    np.testing.assert_array_equal(probs[0], probs[1])
    np.testing.assert_array_equal(probs[0], model.probs([]))
    counts = np.bincount(TRAIN, minlength=K)
    assert np.array_equal(np.argsort(probs[0], kind="stable"), np.argsort(counts, kind="stable"))
    np.testing.assert_allclose(probs[0], counts / counts.sum(), atol=1e-3)  # a unigram, lightly smoothed
    inputs, targets = windows(HELD_OUT, 20)
    nll = model.nll(inputs, targets)
    np.testing.assert_allclose(nll, -np.log(probs[0][targets]), rtol=1e-12)  # every position alike


def test_a_token_never_seen_in_training_still_has_a_probability():
    train = np.array([0, 1, 0, 1, 2, 0, 1])  # tokens 3, 4, 5 never occur
    for model in (KneserNeyNGram(train, order=3, vocab_size=K), AdditiveNGram(train, order=3, vocab_size=K)):
        assert (model.probs([0, 1])[3:] > 0).all()


# --------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("cls", [KneserNeyNGram, AdditiveNGram])
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"ids": np.array([0, 1, 2]), "order": 0, "vocab_size": K}, r"order must be an int >= 1, received 0"),
        ({"ids": np.array([0, 1, 2]), "order": 2, "vocab_size": 1}, r"vocab_size must be an int >= 2, received 1"),
        ({"ids": np.array([0, 1, 7]), "order": 2, "vocab_size": K}, r"ids in 0..5 \(K = 6\), received values in 0..7"),
        ({"ids": np.array([-1, 1, 2]), "order": 2, "vocab_size": K}, r"received values in -1..2"),
        ({"ids": np.array([[0, 1], [1, 2]]), "order": 2, "vocab_size": K},
         r"1 dimension\(s\), received shape \(2, 2\)"),
        ({"ids": np.array([0, 1]), "order": 3, "vocab_size": K}, r"at least order = 3 tokens, received 2"),
        ({"ids": np.array([0, 1, 2]), "order": 10, "vocab_size": 97},
         r"K\*\*order < 2\*\*62 for K = 97, received order 10"),
    ],
)
def test_bad_arguments_raise_value_errors_that_say_what_was_expected(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_bad_queries_and_types_are_refused():
    model = KneserNeyNGram(TRAIN, order=3, vocab_size=K)
    with pytest.raises(ValueError, match=r"ids in 0..5"):
        model.probs([0, 6])
    with pytest.raises(ValueError, match=r"same length B, received 2 and 3"):
        model.log_prob(np.zeros((2, 2), dtype=int), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"same shape, received \(2, 5\) and \(2, 4\)"):
        model.nll(np.zeros((2, 5), dtype=int), np.zeros((2, 4), dtype=int))
    with pytest.raises(TypeError, match="integer token ids, received dtype float64"):
        model.probs(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="order must be an int"):
        KneserNeyNGram(TRAIN, order=2.0, vocab_size=K)
    with pytest.raises(ValueError, match=r"k must be a finite number > 0.0, received 0.0"):
        AdditiveNGram(TRAIN, order=2, vocab_size=K, k=0.0)


def test_num_counts_is_one_per_distinct_n_gram_of_every_table():
    train = np.array([0, 1, 0, 1, 2])
    # distinct 1-grams {0, 1, 2}, 2-grams {01, 10, 12}; continuation 1-grams: {1, 0, 2} (each has a left neighbour)
    assert AdditiveNGram(train, order=2, vocab_size=K).num_counts == 3 + 3
    assert KneserNeyNGram(train, order=2, vocab_size=K).num_counts == 3 + 3 + 3
