"""rnnlab.sampling: the distribution is softmax(s / T_s) over the top k, then the top-p nucleus, and draws follow it."""

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
        ({"logits": np.zeros(3), "top_p": 0.0}, ValueError),
        ({"logits": np.zeros(3), "top_p": -0.5}, ValueError),
        ({"logits": np.zeros(3), "top_p": 1.01}, ValueError),
        ({"logits": np.zeros(3), "top_p": float("nan")}, ValueError),
        ({"logits": np.zeros(3), "top_p": float("inf")}, ValueError),
        ({"logits": np.zeros(3), "top_p": "0.9"}, TypeError),
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
    with pytest.raises(ValueError, match=r"\(K,\) or \(B, K\)"):
        sample_next(np.zeros((2, 2, 3)), rng=np.random.default_rng(0))


# --------------------------------------------------------------------------- top-p (nucleus)
def nucleus_reference(probs, top_p):
    """The definition, one row at a time: the smallest prefix of the ranked tokens with mass >= top_p."""
    ranked = np.argsort(-probs, kind="stable")
    size = int(np.searchsorted(np.cumsum(probs[ranked]), top_p)) + 1  # first prefix whose mass reaches top_p
    kept = np.zeros_like(probs)
    kept[ranked[:size]] = probs[ranked[:size]]
    return kept / kept.sum()


@settings(max_examples=60, deadline=None)
@given(finite_logits, st.floats(1e-6, 1.0))
def test_top_p_keeps_the_smallest_set_that_reaches_p(logits, top_p):
    base = next_token_probs(logits)
    probs = next_token_probs(logits, top_p=top_p)
    kept = probs > 0
    assert base[kept].sum() >= top_p * (1 - 1e-12)  # the kept set reaches top_p ...
    smallest_kept = base[kept].min()
    assert base[kept].sum() - smallest_kept < top_p * (1 + 1e-12)  # ... and no smaller one does
    if (~kept).any():
        assert smallest_kept >= base[~kept].max()  # the kept tokens are the likeliest ones
    np.testing.assert_allclose(probs[kept], base[kept] / base[kept].sum(), rtol=1e-9)
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-12)


def test_top_p_equals_the_definition_on_random_rows():
    rng = np.random.default_rng(10)
    logits = rng.normal(size=(200, 15)) * 2
    for top_p in (0.05, 0.3, 0.5, 0.9, 0.99):
        probs = next_token_probs(logits, top_p=top_p)
        expected = np.array([nucleus_reference(row, top_p) for row in next_token_probs(logits)])
        np.testing.assert_allclose(probs, expected, rtol=1e-12, atol=0)


def test_top_p_one_is_the_identity():
    logits = np.random.default_rng(11).normal(size=(5, 9)) * 3
    for temperature, k in [(1.0, None), (0.7, 4), (2.0, 9), (0.0, None)]:
        np.testing.assert_array_equal(
            next_token_probs(logits, temperature=temperature, top_k=k, top_p=1.0),
            next_token_probs(logits, temperature=temperature, top_k=k),
        )
        np.testing.assert_array_equal(
            next_token_probs(logits, temperature=temperature, top_k=k, top_p=None),
            next_token_probs(logits, temperature=temperature, top_k=k),
        )


def test_a_small_top_p_keeps_only_the_argmax():
    logits = np.random.default_rng(12).normal(size=(50, 20))
    probs = next_token_probs(logits, top_p=1e-9, temperature=1.5)
    np.testing.assert_array_equal(probs, np.eye(20)[logits.argmax(axis=1)])
    # and any top_p up to the largest probability does the same
    largest = next_token_probs(logits).max(axis=1)
    for row in range(5):
        one = next_token_probs(logits[row], top_p=float(largest[row]) * (1 - 1e-9))
        np.testing.assert_array_equal(one, np.eye(20)[logits[row].argmax()])


def test_top_p_adapts_the_number_of_tokens_to_the_distribution():
    peaked = np.log(np.array([0.9, 0.05, 0.03, 0.02]))
    flat = np.log(np.array([0.3, 0.25, 0.25, 0.2]))
    assert (next_token_probs(peaked, top_p=0.85) > 0).sum() == 1  # 0.9 reaches 0.85 on its own
    assert (next_token_probs(flat, top_p=0.85) > 0).sum() == 4  # 0.3 + 0.25 + 0.25 = 0.8 does not


def test_top_p_composes_with_temperature_and_top_k():
    rng = np.random.default_rng(13)
    logits = rng.normal(size=(100, 12)) * 2
    for temperature, k, top_p in [(0.5, None, 0.8), (1.5, 6, 0.7), (1.0, 3, 0.95), (2.0, 12, 0.5)]:
        probs = next_token_probs(logits, temperature=temperature, top_k=k, top_p=top_p)
        before = next_token_probs(logits, temperature=temperature, top_k=k)  # tempered, top-k
        expected = np.array([nucleus_reference(row, top_p) for row in before])
        np.testing.assert_allclose(probs, expected, rtol=1e-12, atol=0)
        assert ((probs > 0) <= (before > 0)).all()  # never outside the top k


def test_top_p_matches_the_usual_torch_idiom():
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(14).normal(size=(6, 30)) * 2
    for temperature, k, top_p in [(1.0, None, 0.9), (0.8, 10, 0.6)]:
        z = torch.tensor(logits) / temperature
        if k is not None:
            z = z.masked_fill(z < torch.topk(z, k, dim=-1).values[..., -1:], float("-inf"))
        sorted_z, order = torch.sort(z, descending=True, dim=-1)
        mass = torch.softmax(sorted_z, dim=-1).cumsum(dim=-1)
        remove = mass > top_p
        remove[..., 1:] = remove[..., :-1].clone()  # keep the token that crosses top_p
        remove[..., 0] = False
        z = z.masked_fill(remove.scatter(-1, order, remove), float("-inf"))
        expected = torch.softmax(z, dim=-1).numpy()
        np.testing.assert_allclose(next_token_probs(logits, temperature=temperature, top_k=k, top_p=top_p),
                                   expected, atol=1e-12)


def test_sampling_never_leaves_the_nucleus_and_follows_it():
    logits = np.log(np.array([0.4, 0.3, 0.2, 0.06, 0.04]))
    draws = sample_next(np.tile(logits, (30_000, 1)), top_p=0.85, rng=np.random.default_rng(15))
    assert set(draws.tolist()) == {0, 1, 2}  # 0.4 + 0.3 = 0.7 < 0.85 <= 0.9
    np.testing.assert_allclose(np.bincount(draws, minlength=5) / 30_000, [4 / 9, 3 / 9, 2 / 9, 0, 0], atol=0.01)
