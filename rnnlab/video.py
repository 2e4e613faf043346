"""Video classifiers in PyTorch: a small convolutional frame encoder, then a rule that combines frames.

The long-term recurrent convolutional network (LRCN, Donahue et al. 2015) runs the same CNN on
every frame and a recurrent network over the resulting feature vectors. ``VideoClassifier`` builds
it (``temporal="gru"``) and, with the very same encoder and head, the two baselines it must beat:

* ``"gru"``: the LRCN. A GRU reads the frame features in order, packed by ``lengths`` so padding
  frames are never read; the head sees its state after each video's last real frame.
* ``"average"``: order-blind. The features are averaged over each video's real frames; any
  permutation of the frames gives the same answer.
* ``"single"``: the image-recognition approach. Only frame ``frame`` (0 = the first) is used.

``EveryFrame``, ``frame_targets`` and ``every_frame_loss`` train the LRCN to answer after every
real frame (the padding skipped); ``reverse_videos`` plays videos backwards, padding left in place.

Shapes: B videos, T (padded) frames, S x S pixels per frame, F features per frame, H hidden
units, K classes. Frames are grey-level, one channel. Padding frames are never encoded, so
every answer is independent of how much padding follows a video (the tests check it).
Importing this module imports torch; ``import rnnlab`` does not.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from rnnlab._checks import check_choice, check_int, check_lengths
from rnnlab.torch import run_rnn

TEMPORAL = ("gru", "average", "single")


class FrameEncoder(nn.Module):
    """A small CNN for one grey frame: (B, S, S) -> (B, F) features.

    One 3x3 convolution with stride 2 and ReLU per entry of ``channels`` (each halves the frame's
    side: S -> S/2 -> S/4 ...), then either the flattened feature maps are the features
    (``features=None``, the default: F = C * (S / 2 ** len(channels)) ** 2) or a linear layer with
    ReLU maps them to F = ``features``. Strided convolutions instead of pooling keep it cheap on a CPU. ``circular=True`` pads by wrapping
    around, which matches frames drawn on a torus (``rnnlab.data.moving_digit_videos``).

    Args:
        frame_size: S, divisible by 2 ** len(channels).
        features: F, or None for the flattened feature maps.
        channels: feature maps of each convolution.
        circular: wrap-around padding instead of zeros.
    """

    def __init__(self, frame_size: int = 16, features: int | None = None, *, channels: tuple[int, ...] = (4,),
                 circular: bool = False) -> None:
        super().__init__()
        size = check_int("frame_size", frame_size, minimum=2)
        channels = tuple(check_int("channels", c) for c in channels)
        if not channels or size % 2 ** len(channels):
            raise ValueError(f"frame_size must be divisible by 2 ** len(channels) = {2 ** len(channels)} "
                             f"(one halving per convolution), received frame_size={size}, channels={channels}")
        self.frame_size = size
        mode: Literal["zeros", "circular"] = "circular" if circular else "zeros"
        layers: list[nn.Module] = []
        for c_in, c_out in zip((1, *channels), channels):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, padding_mode=mode), nn.ReLU()]
        side = size // 2 ** len(channels)  # (B, C, side, side) after the convolutions
        layers.append(nn.Flatten())
        if features is None:
            self.features = channels[-1] * side * side
        else:
            self.features = check_int("features", features)
            layers += [nn.Linear(channels[-1] * side * side, self.features), nn.ReLU()]
        self.net = nn.Sequential(*layers)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Features (B, F) of frames (B, S, S)."""
        if frames.ndim != 3 or frames.shape[1:] != (self.frame_size, self.frame_size):
            raise ValueError(f"frames must have shape (B, {self.frame_size}, {self.frame_size}), "
                             f"received {tuple(frames.shape)}")
        return self.net(frames[:, None])


def frame_mask(lengths: Any, n_frames: int, *, device: Any = "cpu") -> torch.Tensor:
    """Boolean (B, T) mask, True at the real frames 0..L-1 of each video of length L."""
    lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.int64, device=device)
    return torch.arange(n_frames, device=device)[None, :] < lengths[:, None]


