"""The display colour chain (core/colour): knee, clip, metadata, the display rendering."""

from __future__ import annotations

import numpy as np
import pytest
from colour_data import XYZ_TO_CAM, random_image

from rawjpeg_gui.core import colour, display
from rawjpeg_gui.core.metadata import RawMeta


def test_knee_is_monotonic_and_smooth_per_channel():
    meta = RawMeta(as_shot_wb=[2.0, 1.0, 0.6], xyz_to_camera=None)  # identity matrix
    chain = colour.chain_for(np.zeros((2, 2, 3), np.float32), meta, 1.0)
    ramp = np.linspace(0.0, 1.0, 20001, dtype=np.float32)
    out = chain.balance(np.stack([ramp] * 3, axis=-1)[None])[0]
    assert np.allclose(out[-1], 1.0, atol=1e-6)  # each channel's clip lands on white
    d = np.diff(out.astype(np.float64), axis=0)
    assert np.all(d > 0)  # strictly increasing: every level stays distinct
    # No jump at the joints of the linear parts and the curves (C1: slopes change slowly).
    slope = d / np.diff(ramp.astype(np.float64))[:, None]
    assert np.max(np.abs(np.diff(slope, axis=0))) < 0.05 * np.max(slope)


def test_clipped_highlights_are_white_and_greys_neutral():
    meta = RawMeta(as_shot_wb=[2.0, 1.0, 1.5], xyz_to_camera=XYZ_TO_CAM)
    chain = colour.chain_for(np.zeros((2, 2, 3), np.float32), meta, 1.0)
    clipped = chain.forward(np.ones((1, 1, 3), np.float32))[0, 0]
    assert np.allclose(clipped, 1.0, atol=1e-5)  # white, not pink
    grey = chain.forward(np.array([[[0.1, 0.2, 0.2 / 1.5]]], np.float32))[0, 0]
    assert np.allclose(grey, 0.2, atol=1e-5)  # balanced grey, below the knee: exact sRGB grey
    out = chain.forward(random_image())
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0


def test_white_balance_falls_back_to_daylight_of_the_matrix():
    meta = RawMeta(xyz_to_camera=XYZ_TO_CAM)
    wb = colour.white_balance(meta)
    cam_white = np.asarray(XYZ_TO_CAM) @ colour.D65_XYZ
    assert wb[1] == pytest.approx(1.0) and np.allclose(wb * cam_white, cam_white[1])
    assert np.allclose(colour.white_balance(RawMeta()), 1.0)
    assert np.allclose(colour.white_balance(RawMeta(as_shot_wb=[2.0, 1.0, 1.5])), [2.0, 1.0, 1.5])


def test_display_render_is_the_chain_with_the_srgb_curve():
    meta = RawMeta(as_shot_wb=[2.0, 1.0, 1.5], xyz_to_camera=XYZ_TO_CAM)
    img = random_image(1)
    gain = display.auto_gain(img, meta)
    shown = display.render(img, meta, max_side=None, base_gain=gain)
    chain = colour.chain_for(img, meta)
    expected = (colour.srgb_encode(chain.forward(img)) * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(shown, expected)
