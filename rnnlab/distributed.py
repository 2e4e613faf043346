"""Data-parallel training of the book's PyTorch models on several processes, with torch.distributed.

In data parallelism (Li et al., 2020) every process, a *rank*, holds a full copy of the model and
takes its own equal slice of the batch. ``DistributedDataParallel`` (DDP) all-reduces the gradients
during ``backward``, so that every rank ends with the average of all ranks' gradients, which is the
gradient of the whole batch; the optimiser step is then the same on every rank. The all-reduce is
the bandwidth-optimal ring of Patarasuk & Yuan (2009), brought to deep learning by Horovod
(Sergeev & Del Balso, 2018).

This file exists because ``torch.multiprocessing`` starts each rank with the "spawn" method: a
fresh interpreter that imports the function it runs from a module, never from a notebook. It holds

* ``Workers``: ``world_size`` spawned processes joined into one process group (``gloo`` on
  127.0.0.1 at a free port; ``nccl``, one process per GPU, where there are GPUs), which run *jobs*;
* the jobs of the appendix (``gradient_job``, ``train_job``, ``accumulation_job``,
  ``clipping_job``, ``allreduce_job``), each a few lines of plain ``torch.distributed`` code, and
  ``keras_gradient_job``, the same check with ``tf.distribute.MultiWorkerMirroredStrategy``;
* what the jobs share with a single-process run: ``shard``, ``contiguous_streams``,
  ``next_token_loss``, ``train_tbptt``, ``parameters``, ``gradients``;
* ``ring_allreduce_bytes``, the traffic of one ring all-reduce.

Importing this module imports torch; ``import rnnlab`` does not.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import socket
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from rnnlab._checks import check_choice, check_float, check_int

__all__ = [
    "Workers",
    "accumulation_job",
    "allreduce_job",
    "clipping_job",
    "contiguous_streams",
    "free_port",
    "free_ports",
    "gradient_job",
    "gradients",
    "keras_gradient_job",
    "next_token_loss",
    "parameters",
    "rank_device",
    "ring_allreduce_bytes",
    "serve",
    "shard",
    "train_job",
    "train_tbptt",
]

BACKENDS = ("gloo", "nccl")


# --------------------------------------------------------------------------- the worker processes
def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` now (the operating system picks it)."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` different TCP ports that are free on ``host`` now."""
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(check_int("count", count))]
    try:
        for probe in probes:  # all held open at once, so the ports differ
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def serve(rank: int, world_size: int, port: int, backend: str, jobs: Any, results: Any, timeout: float) -> None:
    """The life of one rank: join the process group, run the jobs it is sent, leave the group.

    Args:
        rank, world_size: this process's number and the number of processes.
        port: where rank 0 listens on 127.0.0.1 for the others to join.
        backend: "gloo" (CPU) or "nccl" (one GPU per rank).
        jobs: queue of ``(job, args, kwargs)`` requests; ``None`` means stop.
        results: queue shared by all ranks for ``(rank, error, value)`` answers.
        timeout: seconds a collective may wait for the other ranks before it fails.
    """
    torch.set_num_threads(1)  # one thread per rank: the ranks share the machine's cores
    if backend == "nccl":
        torch.cuda.set_device(rank)  # one process per GPU: rank r drives cuda:r
    dist.init_process_group(
        backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size,
        timeout=timedelta(seconds=timeout),
    )
    try:
        while (request := _next_request(jobs)) is not None:
            job, args, kwargs = request
            try:
                results.put((rank, None, job(*args, **kwargs)))
            except Exception:  # report it to the parent, which raises it there
                results.put((rank, traceback.format_exc(), None))
    finally:
        dist.destroy_process_group()


def _next_request(jobs: Any) -> Any:
    """The next request, or None once the parent process has gone (no orphan waits forever)."""
    parent = os.getppid()
    while True:
        try:
            return jobs.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:
                return None


