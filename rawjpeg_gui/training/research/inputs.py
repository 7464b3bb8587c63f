"""Extra image inputs of research models: what the thumbnail averages away.

* ``channel_max``: the largest value of each channel of the full image.
* ``noise``: the image's noise level (:func:`noise_sigma`).
* ``meta``: the raw's capture metadata (:func:`meta_features`: ISO, exposure time,
  black and white levels).

The training cache (``training/data.py``) computes the same features from its patches.
"""

from __future__ import annotations

import math

import numpy as np

from rawjpeg_gui.core.metadata import RawMeta


def channel_max(image: np.ndarray) -> np.ndarray:
    """The largest value of each channel of an HxWxC image (float32, C values).

    Reduces whole rows first (``np.maximum`` between contiguous rows), then the column
    maxima per channel.
    """
    h, w, c = image.shape
    if h == 0 or w == 0:
        return np.zeros(c, np.float32)
    rows = np.maximum.reduce(image.reshape(h, w * c), axis=0)
    return rows.reshape(w, c).max(axis=0).astype(np.float32)


#: Noise estimate: blocks of this side, at most this many per image side.
NOISE_BLOCK, NOISE_GRID = 32, 16
#: The noise level a noise-aware model is told when the caller gives none (a clean raw).
DEFAULT_NOISE = 1e-3


#: What a metadata-aware model is told when a raw does not record a value: ISO 100,
#: 1/100 s, no black level, 14 bits (see :func:`meta_features`).
DEFAULT_ISO, DEFAULT_EXPOSURE_S, DEFAULT_RANGE = 100.0, 0.01, 16383.0
#: Length of the :func:`meta_features` vector (the ``meta`` input is ``[1, META_FEATURES]``).
META_FEATURES = 4


def meta_features(meta: RawMeta | None) -> np.ndarray:
    """A raw's capture metadata as a metadata-aware model takes it (float32, 4 values).

    ``log2(ISO / 100) / 6`` (the sensor's gain: read and shot noise grow with it),
    ``log2(exposure seconds) / 10``, the black level as a fraction of the white level
    (the pedestal the raw range loses) and ``log2(white - black) / 16`` (the raw's
    effective bit depth: its quantisation step). Values a raw does not record are the
    defaults above (ISO 100, 1/100 s, no black level, 14 bits).
    """
    meta = meta or RawMeta()
    iso = meta.iso if meta.iso and meta.iso > 0 and math.isfinite(meta.iso) else DEFAULT_ISO
    t = meta.exposure_time
    t = t if t and t > 0 and math.isfinite(t) else DEFAULT_EXPOSURE_S
    black = float(np.mean(meta.black_levels)) if meta.black_levels else 0.0
    white = float(meta.white_level) if meta.white_level and meta.white_level > 1.0 else 0.0
    if not (math.isfinite(black) and math.isfinite(white)) or white <= black or black < 0:
        black, white = 0.0, DEFAULT_RANGE
    return np.array(
        [
            math.log2(iso / 100.0) / 6.0,
            math.log2(t) / 10.0,
            black / white,
            math.log2(white - black) / 16.0,
        ],
        np.float32,
    )


def block_noise(blocks: np.ndarray) -> np.ndarray:
    """Robust noise sigma of each (N, B, B) block of one channel.

    Horizontal neighbour differences, their median absolute deviation times 1.4826
    (a Gaussian's sigma), over sqrt(2) (a difference holds two samples' noise).
    """
    d = np.diff(blocks.astype(np.float32), axis=2).reshape(len(blocks), -1)
    mad = np.median(np.abs(d - np.median(d, axis=1, keepdims=True)), axis=1)
    return (1.4826 / np.sqrt(2.0) * mad).astype(np.float32)


def noise_sigma(image: np.ndarray) -> float:
    """Noise level of a linear HxWx3 image (green channel), the quiet quarter of its blocks.

    The centre 32x32 block of each cell of a 16x16 grid; the 25th percentile of the
    blocks' sigmas (:func:`block_noise`), so texture and edges count little. The
    training cache computes the same from its patches.
    """
    h, w = image.shape[:2]
    b = NOISE_BLOCK
    if h < b or w < b:
        return 0.0
    ys = ((np.arange(NOISE_GRID) + 0.5) * h / NOISE_GRID).astype(int) - b // 2
    xs = ((np.arange(NOISE_GRID) + 0.5) * w / NOISE_GRID).astype(int) - b // 2
    ys, xs = np.unique(np.clip(ys, 0, h - b)), np.unique(np.clip(xs, 0, w - b))
    blocks = np.stack([image[y : y + b, x : x + b, 1] for y in ys for x in xs])
    return float(np.percentile(block_noise(blocks), 25))
