"""The camera normalisation (core/colour): exact inverse, soft clip, metadata, colour difference."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from realdata import SHARED_RAW, require

from rawjpeg_gui.core import codec, colour, container, display
from rawjpeg_gui.core.errors import CorruptParameters
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.rawio import read_raw

#: A strongly non-diagonal camera matrix (XYZ -> camera) like a real sensor's.
XYZ_TO_CAM = [[0.7, -0.1, -0.05], [-0.4, 1.2, 0.2], [-0.05, 0.15, 0.6]]


def _random_image(seed: int = 0, shape: tuple[int, int] = (64, 48)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.random(shape + (3,), dtype=np.float32) ** 2
    img[:4] = 1.0  # clipped rows
    img[4:8] = 0.0  # black rows
    img[8, :, 0] = 1.0  # pure camera red, far outside sRGB after the matrix
    img[8, :, 1:] = 0.0
    return img


@pytest.mark.parametrize("gain", [1.0, 3.7, 16.0])
def test_chain_is_exactly_invertible_and_stays_in_range(gain):
    meta = RawMeta(as_shot_wb=[2.3, 1.0, 1.6], xyz_to_camera=XYZ_TO_CAM)
    chain = colour.chain_for(np.zeros((2, 2, 3), np.float32), meta, gain)
    img = _random_image()
    out = chain.forward(img)
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0
    back = chain.inverse(out)
    assert (
        np.max(np.abs(back - img)) < 1e-3
    )  # the deepest toe (pure camera red at 16x) is the worst
    # 16x pushes clipped white deep into the shoulder, where float32 is coarsest.
    assert 10 * np.log10(1.0 / np.mean((back.astype(np.float64) - img) ** 2)) > 85


def test_chain_is_monotonic_and_smooth_per_channel():
    meta = RawMeta(as_shot_wb=[2.0, 1.0, 0.6], xyz_to_camera=None)  # identity matrix
    chain = colour.chain_for(np.zeros((2, 2, 3), np.float32), meta, 4.0)
    ramp = np.linspace(0.0, 1.0, 20001, dtype=np.float32)
    out = chain.forward(np.stack([ramp] * 3, axis=-1)[None])[0]
    d = np.diff(out.astype(np.float64), axis=0)
    assert np.all(d > 0)  # strictly increasing: every level stays distinct
    # No jump at the joints of the linear parts and the curves (C1: slopes change slowly).
    slope = d / np.diff(ramp.astype(np.float64))[:, None]
    assert np.max(np.abs(np.diff(slope, axis=0))) < 0.05 * np.max(slope)


def test_clipped_highlights_are_white_and_greys_neutral():
    meta = RawMeta(as_shot_wb=[2.0, 1.0, 1.5], xyz_to_camera=XYZ_TO_CAM)
    chain = colour.chain_for(np.zeros((2, 2, 3), np.float32), meta, 1.0)
    clipped = chain.forward(np.ones((1, 1, 3), np.float32))[0, 0]
    # White, compressed by the shoulder (not clipped), and neutral.
    assert np.allclose(clipped, clipped[1], atol=1e-5) and clipped[1] > 0.85
    grey = chain.forward(np.array([[[0.1, 0.2, 0.2 / 1.5]]], np.float32))[0, 0]
    assert np.allclose(grey, 0.2, atol=1e-5)  # balanced grey, below the knee: exact sRGB grey


def test_serialisation_round_trip_and_validation():
    chain = colour.ColourChain.make(np.array([2.1, 1.0, 1.4]), np.eye(3) * 1.0, 2.5)
    assert colour.ColourChain.from_bytes(chain.to_bytes()) == chain
    with pytest.raises(CorruptParameters):
        colour.ColourChain.from_bytes(chain.to_bytes()[:-1])
    with pytest.raises(CorruptParameters):
        colour.ColourChain.make(np.array([2.1, -1.0, 1.4]), np.eye(3), 2.5)
    with pytest.raises(CorruptParameters):
        colour.ColourChain.make(np.array([2.1, 1.0, 1.4]), np.zeros((3, 3)), 2.5)


def test_white_balance_falls_back_to_daylight_of_the_matrix():
    meta = RawMeta(xyz_to_camera=XYZ_TO_CAM)
    wb = colour.white_balance(meta)
    cam_white = np.asarray(XYZ_TO_CAM) @ colour.D65_XYZ
    assert wb[1] == pytest.approx(1.0) and np.allclose(wb * cam_white, cam_white[1])
    assert np.allclose(colour.white_balance(RawMeta()), 1.0)
    assert np.allclose(colour.white_balance(RawMeta(as_shot_wb=[2.0, 1.0, 1.5])), [2.0, 1.0, 1.5])


def test_ciede2000_reference_pairs():
    # Sharma, Wu and Dalal (2005), test data pairs 1, 2, 3, 17 and 25.
    pairs = [
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, -1.3802, -84.2814), (50, 0, -82.7485), 1.0),
        ((50, 2.5, 0), (73, 25, -18), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ]
    for a, b, expected in pairs:
        assert float(colour.ciede2000(np.array(a), np.array(b))) == pytest.approx(
            expected, abs=1e-4
        )


def test_display_render_is_the_chain_with_the_srgb_curve():
    meta = RawMeta(as_shot_wb=[2.0, 1.0, 1.5], xyz_to_camera=XYZ_TO_CAM)
    img = _random_image(1)
    gain = display.auto_gain(img, meta)
    shown = display.render(img, meta, max_side=None, base_gain=gain)
    chain = colour.chain_for(img, meta)
    expected = (colour.srgb_encode(chain.forward(img)) * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(shown, expected)


# ---------------------------------------------------------------- real raws

REAL = [
    "dcc_canon_g2_0304.crw",
    "imagemeta_canon.crw",
    "dcc_kodak_dc120_p003911.kdc",
    "tinydng_colorchart.dng",
]


@pytest.mark.parametrize("name", REAL)
def test_chain_round_trip_on_real_raws(name):
    raw = read_raw(require(SHARED_RAW / name))
    chain = colour.chain_for(raw.data, raw.meta)
    out = chain.forward(raw.data)
    assert 0.0 <= out.min() and out.max() <= 1.0
    back = chain.inverse(out)
    mse = float(np.mean((back.astype(np.float64) - raw.data) ** 2))
    assert 10 * np.log10(1.0 / mse) > 110  # float precision, not coding precision


@pytest.mark.parametrize("name", ["dcc_canon_g2_0304.crw", "dcc_kodak_dc120_p003911.kdc"])
def test_photo_look_file_shows_the_display_rendering(name):
    """An analytic sRGB-like adapter under the photo look: a viewer shows the app's
    rendering (mean CIEDE2000 <= 3), and decoding returns camera RGB."""
    from rawjpeg_gui.core.model import AdapterModel, default_model_path

    raw = read_raw(require(SHARED_RAW / name))
    model = AdapterModel(default_model_path().parent / "analytic-gamma22.onnx")
    enc = codec.encode_image(raw, 90, model, searched=False, look="photo")
    record = codec.read_record(enc.jpeg)
    assert record.colour == enc.colour is not None
    with Image.open(io.BytesIO(enc.jpeg)) as im:
        assert im.getexif().get_ifd(0x8769).get(0xA001) == 1  # EXIF ColorSpace sRGB
        viewer = np.asarray(im.convert("RGB"), np.float32)[::2, ::2] / 255
    gain = display.auto_gain(raw.data, raw.meta)
    app = colour.srgb_encode(display.to_srgb_linear(raw.data, raw.meta, gain))[::2, ::2]
    de = colour.ciede2000(colour.srgb_to_lab(app), colour.srgb_to_lab(viewer))
    assert de.mean() <= 3.0 and np.percentile(de, 95) <= 12.0
    rec = codec.decode_bytes(enc.jpeg)
    psnr = 10 * np.log10(1.0 / float(np.mean((rec.raw.data - raw.data) ** 2)))
    assert psnr > 38.0


def test_old_files_without_a_colour_record_decode_as_camera_rgb():
    raw = read_raw(require(SHARED_RAW / "dcc_kodak_dc120_p003911.kdc"))
    enc = codec.encode_image(raw, 75, searched=False, look="raw")
    assert codec.read_record(enc.jpeg).colour is None
    rec = codec.decode_bytes(enc.jpeg)
    assert 10 * np.log10(1.0 / float(np.mean((rec.raw.data - raw.data) ** 2))) > 38.0
    # The same record with a chain: the container keeps it (tag 16), byte for byte.
    record = codec.read_record(enc.jpeg)
    record.colour = colour.chain_for(raw.data, raw.meta)
    again = container.decode_segment(container.encode_segment(record))
    assert again.colour == record.colour