class Workers:
    """``world_size`` spawned processes, each one rank of a single process group, that run jobs.

    Use it as a context manager (``with Workers(2) as workers: workers.run(job, ...)``) or call
    ``close()``; the processes are also stopped when the object is garbage-collected. A job is a
    function of this (or another importable) module; ``run`` calls it on every rank with the same
    arguments, and each rank reads its own number from ``torch.distributed.get_rank()``.

    Args:
        world_size: number of processes.
        backend: "gloo" (processes on the CPU) or "nccl" (needs ``world_size`` CUDA devices).
        timeout: seconds to wait for the processes to start and for each job (and, inside the
            ranks, for each collective); then everything is stopped and an error raised.
    """

    def __init__(self, world_size: int = 2, *, backend: str = "gloo", timeout: float = 60.0) -> None:
        self.world_size = check_int("world_size", world_size)
        self.backend = check_choice("backend", backend, BACKENDS)
        self.timeout = check_float("timeout", timeout, strict=True)
        if backend == "nccl" and torch.cuda.device_count() < world_size:
            raise ValueError(f"backend 'nccl' needs {world_size} CUDA devices, found {torch.cuda.device_count()}")
        context = mp.get_context("spawn")
        self._closed = False
        self.port = free_port()
        self._results = context.Queue()
        self._jobs = [context.Queue() for _ in range(world_size)]
        self._processes = [
            context.Process(
                target=serve, daemon=True,
                args=(rank, world_size, self.port, backend, self._jobs[rank], self._results, self.timeout),
            )
            for rank in range(world_size)
        ]
        try:
            for process in self._processes:
                process.start()
            self.run(dist.get_world_size)  # returns once every rank has joined the group
        except BaseException:
            self.close()
            raise

    def run(self, job: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
        """Call ``job(*args, **kwargs)`` on every rank at once; its return values, in rank order.

        Raises:
            RuntimeError: if a rank raised (with that rank's traceback) or a process died.
            TimeoutError: if the ranks did not all answer within ``timeout`` seconds.
        """
        if not self._processes:
            raise RuntimeError("these workers are closed")
        for jobs in self._jobs:
            jobs.put((job, args, kwargs))
        answers: dict[int, Any] = {}
        deadline = time.monotonic() + self.timeout
        try:
            while len(answers) < self.world_size:
                try:
                    rank, error, value = self._results.get(timeout=0.2)
                except queue.Empty:
                    dead = [p.exitcode for p in self._processes if p.exitcode is not None]
                    if dead:
                        raise RuntimeError(f"a worker process exited with code {dead[0]}") from None
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"{getattr(job, '__name__', job)} did not finish on all {self.world_size} "
                            f"ranks within {self.timeout:g} s"
                        ) from None
                    continue
                if error is not None:
                    raise RuntimeError(f"rank {rank} failed in {getattr(job, '__name__', job)}:\n{error}")
                answers[rank] = value
        except BaseException:
            self.close()  # a rank left waiting in a collective cannot be trusted again
            raise
        return [answers[rank] for rank in range(self.world_size)]

    def close(self) -> None:
        """Stop every process (politely, then by force); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        processes, self._processes = self._processes, []
        for process, jobs in zip(processes, self._jobs):
            if process.is_alive():
                jobs.put(None)
        for process in processes:
            process.join(timeout=5.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=5.0)
        for pipe in (*self._jobs, self._results):
            pipe.cancel_join_thread()  # never block on a pipe that no process reads any more
            pipe.close()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()


def rank_device() -> torch.device:
    """This rank's device: ``cuda:<rank>`` under nccl (one process per GPU), else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _wrap(model: nn.Module, device: torch.device) -> DDP:
    """``DDP(model)`` on ``device``; its constructor broadcasts rank 0's parameters to every rank."""
    model = model.to(device)
    return DDP(model, device_ids=[device.index] if device.type == "cuda" else None)


# --------------------------------------------------------------------------- shared with one process
def shard(array: Any, rank: int, world_size: int) -> Any:
    """Rank ``rank``'s contiguous ``1/world_size`` of ``array`` along its first axis.

    The shards must be equal: the average of the ranks' mean losses is the mean loss of the
    whole batch only when every rank averages over the same number of positions.

    Raises:
        ValueError: if the first axis is not a multiple of ``world_size``.
    """
    world_size, rank = check_int("world_size", world_size), check_int("rank", rank, minimum=0)
    if rank >= world_size:
        raise ValueError(f"rank must be < world_size = {world_size}, received {rank}")
    if len(array) % world_size:
        raise ValueError(f"expected a first axis divisible by world_size = {world_size}, received {len(array)}")
    size = len(array) // world_size
    return array[rank * size:(rank + 1) * size]


