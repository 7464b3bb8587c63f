"""The photo look (training/research/photolook): exact inverse, storage, version 3 files."""

from __future__ import annotations

import io

import numpy as np
import pytest
from colour_data import XYZ_TO_CAM, random_image
from PIL import Image
from realdata import SHARED_RAW, require
from skimage.color import deltaE_ciede2000, rgb2lab

from rawjpeg_gui.core import codec, colour, display
from rawjpeg_gui.core.errors import CorruptParameters, ModelError, UnsupportedVersion
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.model import AdapterModel, default_model_path
from rawjpeg_gui.core.rawio import read_raw
from rawjpeg_gui.training.research import photolook
from rawjpeg_gui.training.research.photolook import PhotoChain


@pytest.mark.parametrize("gain", [1.0, 3.7, 16.0])
def test_chain_is_exactly_invertible_and_stays_in_range(gain):
    meta = RawMeta(as_shot_wb=[2.3, 1.0, 1.6], xyz_to_camera=XYZ_TO_CAM)
    c = colour.chain_for(np.zeros((2, 2, 3), np.float32), meta, gain)
    chain = PhotoChain(c.wb, c.matrix, c.gain)
    img = random_image()
    out = chain.forward(img)
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0
    back = chain.inverse(out)
    assert np.max(np.abs(back - img)) < 1e-3  # the deepest toe (camera red at 16x) is the worst
    # 16x pushes clipped white deep into the shoulder, where float32 is coarsest.
    assert 10 * np.log10(1.0 / np.mean((back.astype(np.float64) - img) ** 2)) > 85


def test_soft_clip_keeps_white_neutral_and_below_one():
    chain = photolook.chain_for(
        np.zeros((2, 2, 3), np.float32),
        RawMeta(as_shot_wb=[2.0, 1.0, 1.5], xyz_to_camera=XYZ_TO_CAM),
    )
    clipped = chain.forward(np.ones((1, 1, 3), np.float32))[0, 0]
    assert np.allclose(clipped, clipped[1], atol=1e-5) and 0.85 < clipped[1] <= 1.0


def test_serialisation_round_trip_and_validation():
    chain = PhotoChain.make(np.array([2.1, 1.0, 1.4]), np.eye(3) * 1.0, 2.5)
    assert PhotoChain.from_bytes(chain.to_bytes()) == chain
    with pytest.raises(CorruptParameters):
        PhotoChain.from_bytes(chain.to_bytes()[:-1])
    with pytest.raises(CorruptParameters):
        PhotoChain.make(np.array([2.1, -1.0, 1.4]), np.eye(3), 2.5)
    with pytest.raises(CorruptParameters):
        PhotoChain.make(np.array([2.1, 1.0, 1.4]), np.zeros((3, 3)), 2.5)


@pytest.mark.parametrize(
    "name", ["dcc_canon_g2_0304.crw", "imagemeta_canon.crw", "tinydng_colorchart.dng"]
)
def test_chain_round_trip_on_real_raws(name):
    raw = read_raw(require(SHARED_RAW / name))
    chain = photolook.chain_for(raw.data, raw.meta)
    out = chain.forward(raw.data)
    assert 0.0 <= out.min() and out.max() <= 1.0
    back = chain.inverse(out)
    mse = float(np.mean((back.astype(np.float64) - raw.data) ** 2))
    assert 10 * np.log10(1.0 / mse) > 110  # float precision, not coding precision


def test_photo_look_file_shows_the_rendering_and_the_core_refuses_it():
    """An analytic sRGB-like adapter under the photo look: a viewer shows the app's
    rendering closely, decoding returns camera RGB, and the core reader refuses the
    version 3 file instead of returning display RGB."""
    raw = read_raw(require(SHARED_RAW / "dcc_canon_g2_0304.crw"))
    model = AdapterModel(default_model_path().parent / "analytic-gamma22.onnx")
    enc = photolook.encode_image(raw, 90, model, searched=False, photo=True)
    assert enc.chain is not None
    with Image.open(io.BytesIO(enc.jpeg)) as im:
        assert im.getexif().get_ifd(0x8769).get(0xA001) == 1  # EXIF ColorSpace sRGB
        assert "icc_profile" not in im.info
        viewer = np.asarray(im.convert("RGB"), np.float32)[::2, ::2] / 255
    gain = display.auto_gain(raw.data, raw.meta)
    app = colour.srgb_encode(display.to_srgb_linear(raw.data, raw.meta, gain))[::2, ::2]
    de = deltaE_ciede2000(rgb2lab(app), rgb2lab(viewer))
    assert de.mean() <= 4.0  # the app clips where the photo look's soft clip compresses
    rec = photolook.decode_bytes(enc.jpeg)
    assert 10 * np.log10(1.0 / float(np.mean((rec.raw.data - raw.data) ** 2))) > 38.0
    with pytest.raises(UnsupportedVersion, match="format version 3"):
        codec.decode_bytes(enc.jpeg)


def test_core_refuses_to_encode_with_a_photo_look_model(tmp_path):
    raw = read_raw(require(SHARED_RAW / "dcc_kodak_dc120_p003911.kdc"))
    model = AdapterModel(default_model_path().parent / "analytic-gamma22.onnx")
    object.__setattr__(model.info, "look", "photo")
    with pytest.raises(ModelError, match="photo"):
        codec.encode_image(raw, 75, model)
    # The research codec hands raw-look files to the core.
    model = AdapterModel(default_model_path().parent / "analytic-gamma22.onnx")
    enc = photolook.encode_image(raw, 75, model, searched=False)
    assert enc.chain is None
    assert photolook.decode_bytes(enc.jpeg).raw.data.shape == raw.data.shape
