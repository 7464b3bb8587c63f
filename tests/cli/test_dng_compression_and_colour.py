"""DNG output at a sane size, read identically by LibRaw, RawTherapee and darktable.

The raw image is stored in lossless-JPEG tiles, as a CFA mosaic for a Bayer raw (LinearRaw
otherwise), with the camera's own samples for a raw file and on a square-root scale with
a LinearizationTable for a reconstruction (core/dng.py): LibRaw must read the samples back exactly, and the raw developers must
render the DNGs made from ``tinydng_colorchart.dng`` (directly and through a q90
adapter-JPEG) as they render the original. Before
the ColorMatrix fix, RawTherapee rendered that DNG with a strong blue cast (mean blue
1.7x the original's): its ColorMatrix1 rows were scaled by LibRaw's daylight multipliers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rawpy
import tifffile
from realdata import SHARED_RAW, require

from rawjpeg_gui.cli import main
from rawjpeg_gui.core.metrics import psnr


def _ratios(values: tuple[int, ...]) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[0::2] / v[1::2]


@pytest.fixture(scope="module", params=["direct", "via-q90"])
def chart(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(original tinydng colour chart, the DNG ``decode`` writes from it or from its
    q90 adapter-JPEG)."""
    src = require(SHARED_RAW / "tinydng_colorchart.dng")
    folder = tmp_path_factory.mktemp("chart")
    out, source = folder / "chart.dng", src
    if request.param == "via-q90":
        source = folder / "chart.jpg"
        assert main(["encode", str(src), "-q", "90", "-o", str(source)]) == 0
    assert main(["decode", str(source), "-o", str(out)]) == 0
    return src, out


def _libraw_samples(raw: rawpy.RawPy) -> np.ndarray:
    """LibRaw's stored samples: the CFA mosaic, or the three LinearRaw samples per pixel."""
    img = raw.raw_image_visible
    return img.copy() if img.ndim == 2 else img[..., :3].copy()


def _white(page: tifffile.TiffPage) -> int:
    return int(np.atleast_1d(page.tags["WhiteLevel"].value)[0])


def test_a_reconstruction_is_stored_on_a_square_root_scale_libraw_linearises(
    chart: tuple[Path, Path],
) -> None:
    src, out = chart
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0].pages[0]
        assert page.photometric == 32803  # CFA: the chart is a Bayer raw
        stored = page.asarray()
        tag = page.tags.get("LinearizationTable")
        table = None if tag is None else np.asarray(tag.value, np.uint16)
        white = _white(page)
    with rawpy.imread(str(out)) as raw:
        libraw = _libraw_samples(raw)
        assert raw.white_level == white
    if table is None:  # the raw file's own image: the camera's CFA samples, exactly
        np.testing.assert_array_equal(libraw, stored)
        # measured 2.35 MB: 0.60 times the 3.9 MB original (5.6 MB LinearRaw before)
        assert out.stat().st_size <= 0.7 * src.stat().st_size
        return
    curve = table
    assert white == 65535 and curve[0] == 0 and curve[-1] == 65535
    assert np.all(np.diff(curve.astype(np.int64)) > 0) and len(curve) <= 1024
    np.testing.assert_array_equal(libraw, curve[stored])  # LibRaw applies tag 50712
    # measured 1.70 MB: 0.43 times the 3.9 MB original (4.3 MB, 1.09, as LinearRaw)
    assert out.stat().st_size <= 0.5 * src.stat().st_size


@pytest.mark.parametrize(
    ("name", "photometric"),
    [
        ("dcc_canon_g2_0304.crw", 32803),
        ("dcc_kodak_dc120_p003908.kdc", 32803),  # non-square photosites: DefaultScale
        ("tinydng_colorchart.dng", 32803),
    ],
)
def test_the_raw_image_is_lossless_jpeg_and_libraw_reads_it_exactly(
    name: str, photometric: int, tmp_path: Path
) -> None:
    src = require(SHARED_RAW / name)
    out = tmp_path / "x.dng"
    assert main(["decode", str(src), "-o", str(out)]) == 0
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0].pages[0]
        assert page.compression == 7 and page.is_tiled
        assert page.photometric == photometric
        stored = page.asarray()
        levels = _white(page)
    with rawpy.imread(str(out)) as raw:
        np.testing.assert_array_equal(_libraw_samples(raw), stored)
        assert raw.white_level == levels
    # The camera's CFA samples in lossless JPEG: measured 1.06 (G2), 0.68 (DC120) and
    # 0.60 (the DNG) times the original file (2.28, 2.65 and 1.44 as LinearRaw).
    assert out.stat().st_size <= 1.2 * src.stat().st_size