def contiguous_streams(ids: np.ndarray, num_streams: int) -> np.ndarray:
    """Cut one long id stream into ``num_streams`` equal contiguous rows (the tail is dropped).

    Row s is ``ids[s*L : (s+1)*L]``: reading a row chunk after chunk reads real, consecutive text,
    so a state carried from one chunk to the next is the state of the text that precedes it.

    Args:
        ids: (N,) token ids.
        num_streams: S.

    Returns:
        (S, L) int64 with L = N // S.
    """
    ids = np.asarray(ids, dtype=np.int64)
    num_streams = check_int("num_streams", num_streams)
    if ids.ndim != 1 or len(ids) < num_streams:
        raise ValueError(f"expected a 1-D stream of at least {num_streams} ids, received shape {ids.shape}")
    length = len(ids) // num_streams
    return ids[:num_streams * length].reshape(num_streams, length)


def next_token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over all B*T positions: logits (B, T, K), targets (B, T) ids."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def parameters(model: nn.Module) -> dict[str, np.ndarray]:
    """Copies of the parameters by name (a DDP wrapper's names without its ``module.``)."""
    module = model.module if isinstance(model, DDP) else model
    return {name: p.detach().cpu().numpy().copy() for name, p in module.named_parameters()}


def gradients(model: nn.Module) -> dict[str, np.ndarray]:
    """Copies of the parameters' gradients by name, as ``parameters`` names them."""
    module = model.module if isinstance(model, DDP) else model
    grads = {}
    for name, p in module.named_parameters():
        if p.grad is None:
            raise RuntimeError(f"parameter {name} has no gradient: call backward() first")
        grads[name] = p.grad.detach().cpu().numpy().copy()
    return grads


