"""Tests of rnnlab.video: shapes, padding invariance, order blindness, the every-frame helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.video import (
    IGNORE,
    EveryFrame,
    FrameEncoder,
    VideoClassifier,
    every_frame_loss,
    frame_mask,
    frame_targets,
    lrcn,
    reverse_videos,
)


def _videos(batch=5, n_frames=7, size=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, n_frames, size, size), dtype=np.float32)
    lengths = rng.integers(2, n_frames + 1, size=batch)
    x[np.arange(n_frames)[None, :] >= lengths[:, None]] = 0.0
    return torch.as_tensor(x), lengths


@pytest.mark.parametrize("channels, features, expected", [((4,), None, 4 * 8 * 8), ((4, 8), None, 8 * 4 * 4), ((8,), 20, 20)])
def test_frame_encoder_shapes(channels, features, expected):
    torch.manual_seed(0)
    encoder = FrameEncoder(16, features, channels=channels)
    assert encoder.features == expected
    assert encoder(torch.zeros(3, 16, 16)).shape == (3, expected)
    assert FrameEncoder(16, circular=True)(torch.zeros(2, 16, 16)).shape == (2, 256)


@pytest.mark.parametrize("temporal", ["gru", "average", "single"])
def test_video_classifier_output_shapes(temporal):
    torch.manual_seed(0)
    model = VideoClassifier(16, 4, temporal=temporal, hidden_size=8)
    x, lengths = _videos()
    assert model(x, lengths).shape == (5, 4) and model(x).shape == (5, 4)
    if temporal == "gru":
        steps = model.step_logits(x, lengths)
        assert steps.shape == (5, 7, 4)
        mask = frame_mask(lengths, 7)
        assert torch.all(steps[~mask] == 0)
        # the answer after the last real frame is the forward answer
        last = steps[torch.arange(5), torch.as_tensor(lengths) - 1]
        torch.testing.assert_close(last, model(x, lengths))
        assert EveryFrame(model)(x, lengths).shape == (5, 7, 4)


@pytest.mark.parametrize("temporal", ["gru", "average", "single"])
def test_padding_does_not_change_the_answer(temporal):
    torch.manual_seed(0)
    model = VideoClassifier(16, 4, temporal=temporal, hidden_size=8).eval()
    x, lengths = _videos(n_frames=6)
    x[np.arange(6)[None, :] >= lengths[:, None]] = 0.0
    with torch.no_grad():
        base = model(x, lengths)
        for extra in (1, 5):
            padded = torch.cat([x, torch.rand(5, extra, 16, 16)], dim=1)  # padding need not even be zero
            torch.testing.assert_close(model(padded, lengths), base, rtol=0, atol=1e-6)
            if temporal == "gru":
                torch.testing.assert_close(model.step_logits(padded, lengths)[:, :6], model.step_logits(x, lengths),
                                           rtol=0, atol=1e-6)


def test_average_is_order_blind_and_gru_is_not():
    torch.manual_seed(0)
    x, lengths = _videos()
    backwards = torch.as_tensor(reverse_videos(x.numpy(), lengths))
    with torch.no_grad():
        average = VideoClassifier(16, 4, temporal="average", hidden_size=8).eval()
        torch.testing.assert_close(average(backwards, lengths), average(x, lengths), rtol=0, atol=1e-5)
        gru = lrcn(16, 4, hidden_size=8).eval()
        assert not torch.allclose(gru(backwards, lengths), gru(x, lengths), atol=1e-5)


def test_reverse_videos_keeps_padding_in_place():
    x = np.arange(2 * 4, dtype=np.float32).reshape(2, 4)
    out = reverse_videos(x, np.array([4, 2]))
    np.testing.assert_array_equal(out, [[3, 2, 1, 0], [5, 4, 6, 7]])
    np.testing.assert_array_equal(reverse_videos(out, np.array([4, 2])), x)


def test_frame_targets_and_loss_skip_padding():
    targets = frame_targets(np.array([2, 0]), np.array([3, 1]), 4)
    assert targets.dtype == np.int64
    np.testing.assert_array_equal(targets, [[2, 2, 2, IGNORE], [0, IGNORE, IGNORE, IGNORE]])
    logits = torch.zeros(2, 4, 3)
    logits[0, 3] = torch.tensor([100.0, -100.0, 0.0])  # at a padding frame: must not count
    torch.testing.assert_close(every_frame_loss(logits, torch.as_tensor(targets)), torch.tensor(np.log(3.0), dtype=torch.float32))


def test_training_step_runs_and_updates_the_encoder():
    torch.manual_seed(0)
    model = VideoClassifier(16, 4, hidden_size=8)
    x, lengths = _videos()
    targets = torch.as_tensor(frame_targets(np.array([0, 1, 2, 3, 0]), lengths, 7))
    before = model.encoder.net[0].weight.detach().clone()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    every_frame_loss(EveryFrame(model)(x, lengths), targets).backward()
    opt.step()
    assert not torch.equal(before, model.encoder.net[0].weight)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="unknown temporal: expected one of"):
        VideoClassifier(16, 4, temporal="lstm")
    with pytest.raises(ValueError, match="frame_size must be divisible by 2 \\*\\* len\\(channels\\) = 4"):
        FrameEncoder(10, channels=(4, 8))
    model = VideoClassifier(16, 4, hidden_size=8)
    with pytest.raises(ValueError, match="videos must be a tensor of shape \\(B, T, 16, 16\\), received \\(2, 3, 12, 12\\)"):
        model(torch.zeros(2, 3, 12, 12))
    with pytest.raises(ValueError, match=r"lengths must lie in 1\.\.3"):
        model(torch.zeros(2, 3, 16, 16), np.array([1, 4]))
    with pytest.raises(ValueError, match="frame=5 is padding in a video of 3 frames"):
        VideoClassifier(16, 4, temporal="single", frame=5)(torch.zeros(2, 6, 16, 16), np.array([3, 6]))
    with pytest.raises(ValueError, match="step_logits needs temporal='gru'"):
        VideoClassifier(16, 4, temporal="average").step_logits(torch.zeros(1, 2, 16, 16))
    with pytest.raises(ValueError, match="EveryFrame needs a VideoClassifier with temporal='gru'"):
        EveryFrame(VideoClassifier(16, 4, temporal="single"))
