"""rnnlab.modern: loops against parallel forms, dtypes, what each state can store, bad shapes."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab import modern
from rnnlab.scan import min_gru

SETTINGS = settings(max_examples=15, deadline=None)
dims = st.integers(1, 4)
steps = st.integers(1, 40)


def qkv(seed, batch, time, dk, dv, dtype=np.float64):
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((2, batch, time, dk))
    k = k / np.linalg.norm(k, axis=-1, keepdims=True)  # unit keys, as the delta rule needs
    v = rng.standard_normal((batch, time, dv))
    return q.astype(dtype), k.astype(dtype), v.astype(dtype), rng


def ssm_inputs(seed, batch, time, width, state, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, time, width))
    delta = np.exp(rng.standard_normal((batch, time, width)) - 1)
    A = -np.exp(rng.standard_normal((width, state)))
    B, C = rng.standard_normal((2, batch, time, state))
    return [a.astype(dtype) for a in (x, delta, A, B, C)] + [rng]


@SETTINGS
@given(st.integers(0, 2**16), dims, steps, dims, dims, st.integers(1, 9), st.sampled_from(["none", "float", "array"]))
def test_linear_attention_and_delta_rule_parallel_equal_loop(seed, batch, time, dk, dv, chunk, kind):
    q, k, v, rng = qkv(seed, batch, time, dk, dv)
    decay = {"none": None, "float": 0.9, "array": rng.uniform(0.3, 1.0, (batch, time))}[kind]
    beta = rng.uniform(0.05, 1.0, (batch, time))
    for fn, args in ((modern.linear_attention, (q, k, v)), (modern.delta_rule, (q, k, v, beta))):
        loop = fn(*args, decay=decay)
        par = fn(*args, decay=decay, mode="parallel", chunk_size=chunk)
        assert loop.shape == (batch, time, dv)
        np.testing.assert_allclose(par, loop, rtol=0, atol=1e-10)


@SETTINGS
@given(st.integers(0, 2**16), dims, steps, dims, dims)
def test_selective_scan_parallel_equals_loop(seed, batch, time, width, state):
    x, delta, A, B, C, rng = ssm_inputs(seed, batch, time, width, state)
    D = rng.standard_normal(width)
    loop = modern.selective_scan(x, delta, A, B, C, D)
    assert loop.shape == (batch, time, width)
    np.testing.assert_allclose(modern.selective_scan(x, delta, A, B, C, D, mode="parallel"), loop, rtol=0, atol=1e-10)


@SETTINGS
@given(st.integers(0, 2**16), dims, steps, dims, dims, st.integers(1, 9))
def test_ssd_scan_equals_masked_matrix(seed, batch, time, width, state, chunk):
    x, _, _, B, C, rng = ssm_inputs(seed, batch, time, width, state)
    a = rng.uniform(0.2, 1.0, (batch, time))
    loop = modern.ssd(x, a, B, C)
    M = modern.ssd_matrix(a, B, C)
    assert M.shape == (batch, time, time)
    assert np.all(np.triu(M, k=1) == 0)  # causal: nothing from the future
    np.testing.assert_allclose(M @ x, loop, rtol=0, atol=1e-10)
    np.testing.assert_allclose(modern.ssd(x, a, B, C, mode="parallel", chunk_size=chunk), loop, rtol=0, atol=1e-10)


@SETTINGS
@given(st.integers(0, 2**16), dims, steps, dims, dims)
def test_lru_rg_lru_min_lstm_parallel_equal_loop(seed, batch, time, width, state):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, time, width))
    nu_log = np.log(-np.log(rng.uniform(0.5, 0.999, state)))
    theta_log = np.log(rng.uniform(0.01, np.pi, state))
    B = rng.standard_normal((width, state)) + 1j * rng.standard_normal((width, state))
    C = rng.standard_normal((state, 3)) + 1j * rng.standard_normal((state, 3))
    loop = modern.lru(x, nu_log, theta_log, B, C)
    assert loop.shape == (batch, time, 3) and loop.dtype == np.float64
    np.testing.assert_allclose(modern.lru(x, nu_log, theta_log, B, C, mode="parallel"), loop, rtol=0, atol=1e-10)
    W, b = rng.standard_normal((3, width, width)), rng.standard_normal((3, width))
    loop = modern.rg_lru(x, W[0], b[0], W[1], b[1], b[2])
    np.testing.assert_allclose(modern.rg_lru(x, W[0], b[0], W[1], b[1], b[2], mode="parallel"), loop, rtol=0, atol=1e-10)
    args = (x, W[0], b[0], W[1], b[1], W[2], b[2])
    np.testing.assert_allclose(modern.min_lstm(*args, mode="parallel"), modern.min_lstm(*args), rtol=0, atol=1e-10)


@SETTINGS
@given(st.integers(0, 2**16), dims, steps, dims, dims, st.integers(1, 50))
def test_mlstm_stabilised_unstabilised_recurrent_parallel_agree(seed, batch, time, dk, dv, chunk):
    q, k, v, rng = qkv(seed, batch, time, dk, dv)
    i_pre, f_pre = 3 * rng.standard_normal((2, batch, time))  # small enough for exp(ĩ) not to overflow
    ref = modern.mlstm(q, k, v, i_pre, f_pre)
    for stabilise in (True, False):
        np.testing.assert_allclose(modern.mlstm(q, k, v, i_pre, f_pre, stabilise=stabilise), ref, rtol=0, atol=1e-10)
        for size in (chunk, time):  # chunked, and the paper's single (T, T) matrix
            out = modern.mlstm(q, k, v, i_pre, f_pre, stabilise=stabilise, mode="parallel", chunk_size=size)
            np.testing.assert_allclose(out, ref, rtol=0, atol=1e-10)


def test_mlstm_unstabilised_overflows_in_float32_and_stabilised_does_not():
    q, k, v, _ = qkv(0, 1, 20, 4, 3, np.float32)
    i_pre = np.full((1, 20), 100.0, dtype=np.float32)  # exp(100) > float32 max ≈ 3.4e38
    f_pre = np.zeros((1, 20), dtype=np.float32)
    for mode, size in (("recurrent", 64), ("parallel", 64), ("parallel", 6)):
        assert not np.all(np.isfinite(modern.mlstm(q, k, v, i_pre, f_pre, stabilise=False, mode=mode, chunk_size=size)))
        stable = modern.mlstm(q, k, v, i_pre, f_pre, mode=mode, chunk_size=size)
        assert stable.dtype == np.float32 and np.all(np.isfinite(stable))
        # the stabiliser only rescales: the float64 unstabilised answer (exp(100) fits) is the same
        ref = modern.mlstm(*(a.astype(np.float64) for a in (q, k, v, i_pre, f_pre)), stabilise=False)
        np.testing.assert_allclose(stable, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["recurrent", "parallel"])
def test_dtypes_are_preserved(dtype, mode):
    q, k, v, rng = qkv(1, 2, 10, 3, 2, dtype)
    beta = rng.uniform(0.1, 1, (2, 10))  # float64 gates must not upcast float32 data
    decay = rng.uniform(0.5, 1, (2, 10))
    assert modern.linear_attention(q, k, v, decay=decay, mode=mode).dtype == dtype
    assert modern.delta_rule(q, k, v, beta, decay=decay, mode=mode).dtype == dtype
    assert modern.mlstm(q, k, v, beta, beta, mode=mode).dtype == dtype
    x, delta, A, B, C, rng = ssm_inputs(2, 2, 10, 3, 4, dtype)
    assert modern.selective_scan(x, delta, A, B, C, np.ones(3, dtype), mode=mode).dtype == dtype
    assert modern.ssd(x, decay, B, C, mode=mode).dtype == dtype
    W = rng.standard_normal((3, 3)).astype(dtype)
    b = np.zeros(3, dtype)
    assert modern.rg_lru(x, W, b, W, b, b, mode=mode).dtype == dtype
    assert modern.min_lstm(x, W, b, W, b, W, b, mode=mode).dtype == dtype
    Bc = (rng.standard_normal((3, 2)) + 1j).astype(np.complex64 if dtype == np.float32 else np.complex128)
    assert modern.lru(x, np.zeros(2), np.zeros(2), Bc, Bc.T, mode=mode).dtype == dtype


def test_decay_none_equals_decay_one():
    q, k, v, rng = qkv(3, 2, 12, 3, 2)
    beta = rng.uniform(0.1, 1, (2, 12))
    for mode in ("recurrent", "parallel"):
        for fn, args in ((modern.linear_attention, (q, k, v)), (modern.delta_rule, (q, k, v, beta))):
            none = fn(*args, mode=mode)
            np.testing.assert_array_equal(fn(*args, decay=1.0, mode=mode), none)
            np.testing.assert_array_equal(fn(*args, decay=np.ones((2, 12)), mode=mode), none)


def test_delta_rule_retrieves_the_last_value_written_to_each_key_and_linear_attention_does_not():
    rng = np.random.default_rng(4)
    dk, dv, writes = 4, 3, 12
    keys = np.linalg.qr(rng.standard_normal((dk, dk)))[0].T  # dk orthonormal rows
    which = rng.integers(0, dk, writes)
    which[:dk] = np.arange(dk)  # every key written at least once, then overwritten at random
    k = keys[which][None]  # (1, writes, dk)
    v = rng.standard_normal((1, writes, dv))
    # o_T = q S_T: with q = key j, the last output reads what the final state stores under key j
    last = {int(key): v[0, t] for t, key in enumerate(which)}  # the last value per key
    for mode in ("recurrent", "parallel"):
        for j in range(dk):
            q = np.broadcast_to(keys[j], (1, writes, dk))
            delta = modern.delta_rule(q, k, v, 1.0, mode=mode)[0, -1]
            np.testing.assert_allclose(delta, last[j], rtol=0, atol=1e-12)
            linear = modern.linear_attention(q, k, v, mode=mode)[0, -1]
            summed = v[0, which == j].sum(axis=0)  # linear attention returns the sum of all writes
            np.testing.assert_allclose(linear, summed, rtol=0, atol=1e-12)
            if np.sum(which == j) > 1:
                assert np.abs(linear - last[j]).max() > 1e-3


@pytest.mark.parametrize(
    "call, expected, received",
    [
        (lambda: modern.linear_attention(np.zeros((2, 5, 3)), np.zeros((2, 5, 4)), np.zeros((2, 5, 2))),
         "(2, 5, 3)", "(2, 5, 4)"),
        (lambda: modern.linear_attention(np.zeros((2, 5, 3)), np.zeros((2, 5, 3)), np.zeros((2, 4, 2))),
         "(2, 5, dv)", "(2, 4, 2)"),
        (lambda: modern.linear_attention(np.zeros((2, 5, 3)), np.zeros((2, 5, 3)), np.zeros((2, 5, 2)),
                                         decay=np.ones((2, 4))), "(2, 5)", "(2, 4)"),
        (lambda: modern.delta_rule(np.zeros((2, 5, 3)), np.zeros((2, 5, 3)), np.zeros((2, 5, 2)), np.ones((5, 2))),
         "(2, 5)", "(5, 2)"),
        (lambda: modern.selective_scan(np.zeros((1, 5, 3)), np.zeros((1, 5, 3)), -np.ones((3, 4)),
                                       np.zeros((1, 5, 4)), np.zeros((1, 5, 2))), "(1, 5, 4)", "(1, 5, 2)"),
        (lambda: modern.selective_scan(np.zeros((1, 5, 3)), np.zeros((1, 5, 3)), -np.ones((2, 4)),
                                       np.zeros((1, 5, 4)), np.zeros((1, 5, 4))), "(3, N)", "(2, 4)"),
        (lambda: modern.selective_scan(np.zeros((1, 5, 3)), np.zeros((1, 5, 3)), -np.ones((3, 4)),
                                       np.zeros((1, 5, 4)), np.zeros((1, 5, 4)), np.ones(2)), "(3,)", "(2,)"),
        (lambda: modern.ssd(np.zeros((1, 5, 3)), np.ones((1, 6)), np.zeros((1, 5, 2)), np.zeros((1, 5, 2))),
         "(1, 5)", "(1, 6)"),
        (lambda: modern.mlstm(np.zeros((1, 5, 3)), np.zeros((1, 5, 3)), np.zeros((1, 5, 3)), np.zeros((1, 5)),
                              np.zeros((5,))), "(1, 5)", "(5,)"),
        (lambda: modern.rg_lru(np.zeros((1, 5, 3)), np.zeros((3, 2)), np.zeros(3), np.zeros((3, 3)), np.zeros(3),
                               np.zeros(3)), "(3, 3)", "(3, 2)"),
    ],
)
def test_bad_shapes_name_expected_and_received(call, expected, received):
    with pytest.raises(ValueError) as info:
        call()
    assert expected in str(info.value) and received in str(info.value), str(info.value)


def test_gates_outside_zero_one_are_rejected():
    q = np.zeros((1, 3, 2))
    with pytest.raises(ValueError, match="decay"):
        modern.linear_attention(q, q, q, decay=1.5)
    with pytest.raises(ValueError, match="beta"):
        modern.delta_rule(q, q, q, 0.0)
    with pytest.raises(ValueError, match="mode"):
        modern.linear_attention(q, q, q, mode="chunked")


def test_min_gru_is_the_one_from_rnnlab_scan():
    assert modern.min_gru is min_gru


def test_import_loads_no_framework():
    heavy = ("torch", "tensorflow", "keras")
    code = f"import json, sys, rnnlab.modern; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
