"""Images as sequences: scikit-learn's bundled 8x8 digits, read row by row, and moving-digit videos.

``load_digits`` ships inside scikit-learn (``sklearn/datasets/data/digits.csv.gz``), so nothing is
downloaded. A digit becomes a sequence of T = 8 time steps, one row of D = 8 pixels per step.
Shapes use the book's notation: N examples, T time steps, D features per step, S the side of a
square video frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from rnnlab._checks import check_bool, check_choice, check_float, check_int, check_seed, make_rng
from rnnlab.data.splits import Splits, random_split, split_counts

#: (row, column) step per frame for each class of ``moving_digit_videos``; the first 4 are used by default.
DIRECTIONS = {
    "right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0),
    "down-right": (1, 1), "up-left": (-1, -1), "down-left": (1, -1), "up-right": (-1, 1),
}
#: Side of the square distractors of ``moving_digit_videos``, in pixels.
DISTRACTOR_SIZE = 2
N_DIGITS = 1797


@lru_cache(maxsize=1)
def _digit_images() -> tuple[np.ndarray, np.ndarray]:
    """All N = 1797 digits: images (N, 8, 8) float32 in [0, 1] and labels (N,) int64, read-only (cached)."""
    from sklearn.datasets import load_digits  # lazy: scikit-learn is an optional extra

    digits = load_digits()
    images, labels = (digits.images / 16.0).astype(np.float32), digits.target.astype(np.int64)
    images.setflags(write=False)  # shared by every call: callers get fancy-indexed copies
    labels.setflags(write=False)
    return images, labels


def digits_sequences(*, seed: int, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)) -> Splits:
    """The 8x8 digits as 8-step sequences of 8-pixel rows, in stratified train / val / test splits.

    Args:
        seed: random seed of the split.
        fractions: (train, val, test) fractions of the 1797 images.

    Returns:
        ``Splits`` of (x (N, T, D) = (N, 8, 8) float32 in [0, 1], step t is row t; y (N,) int64 in
        0..9, K = 10 classes).
    """
    images, labels = _digit_images()
    return random_split(images, labels, seed=seed, fractions=fractions, stratify=labels)


def _slide(canvas: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Frames of canvases rolled on the torus: canvas (N, S, S), offset (N, T, 2) -> (N, T, S, S).

    Frame t is canvas n rolled by offset[n, t]: pixel (i, j) shows canvas pixel (i - dr, j - dc).
    """
    n, size = len(canvas), canvas.shape[-1]
    pixels = np.arange(size)
    rows = (pixels[None, None, :] - offset[..., 0:1]) % size  # (N, T, S)
    cols = (pixels[None, None, :] - offset[..., 1:2]) % size  # (N, T, S)
    sample = np.arange(n)[:, None, None, None]
    return canvas[sample, rows[..., :, None], cols[..., None, :]]


def _check_speeds(speeds: Any, size: int) -> np.ndarray:
    """Speeds in pixels per frame: ints in 1..(S-1)//2, where no step can be mistaken for another."""
    limit = (size - 1) // 2
    try:
        values = [check_int("speeds", s) for s in speeds]
    except TypeError:
        raise TypeError(f"speeds must be a sequence of ints, received {speeds!r}") from None
    if not values or max(values) > limit:
        raise ValueError(
            f"speeds must be ints in 1..{limit} for canvas_size={size} (a step of S/2 or more looks like a "
            f"step the other way on the wrapped canvas), received {tuple(speeds)!r}"
        )
    return np.array(sorted(set(values)), dtype=np.int64)


def _check_pool(digits: Any) -> np.ndarray | None:
    if digits is None:
        return None
    pool = np.asarray(digits)
    if pool.ndim != 1 or len(pool) == 0 or pool.dtype.kind not in "iu" or pool.min() < 0 or pool.max() >= N_DIGITS:
        raise ValueError(f"digits must be a non-empty 1-D array of indices in 0..{N_DIGITS - 1}, received {digits!r}")
    return pool.astype(np.int64)