class VideoClassifier(nn.Module):
    """A frame encoder, a temporal rule, and a classifier head: (B, T, S, S) videos -> (B, K) logits.

    Args:
        frame_size: S.
        num_classes: K.
        temporal: how frames are combined, "gru" (the LRCN), "average" (order-blind) or
            "single" (one frame only).
        features: F, the encoder's output size (None: its flattened feature maps).
        hidden_size: H, the GRU's state size; for "average" and "single" the width of a hidden
            ReLU layer in the head, so all three have a nonlinear layer between features and logits.
        frame: the frame used by "single".
        **encoder_options: ``channels`` and ``circular`` of ``FrameEncoder``.
    """

    def __init__(self, frame_size: int, num_classes: int, *, temporal: str = "gru", features: int | None = None,
                 hidden_size: int = 64, frame: int = 0, **encoder_options: Any) -> None:
        super().__init__()
        self.temporal = check_choice("temporal", temporal, TEMPORAL)
        self.frame = check_int("frame", frame, minimum=0)
        self.encoder = FrameEncoder(frame_size, features, **encoder_options)
        hidden = check_int("hidden_size", hidden_size)
        classes = check_int("num_classes", num_classes, minimum=2)
        if self.temporal == "gru":
            self.rnn = nn.GRU(self.encoder.features, hidden, batch_first=True)
            self.head: nn.Module = nn.Linear(hidden, classes)
        else:
            self.head = nn.Sequential(nn.Linear(self.encoder.features, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def frame_features(self, videos: torch.Tensor, lengths: Any = None) -> torch.Tensor:
        """Features (B, T, F) of every real frame, zeros at the padding (which is never encoded)."""
        batch, n_frames = self._check(videos, lengths)
        mask = frame_mask(self._lengths(lengths, batch, n_frames), n_frames, device=videos.device)
        out = videos.new_zeros(batch, n_frames, self.encoder.features)
        out[mask] = self.encoder(videos[mask])
        return out

    def forward(self, videos: torch.Tensor, lengths: Any = None) -> torch.Tensor:
        """Logits (B, K) of videos (B, T, S, S) whose real lengths are ``lengths`` (B,), or T if None."""
        batch, n_frames = self._check(videos, lengths)
        lengths = self._lengths(lengths, batch, n_frames)
        if self.temporal == "single":
            if self.frame >= int(lengths.min()):
                raise ValueError(f"frame={self.frame} is padding in a video of {int(lengths.min())} frames")
            return self.head(self.encoder(videos[:, self.frame]))
        features = self.frame_features(videos, lengths)  # (B, T, F)
        if self.temporal == "average":
            mean = features.sum(dim=1) / torch.as_tensor(lengths, dtype=features.dtype, device=videos.device)[:, None]
            return self.head(mean)  # (B, F) -> (B, K)
        _, state = run_rnn(self.rnn, features, lengths=lengths)  # state (1, B, H) after each last real frame
        return self.head(state[-1])

    def step_logits(self, videos: torch.Tensor, lengths: Any = None) -> torch.Tensor:
        """The LRCN's answer after every frame: logits (B, T, K), zeros at the padding ("gru" only)."""
        if self.temporal != "gru":
            raise ValueError(f"step_logits needs temporal='gru' (an answer after every frame), received {self.temporal!r}")
        batch, n_frames = self._check(videos, lengths)
        lengths = self._lengths(lengths, batch, n_frames)
        out, _ = run_rnn(self.rnn, self.frame_features(videos, lengths), lengths=lengths)  # (B, T, H)
        mask = frame_mask(lengths, n_frames, device=videos.device)
        return self.head(out) * mask[..., None]

    def _check(self, videos: torch.Tensor, lengths: Any) -> tuple[int, int]:
        size = self.encoder.frame_size
        if not isinstance(videos, torch.Tensor) or videos.ndim != 4 or videos.shape[2:] != (size, size):
            shape = tuple(videos.shape) if hasattr(videos, "shape") else type(videos).__name__
            raise ValueError(f"videos must be a tensor of shape (B, T, {size}, {size}), received {shape}")
        return videos.shape[0], videos.shape[1]

    @staticmethod
    def _lengths(lengths: Any, batch: int, n_frames: int) -> np.ndarray:
        if lengths is None:
            return np.full(batch, n_frames, dtype=np.int64)
        if isinstance(lengths, torch.Tensor):
            lengths = lengths.detach().cpu().numpy()
        return check_lengths(lengths, batch, n_frames)  # type: ignore[return-value]


def lrcn(frame_size: int, num_classes: int, **options: Any) -> VideoClassifier:
    """The LRCN of Donahue et al. (2015): ``VideoClassifier(..., temporal="gru")``."""
    return VideoClassifier(frame_size, num_classes, temporal="gru", **options)


class EveryFrame(nn.Module):
    """Wraps a "gru" ``VideoClassifier`` so that calling it gives ``step_logits`` (B, T, K), for training.

    The wrapper owns no parameters of its own: training it trains the wrapped model.
    """

    def __init__(self, model: VideoClassifier) -> None:
        super().__init__()
        if not isinstance(model, VideoClassifier) or model.temporal != "gru":
            raise ValueError("EveryFrame needs a VideoClassifier with temporal='gru', "
                             f"received {type(model).__name__} {getattr(model, 'temporal', '')!r}")
        self.model = model

    def forward(self, videos: torch.Tensor, lengths: Any = None) -> torch.Tensor:
        """Logits (B, T, K) after every frame."""
        return self.model.step_logits(videos, lengths)


IGNORE = -100  # the target of a padding frame: ``torch.nn.functional.cross_entropy`` skips it


def frame_targets(labels: np.ndarray, lengths: np.ndarray, n_frames: int) -> np.ndarray:
    """Per-frame targets (N, T) int64: each video's label at its real frames, ``IGNORE`` at the padding."""
    labels, lengths = np.asarray(labels), np.asarray(lengths)
    if labels.ndim != 1 or lengths.shape != labels.shape:
        raise ValueError(f"labels and lengths must be 1-D of the same length, received {labels.shape} and {lengths.shape}")
    checked = check_lengths(lengths, len(labels), check_int("n_frames", n_frames))
    assert checked is not None
    targets = np.repeat(labels.astype(np.int64)[:, None], n_frames, axis=1)
    targets[np.arange(n_frames)[None, :] >= checked[:, None]] = IGNORE
    return targets


def every_frame_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real frames: logits (B, T, K), targets (B, T) with ``IGNORE`` at padding."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)


def reverse_videos(videos: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each video played backwards: its real frames in reverse order, the padding left in place. (N, T, ...)."""
    videos, lengths = np.asarray(videos), np.asarray(lengths)
    checked = check_lengths(lengths, len(videos), videos.shape[1])
    assert checked is not None
    out = videos.copy()
    for i, length in enumerate(checked):
        out[i, :length] = videos[i, :length][::-1]
    return out
