"""Raw input on every real camera file, and refusal of bad ones."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from realdata import SHARED_RAW, real_raw_files, require

from rawjpeg_gui.core.errors import RawDecodeError, UnsupportedFileError
from rawjpeg_gui.core.rawio import read_raw

RAWS = real_raw_files()


@pytest.mark.slow
@pytest.mark.parametrize("path", RAWS, ids=[p.name for p in RAWS])
def test_every_real_raw_reads_as_linear_float(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    raw = read_raw(path)
    assert raw.data.dtype == np.float32 and raw.data.ndim == 3 and raw.data.shape[2] == 3
    assert raw.data.min() >= 0.0 and raw.data.max() <= 1.0
    assert raw.data.mean() > 0.001  # not black: black level and scaling are sane
    m = raw.meta
    assert m.source_name == path.name and m.source_size == path.stat().st_size
    assert (m.width, m.height) == (raw.width, raw.height)
    assert m.make and m.model and m.cfa_pattern in ("RGGB", "GRBG", "GBRG", "BGGR")
    assert m.white_level > max(m.black_levels)
    assert 1 <= m.orientation <= 8
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # input untouched


@pytest.mark.slow
def test_at_least_seven_cameras_are_covered() -> None:
    if len(RAWS) < 8:
        pytest.skip("the registry raws are not fetched (scripts/fetch_test_data.py)")
    cameras = {read_raw(p).meta.camera for p in RAWS}
    assert len(cameras) >= 7, cameras


def test_black_level_is_subtracted_and_white_level_scales() -> None:
    """Dark frame pixels of the D30 CRW sit at its black level (~128 of 4095)."""
    raw = read_raw(require(SHARED_RAW / "imagemeta_canon.crw"))
    assert np.percentile(raw.data, 0.1) < 0.01
    assert raw.meta.black_levels[0] > 100 and raw.meta.white_level == 4095


def test_metadata_from_exif_and_libraw() -> None:
    meta = read_raw(require(SHARED_RAW / "dcc_canon_g2_0304.crw")).meta
    assert meta.camera == "Canon PowerShot G2"
    assert meta.iso == 50 and meta.f_number == 4.0 and meta.datetime.startswith("2022:01:20")
    assert meta.as_shot_wb is not None and meta.xyz_to_camera is not None
    assert meta.wb_source == "camera" and "auto" not in meta.wb_text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["imagemeta_canon.crw", "dcc_kodak_dc120_p003911.kdc"])
def test_unusable_camera_wb_becomes_libraws_automatic_balance(name: str) -> None:
    """The D30 (camera WB ``-1``) and DC120 (``0``): LibRaw renders them with its auto WB.

    Our estimate, per CFA colour, gives LibRaw's camera-WB render (up to rounding, which
    can flip an AHD direction here and there); the
    stored R, G, B balance (greens pooled, as a three-channel DNG holds it) within 50 dB.
    """
    import rawpy
    from libraw_renders import render

    from rawjpeg_gui.core.metrics import psnr
    from rawjpeg_gui.core.rawio import _libraw_auto_wb

    path = require(SHARED_RAW / name)
    with rawpy.imread(str(path)) as raw:
        assert not all(v > 0 for v in raw.camera_whitebalance[:3])
        auto = _libraw_auto_wb(raw)
    assert auto is not None
    rgb, per_colour = auto
    libraw = render(path)  # use_camera_wb=True
    with rawpy.imread(str(path)) as raw:
        exact = (
            raw.postprocess(
                user_wb=per_colour,
                output_color=rawpy.ColorSpace.sRGB,
                no_auto_bright=True,
                gamma=(1, 1),
                output_bps=16,
                adjust_maximum_thr=0.0,
            ).astype(np.float64)
            / 65535.0
        )
    assert psnr(exact, libraw) >= 80.0
    meta = read_raw(path).meta
    assert meta.as_shot_wb == pytest.approx(rgb)
    assert meta.wb_source == "auto" and meta.wb_text.endswith("(auto: none recorded)")
    assert psnr(render(path, rgb), libraw) >= 50.0  # measured 52.6 (D30), 55.8 dB (DC120)


def test_kodak_matrix_is_fitted_to_libraws_rendering() -> None:
    """rawpy exposes no matrix for the DC120; the fitted one reproduces LibRaw's sRGB."""
    import rawpy

    from rawjpeg_gui.core.display import camera_to_srgb
    from rawjpeg_gui.core.metrics import psnr

    path = require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc")
    meta = read_raw(path).meta
    assert meta.xyz_to_camera is not None
    common = dict(
        half_size=True,
        gamma=(1, 1),
        no_auto_bright=True,
        output_bps=16,
        user_wb=[1.0, 1.0, 1.0, 1.0],
        adjust_maximum_thr=0.0,
        highlight_mode=rawpy.HighlightMode.Ignore,
    )
    with rawpy.imread(str(path)) as raw:
        assert not np.any(raw.rgb_xyz_matrix) and not np.any(raw.color_matrix)
        cam = raw.postprocess(output_color=rawpy.ColorSpace.raw, **common) / 65535.0
        srgb = raw.postprocess(output_color=rawpy.ColorSpace.sRGB, **common) / 65535.0
    ours = np.clip(cam @ camera_to_srgb(meta).T, 0, 1)
    assert psnr(ours, srgb) >= 60.0
    identity = np.clip(cam, 0, 1)  # the old fallback: camera RGB taken as sRGB
    assert psnr(identity, srgb) < 40.0