def moving_digit_videos(
    n_samples: int,
    *,
    seed: int,
    n_frames: int = 10,
    canvas_size: int = 16,
    n_directions: int = 4,
    flatten: bool = False,
    speeds: Sequence[int] = (1,),
    min_frames: int | None = None,
    n_distractors: int = 0,
    noise: float = 0.0,
    digits: Sequence[int] | np.ndarray | None = None,
    return_lengths: bool = False,
) -> tuple[np.ndarray, ...]:
    """Videos of a random digit sliding across a wrapped canvas; the class is the direction.

    The canvas wraps around (a torus) and the start position is uniform, so every frame, on its
    own, shows the digit at a uniformly random place whatever the class: one frame carries no
    information about the direction, two consecutive frames carry all of it. Classes are balanced.
    With the defaults the digit moves one pixel per frame for all ``n_frames`` frames, on a black
    background; the options make the clips harder, closer to action recognition in real footage:

    * ``speeds``: each video's speed (pixels per frame) is drawn uniformly from these.
    * ``min_frames``: each video's length L is drawn uniformly from ``min_frames..n_frames``;
      frames L..T-1 are padding, exactly zero.
    * ``n_distractors``: 2x2 white squares, each sliding in its own random direction (one of the
      K classes' directions) at its own random speed, from its own random start; overlapping
      pixels take the brighter value.
    * ``noise``: Gaussian pixel noise of this standard deviation on every real frame, clipped to [0, 1].

    Time reversal maps the videos of a direction onto those of the opposite direction with the same
    distribution, so a model that ignores the order of the frames cannot tell the two apart.

    Args:
        n_samples: N, the number of videos.
        seed: random seed. The defaults of the options draw nothing extra, so the videos of a seed
            are the same as before the options existed.
        n_frames: T, the padded length, at least 2.
        canvas_size: S, side of the square canvas, at least 8 (the digit's size).
        n_directions: K, 4 (right, left, down, up) or 8 (plus diagonals); see ``DIRECTIONS``.
        flatten: return frames as vectors of D = S*S pixels instead of S x S images.
        speeds: possible speeds, ints in 1..(S-1)//2.
        min_frames: the shortest length, 2..T; None means every video has T frames.
        n_distractors: number of distractor squares per video, >= 0.
        noise: standard deviation of the pixel noise, >= 0.
        digits: indices (into the 1797 scikit-learn digits) to draw the digits from; None means all.
        return_lengths: also return the lengths.

    Returns:
        x: (N, T, S, S) float32 in [0, 1], or (N, T, D) with D = S*S if ``flatten``.
        y: (N,) int64 in 0..K-1, the index of the direction in ``DIRECTIONS``.
        lengths: (N,) int64 in ``min_frames..T``, only if ``return_lengths``.
    """
    n_samples = check_int("n_samples", n_samples)
    n_frames = check_int("n_frames", n_frames, minimum=2)
    size = check_int("canvas_size", canvas_size, minimum=8)
    n_directions = check_choice("n_directions", n_directions, (4, 8))
    speed_choices = _check_speeds(speeds, size)
    min_frames = n_frames if min_frames is None else check_int("min_frames", min_frames, minimum=2)
    if min_frames > n_frames:
        raise ValueError(f"min_frames must be <= n_frames={n_frames}, received {min_frames}")
    n_distractors = check_int("n_distractors", n_distractors, minimum=0)
    noise = check_float("noise", noise)
    pool = _check_pool(digits)
    flatten, return_lengths = check_bool("flatten", flatten), check_bool("return_lengths", return_lengths)
    rng = make_rng(seed)
    images, _ = _digit_images()
    canvas = np.zeros((n_samples, size, size), dtype=np.float32)
    picks = rng.integers(N_DIGITS if pool is None else len(pool), size=n_samples)
    canvas[:, :8, :8] = images[picks if pool is None else pool[picks]]
    y = rng.permutation(np.arange(n_samples) % n_directions).astype(np.int64)
    all_steps = np.array(list(DIRECTIONS.values()))
    start = rng.integers(size, size=(n_samples, 2))
    # The options draw only when they differ from the defaults, so the old videos are unchanged.
    speed = rng.choice(speed_choices, size=n_samples) if len(speed_choices) > 1 else np.full(n_samples, speed_choices[0])
    lengths = rng.integers(min_frames, n_frames + 1, size=n_samples) if min_frames < n_frames else np.full(n_samples, n_frames)
    time = np.arange(n_frames)[None, :, None]
    x = _slide(canvas, start[:, None, :] + time * (speed[:, None] * all_steps[y])[:, None, :])  # (N, T, S, S)
    square = np.zeros((n_samples, size, size), dtype=np.float32)
    square[:, :DISTRACTOR_SIZE, :DISTRACTOR_SIZE] = 1.0
    for _ in range(n_distractors):
        step = all_steps[rng.integers(n_directions, size=n_samples)] * rng.choice(speed_choices, size=(n_samples, 1))
        where = rng.integers(size, size=(n_samples, 2))
        np.maximum(x, _slide(square, where[:, None, :] + time * step[:, None, :]), out=x)
    if noise > 0:
        x = np.clip(x + rng.normal(0.0, noise, size=x.shape).astype(np.float32), 0.0, 1.0)
    x[np.arange(n_frames)[None, :] >= lengths[:, None]] = 0.0  # padding after each video's last frame
    x = x.reshape(n_samples, n_frames, size * size) if flatten else x
    return (x, y, lengths.astype(np.int64)) if return_lengths else (x, y)


def video_splits(
    n_samples: int,
    *,
    seed: int,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    **options: Any,
) -> Splits:
    """Train / val / test moving-digit videos drawn from disjoint sets of handwritten digits.

    The 1797 digits are split first (stratified by digit class, in ``fractions``), and each part's
    videos use only its own digits, so the test set measures motion recognition on handwriting the
    model has never seen: no digit image appears in two splits.

    Args:
        n_samples: total number of videos, split in ``fractions``.
        seed: random seed of the digit split and of the videos.
        fractions: (train, val, test) fractions, of the digits and of the videos.
        **options: passed to ``moving_digit_videos`` (``n_frames``, ``speeds``, ``min_frames``, ...);
            ``digits`` and ``return_lengths`` are set here.

    Returns:
        ``Splits`` of (x (N, T, S, S) float32, y (N,) int64, lengths (N,) int64), as
        ``moving_digit_videos`` returns them, each part with balanced classes.
    """
    for name in ("digits", "return_lengths"):
        if name in options:
            raise TypeError(f"video_splits sets {name} itself; received {name}={options[name]!r}")
    seed = check_seed(seed)
    counts = split_counts(check_int("n_samples", n_samples, minimum=3), fractions)
    _, labels = _digit_images()
    pools = random_split(np.arange(N_DIGITS), seed=seed, fractions=fractions, stratify=labels)
    seeds = np.random.default_rng(seed).integers(2**31, size=3)
    return Splits(*(
        moving_digit_videos(count, seed=int(part_seed), digits=pool, return_lengths=True, **options)
        for count, (pool,), part_seed in zip(counts, pools, seeds)
    ))