def test_colour_matrix_is_the_originals(chart: tuple[Path, Path]) -> None:
    src, out = chart
    with tifffile.TiffFile(src) as tif:
        original = _ratios(tif.pages[0].tags["ColorMatrix1"].value)
    with tifffile.TiffFile(out) as tif:
        ours = _ratios(tif.pages[0].tags["ColorMatrix1"].value)
    np.testing.assert_allclose(ours, original, atol=2e-4)


def _rawtherapee(src: Path, out: Path, home: Path) -> np.ndarray:
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
    cmd = ["rawtherapee-cli", "-q", "-Y", "-t", "-b16", "-o", str(out), "-c", str(src)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and out.is_file(), done.stdout + done.stderr
    return tifffile.imread(out).astype(np.float64) / 65535.0


def _darktable(src: Path, out: Path, home: Path) -> np.ndarray:
    cmd = [
        "darktable-cli", str(src), str(out), "--core", "--configdir", str(home / "dt"),
        "--library", ":memory:", "--conf", "plugins/imageio/format/tiff/bpp=16",
        "--conf", "plugins/darkroom/workflow=none",
    ]  # fmt: skip
    env = dict(os.environ, HOME=str(home))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and out.is_file(), done.stdout + done.stderr
    return tifffile.imread(out).astype(np.float64) / 65535.0


def _centre(img: np.ndarray, h: int, w: int) -> np.ndarray:
    y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[y : y + h, x : x + w]


def test_rawtherapee_renders_the_chart_dng_like_the_original(
    chart: tuple[Path, Path], tmp_path: Path
) -> None:
    if shutil.which("rawtherapee-cli") is None:
        pytest.skip("rawtherapee-cli is not installed (Debian package: rawtherapee)")
    src, out = chart
    theirs = _rawtherapee(out, tmp_path / "dng.tif", tmp_path)
    original = _rawtherapee(src, tmp_path / "orig.tif", tmp_path)
    # RawTherapee crops the CFA original's border a little more: compare the centres.
    h, w = (min(a, b) for a, b in zip(theirs.shape[:2], original.shape[:2], strict=True))
    theirs, original = _centre(theirs, h, w), _centre(original, h, w)
    ratio = theirs.reshape(-1, 3).mean(0) / original.reshape(-1, 3).mean(0)
    # measured: 1.00-1.01 per channel (the blue cast was 0.58, 0.93, 1.70)
    np.testing.assert_allclose(ratio, 1.0, atol=0.03)
    assert psnr(theirs, original) >= 30.0  # two demosaics of the same data


@pytest.mark.parametrize("develop", [_rawtherapee, _darktable], ids=["rawtherapee", "darktable"])
def test_developers_render_the_chart_dng_like_libraw(
    chart: tuple[Path, Path], tmp_path: Path, develop
) -> None:  # type: ignore[no-untyped-def]
    tool = "rawtherapee-cli" if develop is _rawtherapee else "darktable-cli"
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    _, out = chart
    theirs = develop(out, tmp_path / "x.tif", tmp_path)
    with rawpy.imread(str(out)) as raw:
        libraw = raw.postprocess(
            use_camera_wb=True, output_color=rawpy.ColorSpace.sRGB, gamma=(2.4, 12.92),
            no_auto_bright=True, output_bps=16, adjust_maximum_thr=0.0,
        ).astype(np.float64) / 65535.0  # fmt: skip
    # A CFA DNG is demosaiced by each developer its own way (LibRaw AHD, darktable PPG,
    # RawTherapee AMaZE, which also crops 4 border pixels): compare the centres, whose
    # channel means must agree (no cast) and whose pixels differ only by the demosaic.
    h, w = (min(a, b) - 16 for a, b in zip(theirs.shape[:2], libraw.shape[:2], strict=True))
    theirs, libraw = _centre(theirs, h, w), _centre(libraw, h, w)
    ratio = theirs.reshape(-1, 3).mean(0) / libraw.reshape(-1, 3).mean(0)
    db = psnr(theirs, libraw)
    print(f"{tool}: {db:.1f} dB, channel means {np.round(ratio, 4).tolist()} of LibRaw's")
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)
    assert db >= 38.0  # measured 41.4-43.5 dB
