"""rnnlab.sampling: the distribution is softmax(z / tau) over the top k, and draws follow it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnnlab.sampling import next_token_probs, sample_next

finite_logits = arrays(np.float64, st.integers(2, 30), elements=st.floats(-30, 30))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@settings(max_examples=60, deadline=None)
@given(finite_logits, st.floats(0.05, 5.0))
def test_probs_are_a_distribution_equal_to_tempered_softmax(logits, temperature):
    probs = next_token_probs(logits, temperature=temperature)
    assert probs.shape == logits.shape and probs.dtype == np.float64
    assert (probs >= 0).all() and np.isclose(probs.sum(), 1.0)
    np.testing.assert_allclose(probs, softmax(logits / temperature), rtol=1e-9, atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(finite_logits, st.data())
def test_top_k_keeps_exactly_the_k_largest(logits, data):
    k = data.draw(st.integers(1, logits.size))
    probs = next_token_probs(logits, top_k=k)
    kept = probs > 0
    assert kept.sum() == k
    # every kept logit is >= every dropped one
    if k < logits.size:
        assert logits[kept].min() >= logits[~kept].max()
    np.testing.assert_allclose(probs[kept], softmax(logits[kept]), rtol=1e-9)


def test_top_k_equal_to_vocab_size_is_no_truncation():
    logits = np.random.default_rng(0).normal(size=(3, 7))
    np.testing.assert_array_equal(next_token_probs(logits, top_k=7), next_token_probs(logits))


def test_matches_torch_topk_softmax():
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(1).normal(size=(4, 11)) * 3
    for temperature, k in [(0.5, 3), (1.0, None), (1.7, 5)]:
        z = torch.tensor(logits) / temperature
        if k is not None:
            threshold = torch.topk(z, k, dim=-1).values[..., -1:]
            z = z.masked_fill(z < threshold, float("-inf"))
        expected = torch.softmax(z, dim=-1).numpy()
        np.testing.assert_allclose(next_token_probs(logits, temperature=temperature, top_k=k), expected, atol=1e-12)


def test_lower_temperature_means_lower_entropy():
    logits = np.random.default_rng(2).normal(size=20) * 2
    entropies = []
    for temperature in (0.25, 0.5, 1.0, 1.5, 3.0):
        p = next_token_probs(logits, temperature=temperature)
        entropies.append(-(p * np.log(p)).sum())
    assert np.all(np.diff(entropies) > 0)


def test_temperature_zero_is_greedy_and_tiny_temperature_is_nearly_greedy():
    logits = np.array([0.1, 2.0, 1.9, -1.0])
    np.testing.assert_array_equal(next_token_probs(logits, temperature=0.0), [0, 1, 0, 0])
    rng = np.random.default_rng(0)
    assert all(sample_next(logits, temperature=0.0, rng=rng) == 1 for _ in range(20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings
        probs = next_token_probs(logits, temperature=1e-300)
    np.testing.assert_array_equal(probs, [0, 1, 0, 0])


def test_empirical_frequencies_follow_the_probabilities():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    rng = np.random.default_rng(3)
    draws = sample_next(np.tile(logits, (40_000, 1)), rng=rng)
    assert draws.shape == (40_000,) and draws.dtype == np.int64
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 40_000, [0.5, 0.3, 0.15, 0.05], atol=0.01)


def test_never_draws_outside_the_top_k():
    logits = np.random.default_rng(4).normal(size=50)
    allowed = set(np.argsort(logits)[-5:])
    rng = np.random.default_rng(5)
    draws = sample_next(np.tile(logits, (5000, 1)), temperature=3.0, top_k=5, rng=rng)
    assert set(draws.tolist()) == allowed


def test_one_uniform_per_draw_and_same_seed_same_draws():
    logits = np.random.default_rng(6).normal(size=10)
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    first = [sample_next(logits, temperature=1.3, top_k=4, rng=a) for _ in range(50)]
    second = [sample_next(logits, temperature=1.3, top_k=4, rng=b) for _ in range(50)]
    assert first == second and all(isinstance(i, int) for i in first)
    reference = np.random.default_rng(7)
    reference.random(50)  # 50 draws consumed 50 uniforms, no more
    assert a.random() == reference.random()


def test_inverse_cdf_picks_the_first_id_whose_cdf_exceeds_u():
    logits = np.log(np.array([0.2, 1e-300, 0.3, 0.5]))  # id 1 is (almost) never drawn
    probs = next_token_probs(logits)
    cdf = np.cumsum(probs)
    rng = np.random.default_rng(8)
    for _ in range(200):
        state = rng.bit_generator.state
        u = rng.random()  # peek at the uniform the next draw will use
        rng.bit_generator.state = state
        assert sample_next(logits, rng=rng) == int(np.searchsorted(cdf, u, side="right"))


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"logits": np.array([1.0, np.nan])}, ValueError),
        ({"logits": np.array([1.0, np.inf])}, ValueError),
        ({"logits": np.float64(1.0)}, ValueError),
        ({"logits": np.zeros(3), "temperature": -0.1}, ValueError),
        ({"logits": np.zeros(3), "top_k": 0}, ValueError),
        ({"logits": np.zeros(3), "top_k": 4}, ValueError),
        ({"logits": np.zeros(3), "top_k": 2.0}, TypeError),
    ],
)
def test_bad_arguments_are_refused(kwargs, error):
    with pytest.raises(error):
        next_token_probs(**kwargs)
    with pytest.raises(error):
        sample_next(**kwargs, rng=np.random.default_rng(0))


def test_sample_next_refuses_a_missing_generator_and_3d_logits():
    with pytest.raises(TypeError, match="Generator"):
        sample_next(np.zeros(3), rng=0)
    with pytest.raises(ValueError, match=r"\(V,\) or \(B, V\)"):
        sample_next(np.zeros((2, 2, 3)), rng=np.random.default_rng(0))
