"""The research models' extra image inputs: per-channel maximum, noise level, metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def test_channel_max_is_the_per_channel_maximum() -> None:
    from rawjpeg_gui.training.research.inputs import channel_max

    img = np.random.default_rng(3).random((37, 53, 3)).astype(np.float32) * np.array(
        [0.2, 0.5, 0.9], np.float32
    )
    img[5, 7, 1] = 0.75
    assert np.array_equal(channel_max(img), img.reshape(-1, 3).max(axis=0))
    assert channel_max(np.zeros((0, 4, 3), np.float32)).tolist() == [0.0, 0.0, 0.0]


def test_noise_sigma_measures_gaussian_noise_and_ignores_smooth_content() -> None:
    from rawjpeg_gui.training.research.inputs import noise_sigma

    rng = np.random.default_rng(5)
    h, w = 600, 900
    ramp = np.linspace(0.05, 0.6, w, dtype=np.float32)[None, :, None] * np.ones(
        (h, 1, 3), np.float32
    )
    for sigma in (1e-3, 4e-3, 2e-2):
        noisy = ramp + rng.normal(0, sigma, ramp.shape).astype(np.float32)
        assert noise_sigma(noisy) == pytest.approx(sigma, rel=0.15)
    assert noise_sigma(ramp) < 1e-4
    assert noise_sigma(np.zeros((10, 10, 3), np.float32)) == 0.0


def test_meta_features_read_the_raws_own_capture_metadata(shared_raw: Path) -> None:
    """ISO, exposure, black/white levels of real raws, as a metadata-aware model sees them."""
    from rawjpeg_gui.core.metadata import RawMeta
    from rawjpeg_gui.core.rawio import read_raw
    from rawjpeg_gui.training.research.inputs import DEFAULT_EXPOSURE_S, meta_features

    raw = read_raw(shared_raw / "dcc_canon_g2_0304.crw")  # ISO 50, 1/50 s, 10 bit
    f = meta_features(raw.meta)
    assert f.shape == (4,) and f.dtype == np.float32
    assert f[0] == pytest.approx(np.log2(raw.meta.iso / 100) / 6) and f[0] < 0
    assert f[1] == pytest.approx(np.log2(raw.meta.exposure_time) / 10)
    black, white = np.mean(raw.meta.black_levels), raw.meta.white_level
    assert f[2] == pytest.approx(black / white) and 0 < f[2] < 0.2
    assert f[3] == pytest.approx(np.log2(white - black) / 16)
    # Unknown values fall back to the defaults; nonsense never reaches the network.
    default = meta_features(None)
    assert default[0] == 0 and default[1] == pytest.approx(np.log2(DEFAULT_EXPOSURE_S) / 10)
    odd = meta_features(
        RawMeta(iso=-5, exposure_time=float("inf"), black_levels=[900] * 4, white_level=800)
    )
    assert np.array_equal(odd, default)
    assert meta_features(RawMeta(iso=3200))[0] == pytest.approx(5 / 6)
