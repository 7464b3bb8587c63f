"""Metrics against known values."""

from __future__ import annotations

import numpy as np
import pytest

from rawjpeg_gui.core import metrics


def test_psnr_known_value() -> None:
    a = np.zeros((10, 10, 3))
    b = np.full((10, 10, 3), 0.1)
    assert metrics.psnr(a, b) == pytest.approx(20.0)
    assert metrics.psnr(a, a) == float("inf")


def test_ssim_identity_and_degradation() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((64, 64, 3))
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    noisy = np.clip(a + rng.normal(0, 0.2, a.shape), 0, 1)
    assert 0.5 < metrics.ssim(a, noisy) < 0.9  # measured 0.82
    big = rng.random((1100, 1100, 3))
    assert metrics.ssim(big, big) == pytest.approx(1.0)


def test_bd_rate_of_a_curve_needing_80_percent_of_the_bits() -> None:
    rate = [0.2, 0.4, 0.8, 1.6, 3.2]
    quality = [30.0, 33.0, 36.0, 39.0, 42.0]
    assert metrics.bd_rate(rate, quality, [r * 0.8 for r in rate], quality) == pytest.approx(-20.0)
    assert metrics.bd_rate(rate, quality, rate, quality) == pytest.approx(0.0, abs=1e-9)


def test_bd_rate_needs_four_points() -> None:
    with pytest.raises(ValueError):
        metrics.bd_rate([1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3])


def test_error_map_and_bpp() -> None:
    a = np.zeros((2, 3, 3))
    b = np.ones((2, 3, 3))
    assert metrics.error_map(a, b).shape == (2, 3)
    assert metrics.bits_per_pixel(1000, 100, 10) == 8.0


def test_mse_in_bands_is_the_whole_images_mean() -> None:
    rng = np.random.default_rng(1)
    a = rng.random((700, 500, 3), dtype=np.float32)  # several bands
    b = a + rng.normal(0.0, 0.01, a.shape).astype(np.float32)
    d = a.astype(np.float64) - b.astype(np.float64)
    assert metrics.mse(a, b) == pytest.approx(float(np.mean(d * d)), rel=1e-12)
