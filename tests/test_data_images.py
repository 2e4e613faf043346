"""Tests of the harder moving-digit videos: speeds, lengths, distractors, noise, disjoint splits."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from rnnlab import data
from rnnlab.data import images

HARD = dict(n_frames=9, min_frames=3, speeds=(1, 2, 3), n_distractors=2, noise=0.1)


def test_defaults_give_the_same_videos_as_before_the_options():
    # sha256 of moving_digit_videos(200, seed=7) as computed before the options were added
    x, y = data.moving_digit_videos(200, seed=7)
    assert hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest().startswith("519d768abd0abf30")
    x, y = data.moving_digit_videos(200, seed=7, n_frames=5, canvas_size=12, n_directions=8)
    assert hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest().startswith("b066acf0fa9ad704")


def test_hard_videos_shapes_dtypes_and_seeds():
    x, y, lengths = data.moving_digit_videos(64, seed=3, return_lengths=True, **HARD)
    assert x.shape == (64, 9, 16, 16) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert y.dtype == np.int64 and lengths.dtype == np.int64 and lengths.shape == (64,)
    assert np.bincount(y).tolist() == [16] * 4  # balanced
    assert lengths.min() >= 3 and lengths.max() <= 9 and len(set(lengths.tolist())) > 3
    again = data.moving_digit_videos(64, seed=3, return_lengths=True, **HARD)
    for a, b in zip((x, y, lengths), again):
        np.testing.assert_array_equal(a, b)
    other, _, _ = data.moving_digit_videos(64, seed=4, return_lengths=True, **HARD)
    assert not np.array_equal(other, x)
    flat, _ = data.moving_digit_videos(64, seed=3, flatten=True, **HARD)
    np.testing.assert_array_equal(flat, x.reshape(64, 9, 256))


def test_frames_after_a_video_length_are_zero_and_real_frames_are_not():
    x, _, lengths = data.moving_digit_videos(50, seed=0, return_lengths=True, **HARD)
    for video, length in zip(x, lengths):
        assert np.all(video[length:] == 0.0)
        assert np.all(video[:length].reshape(length, -1).max(axis=1) > 0.5)  # the digit is there


def test_speed_is_the_shift_between_frames():
    x, y = data.moving_digit_videos(40, seed=1, speeds=(3,), n_frames=4)
    steps = np.array(list(images.DIRECTIONS.values()))
    for video, label in zip(x, y):
        np.testing.assert_array_equal(np.roll(video[0], tuple(3 * steps[label]), axis=(0, 1)), video[1])
    _, _, lengths = data.moving_digit_videos(10, seed=1, return_lengths=True)
    assert np.all(lengths == 10)


def test_distractors_add_bright_squares_and_noise_adds_grey():
    clean, _ = data.moving_digit_videos(30, seed=2, n_frames=3)
    busy, _ = data.moving_digit_videos(30, seed=2, n_frames=3, n_distractors=3)
    assert np.all(busy >= clean) and (busy == 1.0).sum() > (clean == 1.0).sum() + 30 * 3 * 4
    noisy, _ = data.moving_digit_videos(30, seed=2, n_frames=3, noise=0.2)
    background = clean == 0
    assert 0.05 < noisy[background].mean() < 0.12  # clipped half of a N(0, 0.2): mean 0.08


def test_video_splits_use_disjoint_digits_and_balanced_classes():
    splits = data.video_splits(300, seed=0, **HARD)
    seen: set[bytes] = set()
    for (x, y, lengths), n in zip(splits, (210, 45, 45)):
        assert x.shape == (n, 9, 16, 16) and y.shape == lengths.shape == (n,)
        assert np.bincount(y, minlength=4).max() - np.bincount(y, minlength=4).min() <= 1
        videos = {v.tobytes() for v in x}
        assert not videos & seen  # no video in two splits
        seen |= videos


def test_video_splits_draw_each_part_from_its_own_digits(monkeypatch):
    pools = []
    original = images.moving_digit_videos

    def spy(n_samples, **options):
        pools.append(set(options["digits"].tolist()))
        return original(n_samples, **options)

    monkeypatch.setattr(images, "moving_digit_videos", spy)
    data.video_splits(60, seed=1)
    assert len(pools) == 3 and sum(len(p) for p in pools) == images.N_DIGITS
    assert not pools[0] & pools[1] and not pools[0] & pools[2] and not pools[1] & pools[2]
    one = data.moving_digit_videos(5, seed=0, n_frames=2, digits=[42])[0][:, 0]
    assert np.allclose(one.sum(axis=(1, 2)), images._digit_images()[0][42].sum())  # only digit 42 is used


def test_bad_options_are_named():
    with pytest.raises(ValueError, match=r"speeds must be ints in 1\.\.7 for canvas_size=16"):
        data.moving_digit_videos(4, seed=0, speeds=(8,))
    with pytest.raises(ValueError, match="min_frames must be <= n_frames=5, received 6"):
        data.moving_digit_videos(4, seed=0, n_frames=5, min_frames=6)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        data.moving_digit_videos(4, seed=0, noise=-0.1)
    with pytest.raises(ValueError, match=r"digits must be a non-empty 1-D array of indices in 0\.\.1796"):
        data.moving_digit_videos(4, seed=0, digits=[5000])
    with pytest.raises(TypeError, match="video_splits sets digits itself"):
        data.video_splits(30, seed=0, digits=[1, 2])
