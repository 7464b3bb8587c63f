"""``rawjpeg decode ... -o X.dng`` end to end on the real raws, read back by LibRaw.

Two paths make a DNG: straight from the raw file (the reference linear image) and
from an adapter-JPEG (``encode`` then ``decode``). For each, LibRaw must read back the
written linear image up to the rounding of the DNG's sample scale, and its sRGB rendering of the DNG must
agree with its rendering of the original raw, both with the camera's white balance
(LibRaw's own choice, automatic where the camera recorded none): the issue's 40 dB
target for the DNG made straight from the raw (measured 40.4-64.6 dB on the shared raws,
docs/DNG.md); the DNG from a q95 adapter-JPEG also carries the JPEG's loss.
RawTherapee and darktable renderings are checked when their command-line tools are installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rawpy
import tifffile
from dng_preview import check_preview
from libraw_renders import linear_back, render
from realdata import SHARED_RAW, real_raw_files, require

from rawjpeg_gui.cli import main
from rawjpeg_gui.core import stretch
from rawjpeg_gui.core.codec import decode_file
from rawjpeg_gui.core.dng import cfa_geometry, cfa_samples, sample_scale, write_dng
from rawjpeg_gui.core.metrics import psnr
from rawjpeg_gui.core.rawio import RawImage, read_raw

#: The shared raws (1.3-4 MP); the fetched 20+ MP ARW/CR2 are in the benchmark only (time).
SMALL_RAWS = [p for p in real_raw_files() if p.parent == SHARED_RAW]
#: One raw per kind for the slower encode -> decode path: CRW with a matrix, KDC, DNG.
VIA_JPEG = [
    p
    for p in SMALL_RAWS
    if p.name.startswith(("dcc_canon_g2", "dcc_kodak_dc120_p003911", "tinydng"))
]
#: Render agreement with LibRaw's camera-WB rendering of the original (dB): the target.
DIRECT_FLOOR_DB = 40.0
#: The same through a q95 adapter-JPEG (measured 41.9-47.4 dB on these three files).
VIA_JPEG_FLOOR_DB = 38.0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_dng(
    dng: Path, written: RawImage, original: Path, floor: float, reconstructed: bool = False
) -> float:
    """LibRaw reads ``written`` back exactly and renders like the original; returns render dB.

    A CFA DNG (every shared raw) holds one sample per photosite: the raw's own CFA
    samples exactly, or the reconstruction at each photosite's colour on the DNG's
    sample scale (unstretched to the sensor grid for the Kodak DC120, whose photosites
    are not square). A LinearRaw DNG holds all three.
    """
    geometry = cfa_geometry(written)
    with rawpy.imread(str(dng)) as raw:
        if geometry is not None:
            assert raw.raw_type == rawpy.RawType.Flat
            desc = raw.color_desc.decode()
            cfa = "".join(desc[int(i)] for i in raw.raw_pattern[:2, :2].ravel())
            assert cfa == written.meta.cfa_pattern
            mosaic = raw.raw_image_visible.copy()
            white = raw.white_level
    if geometry is not None:
        if not reconstructed:
            assert written.mosaic is not None
            np.testing.assert_array_equal(mosaic, written.mosaic)  # the camera's samples
        else:
            scale = sample_scale(written.meta, reconstructed)
            assert white == scale.white_level
            # LibRaw applies the LinearizationTable: its raw_image holds the table's levels
            sampled = cfa_samples(written.data, geometry)
            np.testing.assert_array_equal(mosaic, scale.table()[scale.encode(sampled)])
    else:
        back = linear_back(dng).astype(np.float64) / 65535.0
        assert back.shape == written.data.shape
        scale = sample_scale(written.meta, reconstructed)
        with rawpy.imread(str(dng)) as raw:
            assert raw.white_level == scale.white_level
        # exactly the stored levels, up to LibRaw rescaling to 16 bits in two integer steps
        expected = scale.decode(scale.encode(written.data))
        assert np.abs(back - expected).max() <= 1.5 / 65535
        assert np.abs(back - np.clip(written.data, 0, 1)).max() <= scale.max_error + 1.5 / 65535
        assert psnr(back, written.data) >= 60.0
    render_db = psnr(render(dng), render(original))
    assert render_db >= floor
    check_preview(dng)  # through exiv2's merge of the raw's metadata, too
    return render_db


@pytest.mark.slow
@pytest.mark.parametrize("path", SMALL_RAWS, ids=lambda p: p.name)
def test_decode_raw_to_dng(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _digest(path)
    out = tmp_path / "x.dng"
    assert main(["decode", str(path), "-o", str(out)]) == 0
    assert "x.dng" in capsys.readouterr().out
    reference = read_raw(path)
    db = _check_dng(out, reference, path, DIRECT_FLOOR_DB)
    print(f"{path.name}: direct DNG render PSNR {db:.1f} dB")
    assert _digest(path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.dng"]


@pytest.mark.slow
@pytest.mark.parametrize("path", VIA_JPEG, ids=lambda p: p.name)
def test_encode_then_decode_to_dng(path: Path, tmp_path: Path) -> None:
    jpg, out = tmp_path / "x.jpg", tmp_path / "x.dng"
    assert main(["encode", str(path), "-q", "95", "-o", str(jpg)]) == 0
    assert main(["decode", str(jpg), "-o", str(out)]) == 0
    rec = decode_file(jpg).raw
    db = _check_dng(out, rec, path, VIA_JPEG_FLOOR_DB, reconstructed=True)
    print(f"{path.name}: DNG from adapter-JPEG q95 render PSNR {db:.1f} dB")
    original = read_raw(path).meta  # the camera metadata survived the JPEG into the DNG
    with rawpy.imread(str(out)) as raw:
        assert raw.other.iso_speed == pytest.approx(original.iso or 0, abs=1)
        wb = np.asarray(raw.camera_whitebalance[:3])
        np.testing.assert_allclose(wb / wb[1], original.as_shot_wb or [1, 1, 1], rtol=1e-4)
        libraw_matrix = np.asarray(raw.rgb_xyz_matrix[:3])
    with tifffile.TiffFile(out) as tif:
        ifd0 = tif.pages[0]
        if original.xyz_to_camera is not None:
            # LibRaw exposes the matrix of some DNGs only through its colour pipeline;
            # then read ColorMatrix1 from the file itself.
            stored = libraw_matrix
            if not np.any(stored):
                v = np.asarray(ifd0.tags["ColorMatrix1"].value, np.float64).reshape(-1, 2)
                stored = (v[:, 0] / v[:, 1]).reshape(3, 3)
            np.testing.assert_allclose(stored, original.xyz_to_camera, atol=1e-4)
        assert ifd0.tags["UniqueCameraModel"].value == (original.camera or "rawjpeg reconstruction")
        assert ifd0.tags["Orientation"].value == original.orientation
        assert ifd0.tags["OriginalRawFileName"].value == path.name
        exif = ifd0.tags["ExifTag"].value
        assert exif.get("DateTimeOriginal", "") == original.datetime


def test_decode_refuses_to_overwrite_a_dng_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.dng"
    shutil.copy(require(SHARED_RAW / "tinydng_colorchart.dng"), src)
    before = _digest(src)
    assert main(["decode", str(src), "-o", str(src)]) == 1
    assert "overwrite the input" in capsys.readouterr().err
    assert _digest(src) == before
    assert [p.name for p in tmp_path.iterdir()] == ["in.dng"]


#: Raw developers and how they export a 16-bit sRGB TIFF with neutral settings.
DEVELOPERS = {
    "rawtherapee-cli": "rawtherapee",  # Debian package names
    "darktable-cli": "darktable",
}


def _develop(tool: str, src: Path, out: Path, home: Path) -> np.ndarray:
    """``tool``'s 16-bit sRGB rendering of ``src``, isolated from any user configuration."""
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
    if tool == "rawtherapee-cli":  # no -p/-d: RawTherapee's neutral profile
        cmd = [tool, "-q", "-Y", "-t", "-b16", "-o", str(out), "-c", str(src)]
    else:  # workflow=none: no auto-applied scene-referred modules (filmic, +0.7 EV)
        cmd = [
            tool, str(src), str(out), "--core", "--configdir", str(home / "dt"),
            "--library", ":memory:", "--conf", "plugins/imageio/format/tiff/bpp=16",
            "--conf", "plugins/darkroom/workflow=none",
        ]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and out.is_file(), done.stdout + done.stderr
    return tifffile.imread(out).astype(np.float64) / 65535.0


