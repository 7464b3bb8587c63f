"""The embedded ICC profile: colour-managed viewers show the photograph."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageCms
from realdata import MORE_RAW, SHARED_RAW, require
from skimage.color import deltaE_ciede2000, rgb2lab

from rawjpeg_gui.core import codec, colour, display, icc, jpeg, search
from rawjpeg_gui.core.params import AdapterParams
from rawjpeg_gui.core.rawio import RawImage, read_raw

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def managed_view(data: bytes) -> np.ndarray:
    """What a colour-managed viewer shows: the JPEG through its embedded profile to sRGB."""
    with Image.open(io.BytesIO(data)) as im:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        out = ImageCms.profileToProfile(im.convert("RGB"), profile, SRGB, renderingIntent=1)
    return np.asarray(out, np.float32) / 255.0


def app_view(raw: RawImage) -> np.ndarray:
    gain = display.auto_gain(raw.data, raw.meta)
    return colour.srgb_encode(display.to_srgb_linear(raw.data, raw.meta, gain))


@pytest.fixture(scope="module")
def g2() -> RawImage:
    return read_raw(require(SHARED_RAW / "dcc_canon_g2_0304.crw"))


def test_profile_is_a_valid_icc_profile_lcms_reads() -> None:
    lut = np.stack([np.linspace(0, 1, 16) ** 0.5] * 3).astype(np.float32)
    params = AdapterParams(lut, np.full((1, 1), 1.0, np.float32))
    chain = colour.ColourChain.make(np.array([2.0, 1.0, 1.5]), np.eye(3), 1.0)
    data = icc.camera_profile(params, chain, "test profile")
    assert len(data) % 4 == 0 and int.from_bytes(data[:4], "big") == len(data)
    prof = ImageCms.ImageCmsProfile(io.BytesIO(data))
    assert ImageCms.getProfileDescription(prof).strip() == "test profile"
    # Identity matrix, flat gamma map: code value v shows as knee(wb * v ** 2) in linear sRGB.
    ramp = np.zeros((1, 256, 3), np.uint8)
    ramp[0, :, 1] = np.arange(256)
    out = ImageCms.profileToProfile(Image.fromarray(ramp), prof, SRGB, renderingIntent=1)
    got = colour.srgb_decode(np.asarray(out, np.float32)[0, :, 1] / 255.0)
    want = (np.arange(256) / 255.0) ** 2  # green: wb 1, no knee
    assert np.abs(got - want).max() < 0.02


def test_viewer_shows_the_apps_rendering_not_camera_rgb(g2: RawImage) -> None:
    enc = codec.encode_image(g2, 90)
    app = app_view(g2)[::4, ::4]
    viewer = managed_view(enc.jpeg)[::4, ::4]
    with Image.open(io.BytesIO(enc.jpeg)) as im:
        unmanaged = np.asarray(im.convert("RGB"), np.float32)[::4, ::4] / 255.0
    de = deltaE_ciede2000(rgb2lab(app), rgb2lab(viewer))
    de_plain = deltaE_ciede2000(rgb2lab(app), rgb2lab(unmanaged))
    assert de.mean() < 4.0, de.mean()
    assert de_plain.mean() > 3 * de.mean()  # the pixels alone are camera RGB


@pytest.mark.slow
def test_a_viewer_shows_no_local_tone_errors_where_the_network_varies_its_map() -> None:
    """The G2 frame whose predicted gamma map spans 0.70-1.89: with the map's spread
    limited by the encoder (search.GAMMA_SPREAD), the single-curve profile still shows
    the app's rendering (unlimited, the mean CIEDE2000 here was 7.9, p95 15)."""
    raw = read_raw(require(MORE_RAW / "dcc_canon_g2_0305.crw"))
    enc = codec.encode_image(raw, 75)
    g = enc.params.gamma_map
    assert np.log(g.max() / g.min()) <= 2 * search.GAMMA_SPREAD + 1e-3
    de = deltaE_ciede2000(
        rgb2lab(app_view(raw)[::4, ::4]), rgb2lab(managed_view(enc.jpeg)[::4, ::4])
    )
    assert de.mean() < 4.0 and np.percentile(de, 95) < 10.0, (de.mean(), np.percentile(de, 95))


def test_exif_says_the_profile_defines_the_colours(g2: RawImage) -> None:
    enc = codec.encode_image(g2, 50)
    with Image.open(io.BytesIO(enc.jpeg)) as im:
        assert im.getexif().get_ifd(0x8769)[0xA001] == jpeg.COLOUR_SPACE_ICC
        assert "Canon PowerShot G2" in ImageCms.getProfileDescription(
            ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        )
    assert codec.encode_image(g2, 50).jpeg == enc.jpeg  # deterministic, profile included


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_exiftool_reads_the_profile(g2: RawImage, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "g2.jpg"
    path.write_bytes(codec.encode_image(g2, 50).jpeg)
    out = subprocess.run(
        ["exiftool", "-s", "-ColorSpace", "-ProfileClass", "-ColorSpaceData", "-Warning", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Uncalibrated" in out and "Display Device Profile" in out and "RGB" in out
    assert "Warning" not in out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("darktable-cli") is None, reason="darktable-cli is not installed")
def test_darktable_shows_the_photograph(g2: RawImage, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """darktable, opening the adapter-JPEG as any JPEG, honours its profile."""
    src = tmp_path / "g2.jpg"
    src.write_bytes(codec.encode_image(g2, 90).jpeg)
    out = tmp_path / "dt.png"
    subprocess.run(
        ["darktable-cli", str(src), str(out), "--width", "578", "--core",
         "--configdir", str(tmp_path / "dt"), "--library", ":memory:",
         "--conf", "plugins/imageio/format/png/bpp=8"],
        env=dict(os.environ, HOME=str(tmp_path)), capture_output=True, timeout=300, check=True,
    )  # fmt: skip
    with Image.open(out) as im:
        shown = np.asarray(im.convert("RGB"), np.float32) / 255.0
    app = display.downsample(app_view(g2), 578)[: shown.shape[0], : shown.shape[1]]
    de = deltaE_ciede2000(rgb2lab(app), rgb2lab(shown[: app.shape[0], : app.shape[1]]))
    assert de.mean() < 5.0, de.mean()
