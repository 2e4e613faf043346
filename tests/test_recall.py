"""Tests for rnnlab.recall: the MQAR and copy-task generators."""

import numpy as np
import pytest

from rnnlab.recall import FILLER, IGNORE_INDEX, alternate, copy_task, mqar


@pytest.mark.parametrize("seq_len,num_pairs,num_queries", [(24, 8, None), (64, 12, 5), (3, 1, 1)])
def test_mqar_structure(seq_len, num_pairs, num_queries):
    batch = mqar(32, seq_len, num_pairs, 64, num_queries=num_queries, seed=3)
    Q = num_pairs if num_queries is None else num_queries
    assert batch.tokens.shape == batch.targets.shape == batch.mask.shape == (32, seq_len)
    assert batch.tokens.dtype == batch.targets.dtype == np.int64 and batch.mask.dtype == bool
    assert (batch.tokens >= 0).all() and (batch.tokens < 64).all()
    for tokens, targets, mask in zip(*batch):
        keys, values = tokens[0:2 * num_pairs:2], tokens[1:2 * num_pairs:2]
        assert len(set(keys.tolist())) == num_pairs                      # keys unique in a sequence
        assert ((keys >= 1) & (keys < 32)).all() and ((values >= 32) & (values < 64)).all()
        assert mask.sum() == Q and not mask[:2 * num_pairs].any()        # scored: queries only
        assert (targets[~mask] == IGNORE_INDEX).all()
        lookup = dict(zip(keys.tolist(), values.tolist()))
        for t in np.flatnonzero(mask):
            assert tokens[t] in lookup and targets[t] == lookup[tokens[t]]  # the answer came earlier
        queried = tokens[np.flatnonzero(mask)]
        assert len(set(queried.tolist())) == Q                           # each key queried at most once
        rest = np.ones(seq_len, bool)
        rest[:2 * num_pairs] = False
        rest[mask] = False
        assert (tokens[rest] == FILLER).all()


def test_mqar_seeded():
    a, b, c = mqar(8, 40, 6, 32, seed=1), mqar(8, 40, 6, 32, seed=1), mqar(8, 40, 6, 32, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a.tokens, c.tokens)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(seq_len=10, num_pairs=4), "seq_len must be >= 2 \\* num_pairs \\+ num_queries = 12, received 10"),
        (dict(num_queries=9), "num_queries must be <= num_pairs = 8, received 9"),
        (dict(vocab_size=16), "vocab_size must be >= 18 .* received 16"),
        (dict(num_pairs=0), "num_pairs must be an int >= 1, received 0"),
    ],
)
def test_mqar_rejects_bad_sizes(kwargs, message):
    options = dict(batch_size=2, seq_len=24, num_pairs=8, vocab_size=64, seed=0) | kwargs
    with pytest.raises(ValueError, match=message):
        mqar(**options)


def test_copy_task():
    batch = copy_task(5, 7, 10, seed=0)
    assert batch.tokens.shape == (5, 15)
    assert (batch.tokens[:, :7] == batch.tokens[:, 8:]).all() and (batch.tokens[:, 7] == FILLER).all()
    assert (batch.mask.sum(1) == 7).all() and batch.mask[:, 7:14].all()
    assert (batch.targets[:, 7:14] == batch.tokens[:, :7]).all()          # next token = the copy
    assert all(np.array_equal(x, y) for x, y in zip(batch, copy_task(5, 7, 10, seed=0)))
    with pytest.raises(ValueError, match=r"vocab_size must be >= 2 .* received 1"):
        copy_task(5, 7, 1, seed=0)


def test_copy_task_distinct():
    batch = copy_task(64, 12, 16, distinct=True, seed=4)
    strings = batch.tokens[:, :12]
    assert all(len(set(row.tolist())) == 12 for row in strings)             # no symbol repeats
    assert ((strings >= 1) & (strings < 16)).all()
    assert (batch.tokens[:, 13:] == strings).all() and (batch.targets[:, 12:24] == strings).all()
    assert all(np.array_equal(x, y) for x, y in zip(batch, copy_task(64, 12, 16, distinct=True, seed=4)))
    assert copy_task(1, 15, 16, distinct=True, seed=0).tokens.shape == (1, 31)  # uses all 15 symbols
    with pytest.raises(ValueError, match=r"vocab_size must be >= 17 for 16 distinct symbols .* received 16"):
        copy_task(2, 16, 16, distinct=True, seed=0)


def test_alternate():
    short = lambda step: mqar(2, 8, 2, 16, seed=step)
    long = lambda step: mqar(2, 16, 4, 16, seed=step)
    stream = alternate(short, long)
    assert [stream(s).tokens.shape[1] for s in range(4)] == [8, 16, 8, 16]
    assert np.array_equal(stream(3).tokens, long(3).tokens)                  # step s passed through
    with pytest.raises(TypeError, match="one or more callables"):
        alternate()
    with pytest.raises(TypeError, match="one or more callables"):
        alternate(short, 3)


def test_recall_grid():
    pytest.importorskip("torch")
    from rnnlab.recall import recall_grid

    tests = {"short": mqar(8, 10, 3, 16, seed=100), "long": mqar(8, 20, 6, 16, seed=101)}
    train = lambda seed: alternate(lambda s: mqar(4, 10, 3, 16, seed=seed * 1000 + s))
    options = dict(seeds=[0, 1], steps=3, vocab_size=16, d=8)
    rows = recall_grid([("attention", 0), ("linear attention", 4)], train, tests, **options)
    assert len(rows) == 2 * 2 * 2
    assert {r["test"] for r in rows} == {"short", "long"} and {r["seed"] for r in rows} == {0, 1}
    for r in rows:
        assert 0.0 <= r["accuracy"] <= 1.0 and r["CPU s"] >= 0.0
        T = tests[r["test"]].tokens.shape[1]
        expected = 2 * T * 8 if r["model"] == "attention" else 4 * 8           # KV cache grows, state does not
        assert r["state floats"] == expected
    again = recall_grid([("attention", 0), ("linear attention", 4)], train, tests, **options)
    assert [r["accuracy"] for r in rows] == [r["accuracy"] for r in again]   # seeded: deterministic
    with pytest.raises(ValueError, match="at least one model, seed and test; received 0 models"):
        recall_grid([], train, tests, **options)
