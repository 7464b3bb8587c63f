"""The Qt-free display transform: matrix, white balance, orientation, tone, heat map."""

from __future__ import annotations

import numpy as np
import pytest

from rawjpeg_gui.core import display
from rawjpeg_gui.core.metadata import RawMeta


def _meta(**kw) -> RawMeta:
    return RawMeta(width=6, height=4, **kw)


def test_camera_to_srgb_identity_without_matrix():
    assert np.allclose(display.camera_to_srgb(_meta()), np.eye(3))
    assert np.allclose(display.camera_to_srgb(None), np.eye(3))


def test_camera_to_srgb_maps_white_to_white():
    xyz_to_cam = np.array([[0.7, -0.1, -0.05], [-0.4, 1.2, 0.2], [-0.05, 0.15, 0.6]])
    m = display.camera_to_srgb(_meta(xyz_to_camera=xyz_to_cam.tolist()))
    assert np.allclose(m @ np.ones(3), np.ones(3), atol=1e-9)
    assert not np.allclose(m, np.eye(3))


def test_camera_to_srgb_of_srgb_camera_is_identity():
    inv = np.linalg.inv(display.SRGB_TO_XYZ)  # a camera that sees sRGB
    m = display.camera_to_srgb(_meta(xyz_to_camera=inv.tolist()))
    assert np.allclose(m, np.eye(3), atol=1e-6)


def test_singular_matrix_falls_back_to_identity():
    assert np.allclose(
        display.camera_to_srgb(_meta(xyz_to_camera=np.zeros((3, 3)).tolist())), np.eye(3)
    )


@pytest.mark.parametrize(
    "orientation,expected",
    [
        (1, [[1, 2, 3], [4, 5, 6]]),
        (3, [[6, 5, 4], [3, 2, 1]]),
        (6, [[4, 1], [5, 2], [6, 3]]),
        (8, [[3, 6], [2, 5], [1, 4]]),
        (2, [[3, 2, 1], [6, 5, 4]]),
        (4, [[4, 5, 6], [1, 2, 3]]),
        (5, [[1, 4], [2, 5], [3, 6]]),
        (7, [[6, 3], [5, 2], [4, 1]]),
    ],
)
def test_orient_follows_exif(orientation, expected):
    img = np.array([[1, 2, 3], [4, 5, 6]])
    assert display.orient(img, orientation).tolist() == expected
    w, h = display.oriented_size(3, 2, orientation)
    assert (h, w) == np.asarray(expected).shape


def test_downsample_area_average_and_limit():
    img = np.arange(4 * 6 * 3, dtype=np.float32).reshape(4, 6, 3)
    out = display.downsample(img, 3)
    assert out.shape == (2, 3, 3)
    assert np.isclose(out[0, 0, 0], img[:2, :2, 0].mean())
    assert display.downsample(img, 100) is img
    assert display.downsample(img, None) is img


def test_render_white_balance_and_srgb_curve():
    data = np.full((4, 6, 3), 0.25, np.float32)
    data[..., 1] = 0.5  # green twice as sensitive
    meta = _meta(as_shot_wb=[2.0, 1.0, 2.0])
    out = display.render(data, meta, exposure_ev=0.0, max_side=None)
    assert out.dtype == np.uint8 and out.shape == (4, 6, 3)
    assert np.all(out == out[0, 0, 0])  # neutral grey after white balance
    expected = round((1.055 * 0.5 ** (1 / 2.4) - 0.055) * 255)
    assert abs(int(out[0, 0, 0]) - expected) <= 1
    brighter = display.render(data, meta, exposure_ev=0.5, max_side=None)
    expected = round((1.055 * (0.5 * 2**0.5) ** (1 / 2.4) - 0.055) * 255)
    assert abs(int(brighter[0, 0, 0]) - expected) <= 1
    assert np.all(display.render(data, meta, exposure_ev=1.0, max_side=None) == 255)


def test_render_orientation_and_clipped_highlights_stay_white():
    data = np.ones((4, 6, 3), np.float32)
    meta = _meta(as_shot_wb=[2.0, 1.0, 1.5], orientation=6)
    out = display.render(data, meta, max_side=None)
    assert out.shape == (6, 4, 3)
    assert np.all(out == 255)


def test_auto_gain_range():
    dark = np.full((8, 8, 3), 0.01, np.float32)
    assert display.auto_gain(dark, _meta()) == pytest.approx(16.0)
    bright = np.full((8, 8, 3), 0.95, np.float32)
    assert display.auto_gain(bright, _meta()) == 1.0


def test_heat_and_render_error():
    err = np.linspace(0, 1, 50, dtype=np.float32).reshape(5, 10)
    rgb = display.heat(err, vmax=1.0)
    assert rgb.shape == (5, 10, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0].tolist() == [0, 0, 4] and rgb[-1, -1].tolist() == [252, 253, 191]
    a = np.zeros((4, 6, 3), np.float32)
    b = a + 0.1
    e, coloured = display.render_error(a, b, _meta(orientation=8), max_side=None)
    assert np.allclose(e, 0.1) and coloured.shape == (6, 4, 3)


def test_large_images_are_downsampled_in_bands_to_the_block_sums(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    image = rng.random((1501, 2003, 3), dtype=np.float32)  # above the banded size
    k = 3
    crop = image[:1500, :2001]
    rows = crop[0::k] + crop[1::k] + crop[2::k]  # the block's rows, then its columns
    sums = rows[:, 0::k] + rows[:, 1::k] + rows[:, 2::k]
    expected = sums / np.float32(k * k)
    monkeypatch.setenv("RAWJPEG_THREADS", "3")
    out = display.downsample(image, 700)
    assert out.dtype == np.float32 and np.array_equal(out, expected)
    means = crop.reshape(500, k, 667, k, 3).mean(axis=(1, 3), dtype=np.float64)
    assert np.allclose(out, means, atol=1e-6)
    monkeypatch.setenv("RAWJPEG_THREADS", "1")
    assert np.array_equal(display.downsample(image, 700), out)
