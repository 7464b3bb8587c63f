"""The numpy operators are the specification: exact round trips without JPEG."""

from __future__ import annotations

import numpy as np
import pytest

from rawjpeg_gui.core import operators
from rawjpeg_gui.core.metrics import psnr
from rawjpeg_gui.core.params import AdapterParams, identity_params, sanitize


def _params(rng: np.random.Generator, dct: bool, side: int = 10) -> AdapterParams:
    lut = np.sort(rng.random((3, 129)), axis=1)
    gamma = rng.uniform(0.3, 2.5, (side, side))
    scale = rng.uniform(0.5, 2.0, (3, 8, 8)) if dct else None
    return sanitize(lut, gamma, scale)


SHAPES = [(1, 1), (2, 3), (7, 13), (8, 8), (17, 9), (64, 64), (121, 203)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dct", [False, True])
def test_round_trip_random_images(shape: tuple[int, int], dct: bool) -> None:
    rng = np.random.default_rng(sum(shape))
    img = rng.random((*shape, 3)).astype(np.float32)
    p = _params(rng, dct)
    back = operators.inverse(operators.forward(img, p), p)
    assert back.shape == img.shape and back.dtype == np.float32
    assert psnr(img, back) >= 60.0


@pytest.mark.parametrize("value", [0.0, 1.0])
@pytest.mark.parametrize("dct", [False, True])
def test_round_trip_flat_black_and_white(value: float, dct: bool) -> None:
    img = np.full((33, 47, 3), value, np.float32)
    p = _params(np.random.default_rng(1), dct)
    back = operators.inverse(operators.forward(img, p), p)
    assert np.all(np.isfinite(back))
    assert np.abs(back - img).max() < 1e-3


def test_round_trip_real_raw(small_raw) -> None:  # type: ignore[no-untyped-def]
    p = _params(np.random.default_rng(2), dct=True, side=32)
    back = operators.inverse(operators.forward(small_raw.data, p), p)
    assert psnr(small_raw.data, back) >= 60.0


def test_identity_params_change_nothing() -> None:
    img = np.random.default_rng(3).random((16, 24, 3)).astype(np.float32)
    out = operators.forward(img, identity_params())
    assert np.abs(out - img).max() < 1e-5


def test_lut_is_piecewise_linear_through_knots() -> None:
    knots = np.linspace(0, 1, 5)
    lut = np.tile(knots**0.5, (3, 1)).astype(np.float32)
    img = np.tile(knots.astype(np.float32)[None, :, None], (1, 1, 3))
    assert np.allclose(operators.apply_lut(img, lut)[0, :, 0], knots**0.5, atol=1e-6)
    mid = np.full((1, 1, 3), 0.125, np.float32)  # halfway between knots 0 and 0.25
    assert np.isclose(operators.apply_lut(mid, lut)[0, 0, 0], 0.5 * 0.25**0.5, atol=1e-6)


def test_gamma_map_upsampling_matches_half_pixel_bilinear() -> None:
    grid = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    up = operators.upsample_bilinear(grid, 4, 4)
    # Half-pixel centres: the outer pixels clamp to the corner values.
    assert up[0, 0] == 1.0 and up[-1, -1] == 4.0
    assert np.isclose(up[1, 1], 1.0 + 0.25 * 1 + 0.25 * 2)


def test_dct_scale_identity_and_energy() -> None:
    img = np.random.default_rng(4).random((16, 16, 3)).astype(np.float32)
    assert np.allclose(operators.scale_dct(img, np.ones((3, 8, 8))), img, atol=1e-5)
    scale = np.ones((3, 8, 8), np.float32)
    scale[:, 0, 0] = 2.0  # doubles each block's mean only
    out = operators.scale_dct(img, scale)
    blocks = lambda x: x.reshape(2, 8, 2, 8, 3).mean(axis=(1, 3))  # noqa: E731
    assert np.allclose(blocks(out), 2 * blocks(img), atol=1e-5)
