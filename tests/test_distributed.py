"""rnnlab.distributed: two gloo processes on 127.0.0.1 compute the gradient of one process.

The processes are started once for the module (``Workers`` picks a free port and stops them at the
end, also when a test fails); every call has a timeout. The nccl paths need one GPU per process
and are skipped elsewhere.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnlab import distributed  # noqa: E402
from rnnlab.distributed import Workers  # noqa: E402
from rnnlab.torch import LanguageModel  # noqa: E402

K, SEED = 11, 0
TWO_GPUS = pytest.mark.skipif(
    torch.cuda.device_count() < 2,
    reason=f"nccl runs one process per GPU: needs 2 CUDA devices, found {torch.cuda.device_count()}",
)


def build(dtype=torch.float32):
    return functools.partial(LanguageModel, K, 4, 8, cell="gru", dtype=dtype)


def batch(size=8, steps=6):
    rng = np.random.default_rng(SEED)
    return rng.integers(0, K, size=(size, steps)), rng.integers(0, K, size=(size, steps))


def one_process_gradient(make, inputs, targets):
    torch.manual_seed(SEED)
    model = make()
    logits, _ = model(torch.as_tensor(inputs))
    distributed.next_token_loss(logits, torch.as_tensor(targets)).backward()
    return distributed.gradients(model)


def largest_gap(a, b):
    assert a.keys() == b.keys()
    return max(float(np.abs(a[name] - b[name]).max()) for name in a)


@pytest.fixture(scope="module")
def workers(one_torch_thread):
    with Workers(2, timeout=60) as running:
        yield running


# ------------------------------------------------------------------------------ two processes
@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-6), (torch.float64, 1e-12)], ids=["f32", "f64"])
def test_ddp_gradient_is_the_gradient_of_the_whole_batch(workers, dtype, tolerance):
    inputs, targets = batch()
    ranks = workers.run(distributed.gradient_job, build(dtype), SEED, inputs, targets)
    full = one_process_gradient(build(dtype), inputs, targets)
    own = one_process_gradient(build(dtype), inputs[:4], targets[:4])
    for result in ranks:
        assert largest_gap(result["grads"], full) <= tolerance
        assert result["grads"]["rnn.weight_hh_l0"].dtype == {torch.float32: np.float32, torch.float64: np.float64}[dtype]
    assert largest_gap(ranks[0]["grads"], ranks[1]["grads"]) == 0
    assert largest_gap(own, full) > 1e3 * tolerance  # the check can fail: one shard alone is not enough
    torch.manual_seed(SEED)
    assert largest_gap(ranks[1]["start"], distributed.parameters(build(dtype)())) == 0  # DDP broadcast rank 0's


def test_training_steps_match_one_process(workers):
    streams = np.random.default_rng(SEED).integers(0, K, size=(4, 3 * 5 + 1))
    settings = dict(steps=3, seq_len=5, lr=1e-2, clip_norm=0.5)
    ranks = workers.run(distributed.train_job, build(torch.float64), SEED, streams, **settings)
    torch.manual_seed(SEED)
    alone = build(torch.float64)()
    log = distributed.train_tbptt(alone, streams, **settings)
    assert largest_gap(ranks[0]["params"], distributed.parameters(alone)) <= 1e-12
    np.testing.assert_allclose((ranks[0]["losses"] + ranks[1]["losses"]) / 2, log["losses"], rtol=0, atol=1e-12)
    assert all(log[key].shape == (3,) for key in ("losses", "seconds", "cpu_seconds"))


def test_no_sync_accumulation_and_clipping_after_the_all_reduce(workers):
    inputs, targets = batch()
    full = one_process_gradient(build(), inputs, targets)
    accumulated = workers.run(distributed.accumulation_job, build(), SEED, inputs, targets, 2)
    for result in accumulated:
        assert largest_gap(result["grads"], full) <= 1e-6
    assert largest_gap(accumulated[0]["first"], accumulated[1]["first"]) > 1e-3  # nothing sent inside no_sync()

    norm = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in full.values()))
    tau = norm / 2
    clipped = {name: g * tau / (norm + 1e-6) for name, g in full.items()}
    for result in workers.run(distributed.clipping_job, build(), SEED, inputs, targets, tau):
        assert result["norm"] == pytest.approx(norm, rel=1e-5)
        assert largest_gap(result["after"], clipped) <= 1e-6
        assert largest_gap(result["before"], clipped) > 1e-4


def test_allreduce_sums_over_the_ranks(workers):
    for result in workers.run(distributed.allreduce_job, 1000, 3):
        assert result["sum_ok"] and result["seconds"].shape == (3,)


def test_a_failing_job_raises_here_and_stops_the_processes(one_torch_thread):
    failing = Workers(1, timeout=60)
    with pytest.raises(RuntimeError, match=r"rank 0 failed in shard:(.|\n)*divisible by world_size = 2"):
        failing.run(distributed.shard, np.arange(3), 0, 2)  # 3 rows for 2 ranks
    assert failing._closed and not failing._processes
    with pytest.raises(RuntimeError, match="closed"):
        failing.run(distributed.allreduce_job, 10, 1)


@TWO_GPUS
def test_nccl_gradient_on_two_gpus(one_torch_thread):
    inputs, targets = batch()
    with Workers(2, backend="nccl", timeout=120) as gpus:
        ranks = gpus.run(distributed.gradient_job, build(), SEED, inputs, targets)
    full = one_process_gradient(build(), inputs, targets)
    for result in ranks:
        assert largest_gap(result["grads"], full) <= 1e-5  # cuDNN may sum in another order than the CPU


def test_nccl_needs_a_gpu_per_process():
    if torch.cuda.device_count() >= 2:
        pytest.skip("this machine has the GPUs; test_nccl_gradient_on_two_gpus runs instead")
    with pytest.raises(ValueError, match="CUDA devices"):
        Workers(2, backend="nccl")


# ------------------------------------------------------------------------------ one process
def test_shard_splits_the_first_axis_into_equal_contiguous_parts():
    rows = np.arange(12).reshape(6, 2)
    parts = [distributed.shard(rows, rank, 3) for rank in range(3)]
    np.testing.assert_array_equal(np.concatenate(parts), rows)
    assert all(part.shape == (2, 2) for part in parts)
    with pytest.raises(ValueError, match="divisible by world_size = 4"):
        distributed.shard(rows, 0, 4)
    with pytest.raises(ValueError, match="rank must be < world_size"):
        distributed.shard(rows, 3, 3)


def test_contiguous_streams_keep_the_text_in_order():
    ids = np.arange(103)
    streams = distributed.contiguous_streams(ids, 4)
    assert streams.shape == (4, 25) and streams.dtype == np.int64
    np.testing.assert_array_equal(streams.reshape(-1), ids[:100])
    with pytest.raises(ValueError, match="1-D stream"):
        distributed.contiguous_streams(ids.reshape(1, -1), 4)


@pytest.mark.parametrize("world_size, expected", [(1, 0.0), (2, 400.0), (4, 600.0), (100, 792.0)])
def test_ring_allreduce_bytes(world_size, expected):
    assert distributed.ring_allreduce_bytes(100, world_size, 4) == pytest.approx(expected)


def test_free_ports_differ():
    ports = distributed.free_ports(3)
    assert len(set(ports)) == 3 and all(1024 <= port < 65536 for port in ports)