def _centres(theirs: np.ndarray, libraw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The common centre, 8 pixels in from the smaller image's edges (RawTherapee crops
    4 border pixels of a CFA image)."""
    h, w = (min(a, b) - 16 for a, b in zip(theirs.shape[:2], libraw.shape[:2], strict=True))

    def centre(img: np.ndarray) -> np.ndarray:
        y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
        return img[y : y + h, x : x + w]

    return centre(theirs), centre(libraw)


def _like_libraw(theirs: np.ndarray, libraw: np.ndarray, floor: float) -> float:
    """No cast (channel means within 1 %) and ``floor`` dB; returns the PSNR."""
    theirs, libraw = _centres(theirs, libraw)
    ratio = theirs.reshape(-1, 3).mean(0) / libraw.reshape(-1, 3).mean(0)
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)
    db = psnr(theirs, libraw)
    assert db >= floor
    return db


@pytest.mark.slow
@pytest.mark.parametrize("tool", sorted(DEVELOPERS))
def test_raw_developers_render_our_dng_like_libraw(tool: str, tmp_path: Path) -> None:
    """RawTherapee and darktable read levels, CFA layout, LinearizationTable, WB,
    ColorMatrix1 and Orientation as LibRaw does.

    The G2's DNGs are CFA DNGs, which each developer demosaics its own way (LibRaw AHD,
    darktable PPG, RawTherapee AMaZE): measured 43.1-44.1 dB against LibRaw's render of
    the same DNG (81.9-85.4 dB when they were LinearRaw). The Kodak DC120's CFA DNG has
    non-square photosites (DefaultScale): darktable stretches it to LibRaw's size (to a
    row), RawTherapee ignores the tag as it ignores the KDC's pixel aspect, and renders
    the DNG at the size it renders the KDC; neither shows a cast. Rotated images are
    checked for direction only: darktable resamples on export when it rotates (33 dB,
    and 180 degrees loses a pixel).
    """
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian package: {DEVELOPERS[tool]})")
    g2 = require(SHARED_RAW / "dcc_canon_g2_0304.crw")
    dng = tmp_path / "g2.dng"
    assert main(["decode", str(g2), "-o", str(dng)]) == 0
    theirs = _develop(tool, dng, tmp_path / "g2.tif", tmp_path)
    db = _like_libraw(theirs, render(dng, gamma=(2.4, 12.92)), 36.0)
    print(f"{tool}: G2 CFA DNG {db:.1f} dB")

    # A reconstruction: samples on the square-root scale, linearised by the DNG's table.
    jpg = tmp_path / "g2.jpg"
    assert main(["encode", str(g2), "-q", "90", "-o", str(jpg)]) == 0
    via = tmp_path / "g2q90.dng"
    assert main(["decode", str(jpg), "-o", str(via)]) == 0
    theirs = _develop(tool, via, tmp_path / "g2q90.tif", tmp_path)
    db = _like_libraw(theirs, render(via, gamma=(2.4, 12.92)), 36.0)
    print(f"{tool}: G2 q90 CFA DNG {db:.1f} dB")

    kdc = require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc")
    wide = tmp_path / "kdc.dng"
    assert main(["decode", str(kdc), "-o", str(wide)]) == 0
    theirs = _develop(tool, wide, tmp_path / "kdc.tif", tmp_path)
    libraw = render(wide, gamma=(2.4, 12.92))
    assert libraw.shape == (976, 1301, 3)
    if tool == "rawtherapee-cli":  # no stretch, as for the KDC itself
        assert theirs.shape == _develop(tool, kdc, tmp_path / "kdc_rt.tif", tmp_path).shape
        assert theirs.shape[1] < 848
        libraw = stretch.unstretch(libraw, 976 / 0.75 / 848, (976, 848)).astype(np.float64)
    else:
        assert abs(theirs.shape[0] - 976) <= 1 and theirs.shape[1] == 1301
    db = _like_libraw(theirs, libraw, 30.0)
    print(f"{tool}: DC120 CFA DNG with DefaultScale {db:.1f} dB")

    rotate = ["dcc_canon_g2_0304.crw"]
    if tool != "rawtherapee-cli":  # RawTherapee does not stretch the DC120 (above)
        rotate.insert(0, "dcc_kodak_dc120_p003908.kdc")
    for name in rotate:
        small = read_raw(require(SHARED_RAW / name))
        small.meta.orientation = 6  # displayed rotated 90 degrees clockwise
        stem = name.split(".")[0]
        rotated = write_dng(tmp_path / f"{stem}.dng", small)
        theirs = _develop(tool, rotated, tmp_path / f"{stem}.tif", tmp_path)
        libraw = render(rotated, gamma=(2.4, 12.92))
        assert libraw.shape == (small.width, small.height, 3)
        assert abs(theirs.shape[0] - small.width) <= 8 and abs(theirs.shape[1] - small.height) <= 8
        a, b = _centres(theirs, libraw)
        right, wrong = psnr(a, b), psnr(a, b[::-1, ::-1])
        assert right >= 30.0 and right > wrong + 10.0