def _detach(state: Any) -> Any:
    """The state's value without its history (a tensor, or the LSTM's (h, c) tuple)."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def train_tbptt(
    model: nn.Module,
    streams: np.ndarray,
    *,
    steps: int,
    seq_len: int,
    lr: float,
    clip_norm: float,
    device: torch.device | str = "cpu",
) -> dict[str, np.ndarray]:
    """Truncated BPTT over B parallel text streams: Adam, gradient clipping, the state carried on.

    Step k reads chunk k of every stream (T = ``seq_len`` characters, targets one character on),
    starting from the state the model reached at the end of chunk k - 1. The same loop trains a
    plain model on all streams and, under DDP, each rank's replica on its shard of the streams.

    Args:
        model: an ``rnnlab.torch.LanguageModel``, or a DDP wrapping one.
        streams: (B, L) ids with L >= steps * T + 1; row b is consecutive text.
        steps, seq_len, lr, clip_norm: number of updates, T, Adam's η and the clipping τ.
        device: where the streams go (the model's device).

    Returns:
        ``{"losses": (steps,) mean loss of each chunk before its update, "seconds": (steps,)
        wall-clock time of each step, "cpu_seconds": (steps,) CPU time of this process per step}``.
    """
    ids = torch.as_tensor(np.asarray(streams), device=device)
    if ids.shape[1] < steps * seq_len + 1:
        raise ValueError(f"expected streams of at least {steps * seq_len + 1} ids, received {ids.shape[1]}")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    state, losses, seconds, cpu_seconds = None, [], [], []
    for k in range(steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        x = ids[:, k * seq_len:(k + 1) * seq_len]  # (B, T)
        y = ids[:, k * seq_len + 1:(k + 1) * seq_len + 1]  # (B, T), one character on
        logits, state = model(x, state)
        state = _detach(state)  # carry the value into the next chunk; the gradient stops here
        loss = next_token_loss(logits, y)
        optimizer.zero_grad()
        loss.backward()  # under DDP, the gradients are all-reduced (averaged) in here
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)  # so this clips the average
        optimizer.step()
        losses.append(loss.item())
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
    return {"losses": np.array(losses), "seconds": np.array(seconds), "cpu_seconds": np.array(cpu_seconds)}


# --------------------------------------------------------------------------- the jobs
def gradient_job(build: Callable[[], nn.Module], seed: int, inputs: np.ndarray, targets: np.ndarray) -> dict:
    """One DDP forward and backward pass on this rank's shard of (inputs, targets).

    Args:
        build: makes the model (e.g. a ``functools.partial`` of ``rnnlab.torch.LanguageModel``).
        seed: rank r seeds ``seed + r``, so the replicas start different until DDP syncs them.
        inputs, targets: (B, T) ids of the whole batch; B divisible by the world size.

    Returns:
        ``{"start": parameters after DDP's constructor, "grads": gradients after backward}``.
    """
    rank, world_size, device = dist.get_rank(), dist.get_world_size(), rank_device()
    torch.manual_seed(seed + rank)
    model = _wrap(build(), device)  # broadcasts rank 0's parameters: the replicas are now equal
    start = parameters(model)
    x = torch.as_tensor(shard(inputs, rank, world_size), device=device)
    y = torch.as_tensor(shard(targets, rank, world_size), device=device)
    logits, _ = model(x)
    next_token_loss(logits, y).backward()  # the all-reduce runs here, bucket by bucket
    return {"start": start, "grads": gradients(model)}


def train_job(
    build: Callable[[], nn.Module], seed: int, streams: np.ndarray, *, steps: int, seq_len: int,
    lr: float, clip_norm: float,
) -> dict:
    """``train_tbptt`` under DDP, each rank on its contiguous shard of the streams' rows.

    Returns:
        ``{"params": the trained parameters}`` and what ``train_tbptt`` returns.
    """
    rank, world_size, device = dist.get_rank(), dist.get_world_size(), rank_device()
    torch.manual_seed(seed)
    model = _wrap(build(), device)
    log = train_tbptt(
        model, shard(streams, rank, world_size), steps=steps, seq_len=seq_len, lr=lr,
        clip_norm=clip_norm, device=device,
    )
    return {"params": parameters(model), **log}


def accumulation_job(
    build: Callable[[], nn.Module], seed: int, inputs: np.ndarray, targets: np.ndarray, micro_batches: int = 2
) -> dict:
    """Gradient accumulation under DDP: no all-reduce until the last of ``micro_batches`` backward passes.

    Each rank splits its shard into equal micro-batches and scales each loss by 1 / micro_batches,
    so the accumulated gradient is the gradient of the rank's whole shard.

    Returns:
        ``{"first": the gradients after the first micro-batch, "grads": after the last}``.
    """
    rank, world_size, device = dist.get_rank(), dist.get_world_size(), rank_device()
    torch.manual_seed(seed)
    model = _wrap(build(), device)
    x_rank, y_rank = shard(inputs, rank, world_size), shard(targets, rank, world_size)
    first = None
    for i in range(micro_batches):
        x = torch.as_tensor(shard(x_rank, i, micro_batches), device=device)
        y = torch.as_tensor(shard(y_rank, i, micro_batches), device=device)
        last = i == micro_batches - 1
        with contextlib.nullcontext() if last else model.no_sync():  # forward and backward inside
            logits, _ = model(x)
            (next_token_loss(logits, y) / micro_batches).backward()  # adds into .grad
        if first is None:
            first = gradients(model)
    return {"first": first, "grads": gradients(model)}


def clipping_job(
    build: Callable[[], nn.Module], seed: int, inputs: np.ndarray, targets: np.ndarray, clip_norm: float
) -> dict:
    """Clipping after the all-reduce (what ``train_tbptt`` does) against clipping each rank first.

    Returns:
        ``{"after": gradients clipped after averaging, "before": averaged after clipping each rank,
        "norm": the norm of the averaged gradient, "own_norm": this rank's own gradient norm}``.
    """
    rank, world_size, device = dist.get_rank(), dist.get_world_size(), rank_device()
    torch.manual_seed(seed)
    model = _wrap(build(), device)
    x = torch.as_tensor(shard(inputs, rank, world_size), device=device)
    y = torch.as_tensor(shard(targets, rank, world_size), device=device)

    next_token_loss(model(x)[0], y).backward()  # DDP averages the gradients ...
    norm = nn.utils.clip_grad_norm_(model.parameters(), clip_norm)  # ... then every rank clips the same
    after = gradients(model)

    model.zero_grad()
    with model.no_sync():  # this rank's own gradient, not averaged
        next_token_loss(model(x)[0], y).backward()
    own_norm = nn.utils.clip_grad_norm_(model.parameters(), clip_norm)  # clipped before averaging
    for p in model.parameters():  # then averaged by hand
        assert p.grad is not None  # backward() just ran
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
        p.grad /= world_size
    return {"after": after, "before": gradients(model), "norm": float(norm), "own_norm": float(own_norm)}


def allreduce_job(numel: int, repeats: int, dtype: torch.dtype = torch.float32) -> dict:
    """Time ``dist.all_reduce`` of one flat gradient-sized tensor of ``numel`` values.

    Returns:
        ``{"seconds": (repeats,) time of each all-reduce, "sum_ok": whether the sums were right}``.
    """
    rank, world_size = dist.get_rank(), dist.get_world_size()
    buffer = torch.full((numel,), float(rank + 1), dtype=dtype, device=rank_device())
    dist.all_reduce(buffer)  # a first call sets up the connections; not timed
    seconds = []
    for _ in range(repeats):
        buffer.fill_(rank + 1)
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(buffer)  # every rank ends with 1 + 2 + ... + world_size
        seconds.append(time.perf_counter() - start)
    expected = world_size * (world_size + 1) / 2
    return {"seconds": np.array(seconds), "sum_ok": bool((buffer == expected).all())}


def keras_gradient_job(tf_ports: list[int], model: Any, inputs: np.ndarray, targets: np.ndarray) -> dict:
    """The Keras version of ``gradient_job``, with ``tf.distribute.MultiWorkerMirroredStrategy``.

    Rank r becomes worker r of a TensorFlow cluster on 127.0.0.1 at ``tf_ports`` (TF_CONFIG must be
    set before TensorFlow starts, so it is imported here, in the worker). Inside the strategy a
    Keras loss is divided by the number of replicas, because Keras sums the replicas' gradients;
    the job returns both reductions to show it.

    Args:
        tf_ports: one free port per rank.
        model: a scratch ``LanguageModel``; every worker builds its Keras twin with ``to_keras``.
        inputs, targets: (B, T) ids of the whole batch.

    Returns:
        ``{"sum": SUM all-reduce, "mean": MEAN all-reduce, "full": one replica's gradient of the
        whole batch}``, each a list of arrays in ``trainable_variables`` order, and ``"about"``:
        the Keras version, its backend, and the first line of the source of Keras's TensorFlow
        implementation of ``keras.distribution``.
    """
    rank, world_size = dist.get_rank(), dist.get_world_size()
    cluster = {"worker": [f"127.0.0.1:{port}" for port in tf_ports]}
    os.environ["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": rank}})
    with _quiet_stderr():  # TensorFlow's start-up log lines would land in the notebook
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        import keras

        from rnnlab.keras import to_keras

        with strategy.scope():
            replica = to_keras(model)  # mirrored variables, kept equal on every worker
        reference = to_keras(model)  # a plain copy outside the strategy
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def grads(m, x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, m(x))  # inside strategy.run: divided by num_replicas_in_sync
        return [tf.convert_to_tensor(g) for g in tape.gradient(loss, m.trainable_variables)]

    @tf.function
    def step(x, y):
        def on_replica(x, y):
            g, context = grads(replica, x, y), tf.distribute.get_replica_context()
            return context.all_reduce("SUM", g), context.all_reduce("MEAN", g)

        return strategy.run(on_replica, args=(x, y))

    x, y = shard(inputs, rank, world_size), shard(targets, rank, world_size)
    summed, averaged = step(tf.constant(x), tf.constant(y))
    local = lambda values: [strategy.experimental_local_results(v)[0].numpy() for v in values]
    about = {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "tf_distribution_lib": (importlib.import_module("keras.src.backend.tensorflow.distribution_lib")
                                .__doc__ or "(no docstring)").strip().splitlines()[0],
    }
    full = [g.numpy() for g in grads(reference, inputs, targets)]
    return {"sum": local(summed), "mean": local(averaged), "full": full, "about": about}


@contextlib.contextmanager
def _quiet_stderr():
    """Send this process's file descriptor 2 to /dev/null for a while (C++ libraries log there)."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# --------------------------------------------------------------------------- the arithmetic
def ring_allreduce_bytes(num_params: int, world_size: int, bytes_per_value: int = 4) -> float:
    """Bytes each rank sends (and receives) in one ring all-reduce of ``num_params`` values.

    The ring cuts the buffer into N pieces; a reduce-scatter passes N - 1 pieces round the ring,
    an all-gather another N - 1 (Patarasuk & Yuan, 2009): 2 (N - 1) / N of the buffer in all.
    """
    num_params, world_size = check_int("num_params", num_params), check_int("world_size", world_size)
    bytes_per_value = check_int("bytes_per_value", bytes_per_value)
    return 2 * (world_size - 1) / world_size * num_params * bytes_per_value