def test_truncated_raw_is_refused(tmp_path: Path) -> None:
    src = require(SHARED_RAW / "dcc_canon_g2_0304.crw")
    bad = tmp_path / "cut.crw"
    bad.write_bytes(src.read_bytes()[:5000])
    with pytest.raises(RawDecodeError, match="cut.crw"):
        read_raw(bad)


def test_text_file_renamed_nef_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "notes.nef"
    bad.write_text("this is not a raw file\n")
    with pytest.raises(RawDecodeError, match="notes.nef"):
        read_raw(bad)


def test_unsupported_suffix_and_missing_file(tmp_path: Path) -> None:
    other = tmp_path / "a.docx"
    other.write_bytes(b"PK")
    with pytest.raises(UnsupportedFileError):
        read_raw(other)
    with pytest.raises(RawDecodeError, match="does not exist"):
        read_raw(tmp_path / "missing.arw")


def test_sixteen_bit_tiff_is_linear_input(tmp_path: Path) -> None:
    import tifffile

    arr = (np.random.default_rng(0).random((20, 30, 3)) * 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "lin.tiff", arr, photometric="rgb")
    raw = read_raw(tmp_path / "lin.tiff")
    assert np.allclose(raw.data, arr / 65535.0, atol=1e-6)


def test_eight_bit_tiff_is_refused(tmp_path: Path) -> None:
    import tifffile

    tifffile.imwrite(tmp_path / "srgb.tif", np.zeros((4, 4, 3), np.uint8), photometric="rgb")
    with pytest.raises(RawDecodeError, match="16-bit"):
        read_raw(tmp_path / "srgb.tif")


