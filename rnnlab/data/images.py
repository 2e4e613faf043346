"""Images as sequences: scikit-learn's bundled 8x8 digits, read row by row, and moving-digit videos.

``load_digits`` ships inside scikit-learn (``sklearn/datasets/data/digits.csv.gz``), so nothing is
downloaded. A digit becomes a sequence of T = 8 time steps, one row of D = 8 pixels per step.
Shapes use the book's notation: N examples, T time steps, D features per step.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from rnnlab._checks import check_choice, check_int, make_rng
from rnnlab.data.splits import Splits, random_split

#: (row, column) step per frame for each class of ``moving_digit_videos``; the first 4 are used by default.
DIRECTIONS = {
    "right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0),
    "down-right": (1, 1), "up-left": (-1, -1), "down-left": (1, -1), "up-right": (-1, 1),
}


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


def moving_digit_videos(
    n_samples: int,
    *,
    seed: int,
    n_frames: int = 10,
    canvas_size: int = 16,
    n_directions: int = 4,
    flatten: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Videos of a random digit sliding one pixel per frame; the class is the direction.

    The canvas wraps around (a torus) and the start position is uniform, so every frame, on its
    own, shows the digit at a uniformly random place whatever the class: one frame carries no
    information about the direction, two consecutive frames carry all of it. Classes are balanced.

    Args:
        n_samples: N, the number of videos.
        seed: random seed.
        n_frames: T, at least 2.
        canvas_size: S, side of the square canvas, at least 8 (the digit's size).
        n_directions: K, 4 (right, left, down, up) or 8 (plus diagonals); see ``DIRECTIONS``.
        flatten: return frames as vectors of D = S*S pixels instead of S x S images.

    Returns:
        x: (N, T, S, S) float32 in [0, 1], or (N, T, D) with D = S*S if ``flatten``.
        y: (N,) int64 in 0..K-1, the index of the direction in ``DIRECTIONS``.
    """
    n_samples = check_int("n_samples", n_samples)
    n_frames = check_int("n_frames", n_frames, minimum=2)
    size = check_int("canvas_size", canvas_size, minimum=8)
    n_directions = check_choice("n_directions", n_directions, (4, 8))
    rng = make_rng(seed)
    images, _ = _digit_images()
    canvas = np.zeros((n_samples, size, size), dtype=np.float32)
    canvas[:, :8, :8] = images[rng.integers(len(images), size=n_samples)]
    y = rng.permutation(np.arange(n_samples) % n_directions).astype(np.int64)
    steps = np.array(list(DIRECTIONS.values()))[y]  # (N, 2)
    start = rng.integers(size, size=(n_samples, 2))
    offset = start[:, None, :] + np.arange(n_frames)[None, :, None] * steps[:, None, :]  # (N, T, 2)
    # Frame t is the canvas rolled by offset[:, t]: pixel (i, j) shows canvas pixel (i - dr, j - dc).
    pixels = np.arange(size)
    rows = (pixels[None, None, :] - offset[..., 0:1]) % size  # (N, T, S)
    cols = (pixels[None, None, :] - offset[..., 1:2]) % size  # (N, T, S)
    sample = np.arange(n_samples)[:, None, None, None]
    x = canvas[sample, rows[..., :, None], cols[..., None, :]]  # (N, T, S, S)
    return (x.reshape(n_samples, n_frames, size * size) if flatten else x), y