def _damaged_kdc(tmp_path: Path) -> Path:
    """A compressed Kodak raw with two header bytes changed (IFD0's Make count, the raw
    SubIFD's StripOffsets tag renamed) and half the file cut."""
    src = bytearray(require(SHARED_RAW / "dcc_kodak_dc120_p003911.kdc").read_bytes())
    src[110], src[722] = 1, 0
    path = tmp_path / "f.kdc"
    path.write_bytes(bytes(src[: len(src) // 2]))
    return path


def test_damaged_header_read_after_a_good_raw_is_refused(tmp_path):
    """In a long-lived process (a batch worker, the app) LibRaw would fill the damaged
    file's raw buffer from an earlier image's freed memory where the heap is not
    zero-filled, and the blank check alone would let it through: the header check
    refuses it first. A fresh interpreter decodes good raws, then the damaged one."""
    path = _damaged_kdc(tmp_path)
    goods = [
        require(SHARED_RAW / n) for n in ("dcc_kodak_dc120_p003908.kdc", "dcc_canon_g2_0304.crw")
    ]
    code = (
        "import sys\n"
        "from rawjpeg_gui.core.rawio import read_raw\n"
        "for good in sys.argv[2:]:\n"
        "    read_raw(good)\n"
        "read_raw(sys.argv[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), *map(str, goods)], capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "f.kdc does not say where its raw image data are" in done.stderr


def test_damaged_header_read_as_blank_data_is_refused(tmp_path):
    """The same file in a fresh process, where LibRaw's buffer is all zeros: refused
    from the header, before unpacking (what ``rawjpeg encode`` meets)."""
    path = _damaged_kdc(tmp_path)
    code = "from rawjpeg_gui.core.rawio import read_raw; import sys; read_raw(sys.argv[1])"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert done.returncode != 0
    assert "f.kdc does not say where its raw image data are" in done.stderr


def test_header_checks_of_the_raw_image_and_of_blank_data() -> None:
    """check_declared_data judges the CFA/LinearRaw IFD of LibRaw's raw size only;
    check_not_blank refuses one value throughout (layouts the header cannot judge)."""
    from types import SimpleNamespace

    from rawjpeg_gui.core.rawcheck import TiffImage, check_declared_data, check_not_blank

    raw = SimpleNamespace(sizes=SimpleNamespace(raw_width=40, raw_height=30))
    p = Path("x.dng")
    whole = TiffImage(40, 30, 16, 1, 1, 32803, 1, 40 * 30 * 2)
    check_declared_data(raw, p, [whole])
    check_declared_data(raw, p, [TiffImage(40, 30, 16, 1, 1, 2, 0, 0)])  # not raw data
    check_declared_data(raw, p, [TiffImage(80, 30, 16, 1, 1, 32803, 0, 0)])  # another size
    check_declared_data(raw, p, [TiffImage(40, 30, 16, 1, 7, 32803, 1, 100)])  # compressed
    with pytest.raises(RawDecodeError, match="does not say where"):
        check_declared_data(raw, p, [TiffImage(40, 30, 16, 1, 1, 32803, 0, 0)])
    with pytest.raises(RawDecodeError, match="declares less raw image data"):
        check_declared_data(raw, p, [TiffImage(40, 30, 16, 1, 1, 34892, 1, 40 * 30 * 2 - 1)])
    check_not_blank(SimpleNamespace(raw_image_visible=np.arange(6).reshape(2, 3)), p)
    with pytest.raises(RawDecodeError, match="every sample is 7"):
        check_not_blank(SimpleNamespace(raw_image_visible=np.full((2, 3), 7)), p)


def test_scaling_in_bands_is_the_one_pass_scaling() -> None:
    import numpy as np

    from rawjpeg_gui.core.rawio import _scaled

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 65536, (1003, 517, 3), dtype=np.uint16)
    scale = np.float32(1.0 / 65535.0) / np.asarray([1.0, 0.5, 0.73], np.float32)
    one = np.minimum(rgb * scale, np.float32(1.0))
    assert one.dtype == np.float32 and np.array_equal(_scaled(rgb, scale), one)


def test_a_mosaic_is_placed_one_to_one_or_stretched_or_not_at_all() -> None:
    """The sensor grid maps onto the demosaic one to one, or through LibRaw's stretch
    when every pixel copies its sensor line exactly; a blended stretch (or a size no
    sensor stretches to) sets neither."""
    from rawjpeg_gui.core import stretch
    from rawjpeg_gui.core.metadata import RawMeta
    from rawjpeg_gui.core.rawio import _place_mosaic

    aspect = 976 / 0.75 / 848
    grid = np.random.default_rng(0).integers(0, 65535, (6, 848, 3)).astype(np.uint16)
    meta = RawMeta()
    _place_mosaic(meta, (6, 848), grid, 1.0)
    assert meta.cfa_aligned and not meta.cfa_pixel_aspect
    meta = RawMeta()
    _place_mosaic(meta, (6, 848), stretch.stretch(grid, aspect), aspect)
    assert meta.cfa_pixel_aspect == aspect and not meta.cfa_aligned
    lines = stretch.source_lines(848, aspect)
    blended = stretch.stretch(grid, aspect)
    blended[:, 1] = grid[:, 0] // 2 + grid[:, 1] // 2  # position 0.65: a blend, not a copy
    for rgb, sensor in ((blended, (6, 848)), (stretch.stretch(grid, aspect), (6, 847))):
        meta = RawMeta()
        _place_mosaic(meta, sensor, rgb, aspect)
        assert not meta.cfa_aligned and not meta.cfa_pixel_aspect
    assert lines[1] == 0
