"""DNG output: tag layout, EXIF, LibRaw read-back, colour semantics and safe writing.

Synthetic images check every tag and the exact 16-bit round trip through LibRaw;
the real raws check that the DNG's colour metadata makes LibRaw render what it
renders from the original file (``test_writer_is_exact_on_real_raws``).
"""

from __future__ import annotations

from pathlib import Path

import exifread
import numpy as np
import pytest
import rawpy
import tifffile
from dng_preview import check_preview
from libraw_renders import linear_back, render, white_balanced_first
from realdata import MORE_RAW, SHARED_RAW, real_raw_files

from rawjpeg_gui.core import codec, stretch
from rawjpeg_gui.core.dng import (
    FALLBACK_XYZ_TO_CAMERA,
    SampleScale,
    camera_neutral,
    camera_to_srgb,
    cfa_geometry,
    cfa_samples,
    color_matrix,
    remosaic,
    render_preview,
    sample_levels,
    sample_scale,
    to_dng_samples,
    write_dng,
)
from rawjpeg_gui.core.errors import CorruptParameters, OutputError
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.metrics import psnr
from rawjpeg_gui.core.rawio import RawImage, read_raw

#: The Kodak DC120's pixel aspect as LibRaw computes it (height / 0.75 / width).
DC120_ASPECT = 976 / 0.75 / 848
#: Canon PowerShot G2 (Adobe's ColorMatrix, D65), as LibRaw reports it.
G2_MATRIX = [[0.9194, -0.2787, -0.1059], [-0.8098, 1.5657, 0.2608], [-0.261, 0.3064, 0.7867]]


def _meta(**kw: object) -> RawMeta:
    meta = RawMeta(
        source_name="IMG_0001.CRW",
        make="Canon",
        model="Canon PowerShot G2",
        lens="7-21mm",
        iso=200.0,
        exposure_time=1 / 125,
        f_number=2.8,
        focal_length=7.0,
        datetime="2024:05:06 07:08:09",
        orientation=1,
        as_shot_wb=[2.0, 1.0, 1.5],
        xyz_to_camera=G2_MATRIX,
    )
    for k, v in kw.items():
        setattr(meta, k, v)
    return meta


def _image(h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((h, w, 3), dtype=np.float32)


def _ratios(values: tuple[int, ...]) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[0::2] / v[1::2]


def test_layout_preview_ifd0_and_linear_raw_subifd(tmp_path: Path) -> None:
    out = write_dng(tmp_path / "a.dng", RawImage(_image(), _meta()))
    with tifffile.TiffFile(out) as tif:
        assert len(tif.pages) == 1
        ifd0 = tif.pages[0]
        assert ifd0.subfiletype == 1 and ifd0.photometric == 6 and ifd0.compression == 7
        assert ifd0.dtype == np.uint8 and ifd0.shape[2] == 3 and max(ifd0.shape[:2]) <= 256
        tags = {t.name: t.value for t in ifd0.tags.values()}
        assert tags["DNGVersion"] == b"\x01\x04\x00\x00"
        assert tags["DNGBackwardVersion"] == b"\x01\x01\x00\x00"
        assert tags["UniqueCameraModel"] == "Canon PowerShot G2"
        assert (tags["Make"], tags["Model"], tags["Orientation"]) == (
            "Canon",
            "Canon PowerShot G2",
            1,
        )
        assert tags["CalibrationIlluminant1"] == 21
        assert tags["OriginalRawFileName"] == "IMG_0001.CRW"
        assert tags["DateTime"] == "2024:05:06 07:08:09"
        np.testing.assert_allclose(
            _ratios(tags["ColorMatrix1"]).reshape(3, 3), G2_MATRIX, atol=1e-4
        )
        np.testing.assert_allclose(_ratios(tags["AsShotNeutral"]), [0.5, 1.0, 1 / 1.5], rtol=1e-5)
        (raw_ifd,) = ifd0.pages
        assert raw_ifd.subfiletype == 0 and raw_ifd.photometric == 34892
        assert raw_ifd.shape == (64, 96, 3) and raw_ifd.dtype == np.uint16
        assert raw_ifd.compression == 7 and raw_ifd.planarconfig == 1  # lossless JPEG tiles
        assert raw_ifd.is_tiled and raw_ifd.tilewidth == 64  # no larger than the image
        assert raw_ifd.tags["BlackLevel"].value == (0, 0, 0)
        levels = sample_levels(_meta())
        assert raw_ifd.tags["WhiteLevel"].value == (levels,) * 3
        assert "LinearizationTable" not in raw_ifd.tags  # a raw file's image: linear levels
        assert raw_ifd.tags["DefaultCropSize"].value == (96, 64)
        np.testing.assert_array_equal(raw_ifd.asarray(), to_dng_samples(_image(), levels))
    check_preview(out)


def test_the_preview_is_a_compressed_jpeg_of_the_rendering(tmp_path: Path) -> None:
    """IFD0 holds :func:`render_preview`'s image as a baseline JPEG a fraction of its size."""
    y, x = np.mgrid[0:300, 0:450].astype(np.float32)
    data = np.stack([x / 450, y / 300, (x + y) / 750], axis=-1) ** 2
    meta = _meta()
    out = write_dng(tmp_path / "a.dng", RawImage(data, meta))
    matrix = color_matrix(meta)
    rendered = render_preview(data, matrix, camera_neutral(meta, matrix))
    pixels = check_preview(out)
    assert pixels.shape == rendered.shape == (150, 225, 3)
    assert psnr(pixels / 255.0, rendered / 255.0) >= 35.0
    with tifffile.TiffFile(out) as tif:
        assert tif.pages[0].databytecounts[0] * 10 <= rendered.nbytes


def test_samples_keep_the_cameras_precision() -> None:
    meta = _meta()
    meta.white_level, meta.black_levels = 4095.0, [128.0, 128.0, 130.0, 128.0]
    assert sample_levels(meta) == 3967
    meta.white_level = 255.0
    assert sample_levels(meta) == 1023  # never fewer than MIN_LEVELS
    meta.white_level = 1.0  # normalised metadata (no raw units): full 16 bits
    assert sample_levels(meta) == 65535


def test_a_raw_files_scale_is_the_cameras_linear_levels() -> None:
    meta = _meta()
    meta.white_level, meta.black_levels = 4095.0, [128.0] * 4
    scale = sample_scale(meta)
    assert scale.linear and scale.white_level == scale.top == 3967
    data = _image()
    np.testing.assert_array_equal(scale.encode(data), to_dng_samples(data, 3967))
    assert np.abs(scale.decode(scale.encode(data)) - data).max() <= scale.max_error + 1e-7


@pytest.mark.parametrize("levels", [1023, 3967, 16383, 65535])
def test_a_reconstructions_scale_is_a_square_root_never_finer_than_the_camera(
    levels: int,
) -> None:
    scale = SampleScale(levels, 1023)
    assert not scale.linear and scale.white_level == 65535
    table = scale.table().astype(np.int64)
    assert len(table) == scale.top + 1 <= 1024 and table[0] == 0 and table[-1] == 65535
    steps = np.diff(table)
    assert np.all(steps > 0)
    assert steps.min() >= 65535 / levels - 1  # never finer than one camera level
    assert steps.max() <= 2 * 65535 / 1023 + 1  # the root's step at white
    x = np.linspace(0, 1, 200_001, dtype=np.float32).reshape(-1, 1, 1)
    back = scale.decode(scale.encode(x))
    assert np.abs(back - x).max() <= scale.max_error
    assert scale.encode(np.float32([[[0.0, 1.0, np.nan]]])).tolist() == [[[0, scale.top, 0]]]
    assert SampleScale(255, 1023).linear  # a coarse camera: the root would be finer


def test_a_reconstruction_dng_carries_the_linearization_table(tmp_path: Path) -> None:
    data = _image(80, 120, seed=4)
    data[0, 0] = 1.0
    meta = _meta()
    meta.white_level, meta.black_levels = 16383.0, [0.0] * 4
    out = write_dng(tmp_path / "a.dng", RawImage(data, meta), reconstructed=True)
    scale = sample_scale(meta, reconstructed=True)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0].pages[0]
        np.testing.assert_array_equal(page.tags["LinearizationTable"].value, scale.table())
        assert page.tags["WhiteLevel"].value == (65535,) * 3
        np.testing.assert_array_equal(page.asarray(), scale.encode(data))
    back = linear_back(out)  # LibRaw applies the table: the linear 16-bit levels
    np.testing.assert_array_equal(back, scale.table()[scale.encode(data)])
    assert np.abs(back / 65535.0 - data).max() <= scale.max_error


def test_exif_ifd_is_readable_by_tifffile_exifread_and_libraw(tmp_path: Path) -> None:
    out = write_dng(tmp_path / "a.dng", RawImage(_image(), _meta()))
    with tifffile.TiffFile(out) as tif:
        exif = tif.pages[0].tags["ExifTag"].value
    assert exif["ExposureTime"] == (1, 125) and exif["FNumber"] == (14, 5)
    assert exif["ISOSpeedRatings"] == 200 and exif["FocalLength"] == (7, 1)
    assert exif["DateTimeOriginal"] == "2024:05:06 07:08:09" and exif["LensModel"] == "7-21mm"
    with open(out, "rb") as fh:
        tags = exifread.process_file(fh, details=False)
    assert str(tags["EXIF ExposureTime"]) == "1/125" and str(tags["EXIF ISOSpeedRatings"]) == "200"
    assert str(tags["EXIF DateTimeOriginal"]) == "2024:05:06 07:08:09"
    with rawpy.imread(str(out)) as raw:
        assert raw.other.iso_speed == 200 and raw.other.aperture == pytest.approx(2.8)
        assert raw.other.shutter_speed == pytest.approx(1 / 125)
        assert raw.other.focal_length == pytest.approx(7.0)


def test_libraw_reads_back_the_exact_16_bit_samples(tmp_path: Path) -> None:
    data = _image(80, 120, seed=3)
    data[0, 0] = 1.0  # a saturated pixel: LibRaw must not rescale anything
    out = write_dng(tmp_path / "a.dng", RawImage(data, _meta()))
    back = linear_back(out)
    np.testing.assert_array_equal(back, to_dng_samples(data))
    assert psnr(back / 65535.0, data) >= 60.0


def test_libraw_reads_the_colour_metadata(tmp_path: Path) -> None:
    out = write_dng(tmp_path / "a.dng", RawImage(_image(), _meta()))
    with rawpy.imread(str(out)) as raw:
        assert raw.num_colors == 3 and raw.white_level == 65535
        assert list(raw.black_level_per_channel) == [0, 0, 0, 0]
        wb = np.asarray(raw.camera_whitebalance[:3])
        np.testing.assert_allclose(wb / wb[1], [2.0, 1.0, 1.5], rtol=1e-4)
        np.testing.assert_allclose(raw.rgb_xyz_matrix[:3], G2_MATRIX, atol=1e-4)
        assert raw.sizes.flip == 0


@pytest.mark.parametrize(("orientation", "flip"), [(3, 3), (6, 6), (8, 5)])
def test_orientation_reaches_libraw(orientation: int, flip: int, tmp_path: Path) -> None:
    out = write_dng(tmp_path / "a.dng", RawImage(_image(40, 70), _meta(orientation=orientation)))
    with rawpy.imread(str(out)) as raw:
        assert raw.sizes.flip == flip
        shape = raw.postprocess(output_bps=16, no_auto_bright=True).shape
    assert shape[:2] == ((40, 70) if orientation == 3 else (70, 40))


def test_fallback_matrix_declares_camera_rgb_as_linear_srgb(tmp_path: Path) -> None:
    for missing in (None, [[0.0] * 3] * 3, [[float("nan")] * 3] * 3):
        assert np.allclose(color_matrix(_meta(xyz_to_camera=missing)), FALLBACK_XYZ_TO_CAMERA)
    np.testing.assert_allclose(camera_to_srgb(FALLBACK_XYZ_TO_CAMERA), np.eye(3), atol=1e-9)
    # No WB either: the neutral is the camera's response to D65, grey for sRGB primaries.
    meta = _meta(xyz_to_camera=None, as_shot_wb=None)
    np.testing.assert_allclose(camera_neutral(meta, color_matrix(meta)), [1, 1, 1], atol=1e-3)
    data = _image(32, 48)
    out = write_dng(tmp_path / "a.dng", RawImage(data, meta))
    rendered = render(out)
    assert psnr(rendered, np.clip(np.round(data * 65535) / 65535, 0, 1)) > 45.0


def test_colour_semantics_match_libraw_on_a_synthetic_scene(tmp_path: Path) -> None:
    """What LibRaw renders from the DNG = WB, then camera->sRGB from ColorMatrix1."""
    data = _image(48, 64, seed=5) * np.float32(0.4)
    meta = _meta()
    out = write_dng(tmp_path / "a.dng", RawImage(data, meta))
    matrix = color_matrix(meta)
    wb = 1.0 / camera_neutral(meta, matrix)
    expected = np.clip((to_dng_samples(data) / 65535.0 * wb) @ camera_to_srgb(matrix).T, 0, 1)
    assert psnr(render(out), expected) > 60.0


def test_preview_is_a_small_white_balanced_srgb_image() -> None:
    meta = _meta()
    matrix = color_matrix(meta)
    neutral = camera_neutral(meta, matrix)
    grey = np.ones((600, 900, 3), np.float32) * np.float32(0.18) * neutral.astype(np.float32)
    preview = render_preview(grey, matrix, neutral)
    assert preview.shape == (150, 225, 3) and preview.dtype == np.uint8
    assert np.ptp(preview.reshape(-1, 3).mean(axis=0)) <= 1.0  # neutral grey stays grey
    assert render_preview(np.zeros((1, 1, 3), np.float32), matrix, neutral).shape == (1, 1, 3)


def test_samples_clip_and_nan_safely() -> None:
    data = np.array([[[-0.5, 0.5, 2.0], [np.nan, np.inf, 1.0]]], np.float32)
    np.testing.assert_array_equal(to_dng_samples(data), [[[0, 32768, 65535], [0, 65535, 65535]]])


def test_empty_and_non_ascii_metadata_still_give_a_valid_dng(tmp_path: Path) -> None:
    meta = RawMeta(make="Ricoh\u00ae", model="", orientation=1)
    out = write_dng(tmp_path / "a.dng", RawImage(_image(32, 32), meta))
    with tifffile.TiffFile(out) as tif:
        ifd0 = tif.pages[0]
        assert ifd0.tags["UniqueCameraModel"].value == "Ricoh?"
        assert set(ifd0.tags["ExifTag"].value) == {"ExifVersion"}
    assert linear_back(out).shape == (32, 32, 3)  # LibRaw opens nothing under 22 pixels


def test_damaged_metadata_falls_back_instead_of_failing(tmp_path: Path) -> None:
    meta = _meta(
        exposure_time=-1.0,
        f_number=float("nan"),
        iso=[1, 2],
        focal_length=1e15,
        xyz_to_camera=[[1.0, 2.0], [3.0]],
        as_shot_wb=[0.0, 1.0, 1.0],
    )
    out = write_dng(tmp_path / "a.dng", RawImage(_image(32, 32), meta))
    with tifffile.TiffFile(out) as tif:
        ifd0 = tif.pages[0]
        exif = ifd0.tags["ExifTag"].value
        cm = _ratios(ifd0.tags["ColorMatrix1"].value).reshape(3, 3)
    assert {"ExposureTime", "FNumber", "ISOSpeedRatings"}.isdisjoint(exif)
    assert exif["FocalLength"][0] < 2**31
    np.testing.assert_allclose(cm, FALLBACK_XYZ_TO_CAMERA, atol=1e-4)
    assert linear_back(out).shape == (32, 32, 3)


def test_refuses_bad_images_and_unsafe_destinations(tmp_path: Path) -> None:
    raw = RawImage(_image(8, 8), _meta())
    with pytest.raises(OutputError, match="three-channel"):
        write_dng(tmp_path / "a.dng", RawImage(np.zeros((8, 8), np.float32), _meta()))
    with pytest.raises(OutputError, match="does not exist"):
        write_dng(tmp_path / "missing" / "a.dng", raw)
    src = tmp_path / "in.dng"
    src.write_bytes(b"original")
    with pytest.raises(OutputError, match="overwrite the input"):
        write_dng(src, raw, inputs=[src])
    assert src.read_bytes() == b"original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.dng"]  # no partial files


def test_a_failing_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rawjpeg_gui.core.dng as dng

    def boom(path: Path, meta: RawMeta) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dng, "_link_exif_ifd", boom)
    with pytest.raises(OutputError, match="disk space"):
        write_dng(tmp_path / "a.dng", RawImage(_image(8, 8), _meta()))
    assert list(tmp_path.iterdir()) == []


#: The shared raws (1.3-4 MP); the fetched 20+ MP ARW/CR2 would take most of the time budget.
SMALL_RAWS = [p for p in real_raw_files() if p.parent == SHARED_RAW]


@pytest.mark.slow
@pytest.mark.parametrize("path", SMALL_RAWS, ids=lambda p: p.name)
def test_writer_is_exact_on_real_raws(path: Path, tmp_path: Path) -> None:
    """The DNG carries what LibRaw needs: its render equals LibRaw's render of the original.

    A Bayer raw's DNG is a CFA DNG of the camera's own samples, which LibRaw demosaics
    exactly as it demosaics the original (and, for the Kodak DC120's non-square
    photosites, stretches as it stretches the original). For the LinearRaw fallback
    the image written is LibRaw's own demosaic of the original (white balance applied
    before demosaicing, then divided out). Either way any difference left comes from
    the DNG's levels, white balance, colour matrix, pixel aspect or orientation, not
    from demosaicing.
    """
    raw = read_raw(path)
    meta = raw.meta
    # Every shared raw has a matrix: LibRaw's table, the DNG's own, or (Kodak DC120,
    # whose ROMM matrix rawpy does not expose) one fitted to LibRaw's renders.
    assert meta.xyz_to_camera is not None
    wb = np.asarray(meta.as_shot_wb, dtype=np.float64)
    if raw.mosaic is None:
        raw = RawImage(white_balanced_first(path, wb), meta)
    out = write_dng(tmp_path / "x.dng", raw)
    original = render(path, wb=list(wb))
    db = psnr(render(out), original)
    print(f"{path.name}: {'CFA' if raw.mosaic is not None else 'LinearRaw'} {db:.1f} dB")
    # measured: CFA 81.2-94.2 dB; the DC120's stretched CFA 63.2-67.0 dB (LibRaw reads
    # DefaultScale in single precision: one of 1301 columns copies the next sensor column)
    assert db >= 60.0
    matrix = color_matrix(meta)
    rendered = render_preview(np.asarray(raw.data), matrix, camera_neutral(meta, matrix))
    assert psnr(check_preview(out) / 255.0, rendered / 255.0) >= 30.0


def _bayer_meta(h: int, w: int, pattern: str = "GRBG") -> RawMeta:
    meta = _meta(width=w, height=h, cfa_pattern=pattern, cfa_aligned=True)
    meta.white_level, meta.black_levels = 4095.0, [128.0] * 4
    return meta


@pytest.mark.parametrize("reconstructed", [False, True])
def test_an_aligned_bayer_image_becomes_a_cfa_dng_of_its_photosites_colours(
    reconstructed: bool, tmp_path: Path
) -> None:
    """Each photosite stores the image's sample of its own colour; LibRaw reads them
    back exactly (through the LinearizationTable for a reconstruction)."""
    data = _image(64, 96)
    raw = RawImage(data, _bayer_meta(64, 96))
    geometry = cfa_geometry(raw)
    assert geometry is not None and geometry.pattern == (1, 0, 2, 1)
    out = write_dng(tmp_path / "x.dng", raw, reconstructed=reconstructed)
    scale = sample_scale(raw.meta, reconstructed)
    expected = scale.encode(remosaic(data, (1, 0, 2, 1)))
    np.testing.assert_array_equal(expected[0::2, 1::2], scale.encode(data[0::2, 1::2, 0]))
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0].pages[0]
        assert page.photometric == 32803 and page.compression == 7
        assert page.tags["CFAPattern"].value == bytes((1, 0, 2, 1))
        assert page.tags["CFARepeatPatternDim"].value == (2, 2)
        assert page.tags["BitsPerSample"].value == 16
        np.testing.assert_array_equal(page.asarray(), expected)
    with rawpy.imread(str(out)) as back:
        assert back.raw_pattern.tolist() == [[1, 0], [2, 3]]  # G R / B G, LibRaw's indices
        assert back.color_desc == b"RGBG"
        np.testing.assert_array_equal(back.raw_image_visible, linear_dng_levels(scale, expected))


def linear_dng_levels(scale: SampleScale, samples: np.ndarray) -> np.ndarray:
    """What LibRaw's raw_image holds: the samples, through the table when there is one."""
    return samples if scale.linear else scale.table()[samples]


def test_a_raw_files_own_cfa_samples_are_stored_exactly(tmp_path: Path) -> None:
    data = _image(32, 48)
    mosaic = np.random.default_rng(3).integers(0, 3968, (32, 48)).astype(np.uint16)
    raw = RawImage(data, _bayer_meta(32, 48, "RGGB"), mosaic)
    out = write_dng(tmp_path / "x.dng", raw)
    with rawpy.imread(str(out)) as back:
        np.testing.assert_array_equal(back.raw_image_visible, mosaic)
        assert back.white_level == 4095 - 128
    # a reconstruction never stores a mosaic it may carry: it samples its own image
    out = write_dng(tmp_path / "y.dng", raw, reconstructed=True)
    with tifffile.TiffFile(out) as tif:
        scale = sample_scale(raw.meta, True)
        stored = tif.pages[0].pages[0].asarray()
        np.testing.assert_array_equal(stored, scale.encode(remosaic(data, (0, 1, 1, 2))))


@pytest.mark.parametrize(
    "change",
    [
        {"cfa_aligned": False},  # unknown (adapter-JPEGs written before the field)
        {"cfa_pattern": "CYGM"},
        {"cfa_pattern": ""},
        {"width": 95},  # not the image's size: resampled
    ],
)
def test_anything_but_an_aligned_bayer_image_stays_linear_raw(
    change: dict[str, object], tmp_path: Path
) -> None:
    raw = RawImage(_image(64, 96), _bayer_meta(64, 96))
    for k, v in change.items():
        setattr(raw.meta, k, v)
    assert cfa_geometry(raw) is None
    out = write_dng(tmp_path / "x.dng", raw)
    with tifffile.TiffFile(out) as tif:
        assert tif.pages[0].pages[0].photometric == 34892


def test_cfa_tiles_at_odd_sizes_round_trip(tmp_path: Path) -> None:
    """Edge tiles are padded; odd sizes keep the CFA phase; LibRaw reads every photosite."""
    data = _image(37, 301, seed=5)
    raw = RawImage(data, _bayer_meta(37, 301, "BGGR"))
    out = write_dng(tmp_path / "x.dng", raw)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0].pages[0]
        assert page.tilewidth == 32  # the smaller side rounded down to 16
        stored = page.asarray()
    expected = sample_scale(raw.meta).encode(remosaic(data, (2, 1, 1, 0)))
    np.testing.assert_array_equal(stored, expected)
    with rawpy.imread(str(out)) as back:
        np.testing.assert_array_equal(back.raw_image_visible, expected)


def test_cfa_aligned_survives_the_metadata_record_and_is_checked() -> None:
    meta = _bayer_meta(4, 4)
    assert RawMeta.from_dict(meta.to_dict()).cfa_aligned is True
    old = meta.to_dict()
    del old["cfa_aligned"]
    assert RawMeta.from_dict(old).cfa_aligned is False
    with pytest.raises(CorruptParameters):
        RawMeta.from_dict({**meta.to_dict(), "cfa_aligned": 1})


#: Real Bayer raws and their measured DNG / raw size (LinearRaw before: 1.44-2.76).
CFA_RAWS = [p for p in real_raw_files() if p.suffix.lower() != ".kdc"]


@pytest.mark.slow
@pytest.mark.parametrize("path", CFA_RAWS, ids=lambda p: p.name)
def test_a_bayer_raw_s_dng_is_its_exact_cfa_samples_at_most_twice_its_size(
    path: Path, tmp_path: Path
) -> None:
    """The camera's samples, independently read from the original by LibRaw, come back
    exactly; the DNG is at most twice the raw file (measured 0.57-1.05); LibRaw's
    demosaic of it is the app's reading of the original (measured 54.6 dB for the Canon
    D30, whose two greens rawio balances apart, 85.1-104.7 dB for the others)."""
    raw = read_raw(path)
    assert raw.meta.cfa_aligned and raw.mosaic is not None
    out = write_dng(tmp_path / "x.dng", raw)
    with rawpy.imread(str(path)) as orig:
        colours = orig.raw_colors_visible
        black = np.asarray(orig.black_level_per_channel)[colours]
        top = orig.white_level - min(orig.black_level_per_channel)
        want = np.clip(orig.raw_image_visible.astype(np.int64) - black, 0, top)
    with rawpy.imread(str(out)) as back:
        assert back.raw_type == rawpy.RawType.Flat
        np.testing.assert_array_equal(back.raw_image_visible, want)
        np.testing.assert_array_equal(back.raw_colors_visible, colours)
    assert out.stat().st_size <= 2 * path.stat().st_size
    assert psnr(read_raw(out).data, raw.data) >= 50.0
    check_preview(out)


def _stretched_meta(aspect: float, sensor: tuple[int, int]) -> tuple[RawMeta, tuple[int, int]]:
    """Metadata of LibRaw's stretch of a GRBG sensor grid, and the stretched size."""
    shape = list(sensor)
    axis = stretch.stretch_axis(aspect)
    shape[axis] = stretch.stretched_length(sensor[axis], aspect)
    meta = _bayer_meta(shape[0], shape[1])
    meta.cfa_aligned, meta.cfa_pixel_aspect = False, aspect
    return meta, (shape[0], shape[1])


@pytest.mark.parametrize("aspect", [DC120_ASPECT, 0.5])
@pytest.mark.parametrize("reconstructed", [False, True])
def test_a_stretched_bayer_image_becomes_a_cfa_dng_of_its_sensor_grid(
    aspect: float, reconstructed: bool, tmp_path: Path
) -> None:
    """The image is unstretched to the sensor grid (each photosite the mean of the
    pixels copied from it), sampled at each photosite's colour, and DefaultScale makes
    LibRaw stretch it back to the image's size."""
    sensor = (40, 60)
    meta, shape = _stretched_meta(aspect, sensor)
    grid = _image(*sensor, seed=7)
    data = stretch.stretch(grid, aspect)
    assert data.shape[:2] == shape
    raw = RawImage(data, meta)
    geometry = cfa_geometry(raw)
    assert geometry is not None and (geometry.height, geometry.width) == sensor
    assert geometry.pixel_aspect == aspect and geometry.pattern == (1, 0, 2, 1)
    scale = sample_scale(meta, reconstructed)
    expected = scale.encode(remosaic(grid, (1, 0, 2, 1)))
    np.testing.assert_array_equal(scale.encode(cfa_samples(data, geometry)), expected)
    out = write_dng(tmp_path / "x.dng", raw, reconstructed=reconstructed)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0].pages[0]
        assert page.photometric == 32803 and page.shape == sensor
        h, v = _ratios(page.tags["DefaultScale"].value)
        assert (h, v) == pytest.approx((aspect, 1.0) if aspect > 1 else (1.0, 1 / aspect))
        assert page.tags["DefaultCropSize"].value == (sensor[1], sensor[0])
        np.testing.assert_array_equal(page.asarray(), expected)
        assert max(tif.pages[0].shape[:2]) <= 256  # the preview keeps the image's aspect
        ph, pw = tif.pages[0].shape[:2]
        assert abs(pw / ph - shape[1] / shape[0]) < 0.1
    with rawpy.imread(str(out)) as back:
        np.testing.assert_array_equal(back.raw_image_visible, linear_dng_levels(scale, expected))
        assert back.sizes.pixel_aspect == pytest.approx(aspect, rel=1e-6)
    assert linear_back(out).shape[:2] == shape


def test_a_stretched_image_that_does_not_fit_its_sensor_stays_linear_raw(tmp_path: Path) -> None:
    meta, shape = _stretched_meta(DC120_ASPECT, (40, 60))
    meta.width = shape[1] + 1  # no sensor width stretches to this
    raw = RawImage(_image(shape[0], shape[1] + 1), meta)
    assert cfa_geometry(raw) is None
    meta, shape = _stretched_meta(DC120_ASPECT, (40, 60))
    raw = RawImage(_image(*shape), meta, np.zeros((40, 61), np.uint16))  # wrong mosaic
    assert cfa_geometry(raw) is None
    meta, shape = _stretched_meta(1.004, (40, 625))  # LibRaw reads it back as square
    assert shape == (40, 628) and stretch.sensor_shape(shape, 1.004) == (40, 625)
    assert cfa_geometry(RawImage(_image(*shape), meta)) is None


def test_cfa_pixel_aspect_survives_the_metadata_record_and_is_checked() -> None:
    meta, _ = _stretched_meta(DC120_ASPECT, (40, 60))
    assert RawMeta.from_dict(meta.to_dict()).cfa_pixel_aspect == DC120_ASPECT
    old = meta.to_dict()
    del old["cfa_pixel_aspect"]
    assert RawMeta.from_dict(old).cfa_pixel_aspect == 0.0
    for bad in (True, "1.5", -1.0, 1e-300, 101.0, float("nan"), float("inf"), [1.5], None):
        with pytest.raises(CorruptParameters):
            RawMeta.from_dict({**meta.to_dict(), "cfa_pixel_aspect": bad})


#: Every Kodak DC120 KDC: 843 kB uncompressed, 43-171 kB in the camera's compressed mode.
KDC_RAWS = sorted(
    p for folder in (SHARED_RAW, MORE_RAW) for p in folder.glob("dcc_kodak_dc120_*.kdc")
)


@pytest.mark.slow
@pytest.mark.parametrize("path", KDC_RAWS, ids=lambda p: p.name)
def test_a_kodak_dc120_s_dng_is_its_exact_cfa_samples_stretched_by_default_scale(
    path: Path, tmp_path: Path
) -> None:
    """The DC120's photosites are 1.53 times as wide as tall and LibRaw stretches its
    demosaic to 1301 columns by copying columns; rawio unstretches that image back to
    the 848-column sensor grid, where each photosite holds its measured value (to the
    greens' pooled balance: both greens are divided by one green multiplier), and the
    DNG stores the camera's own samples, which LibRaw reads back exactly and stretches
    to the original's size. The uncompressed KDCs' DNGs are at most twice the raw's
    size; the camera-compressed ones cannot be (docs/DNG.md "Size")."""
    raw = read_raw(path)
    meta = raw.meta
    assert not meta.cfa_aligned and meta.cfa_pixel_aspect == pytest.approx(DC120_ASPECT)
    geometry = cfa_geometry(raw)
    assert geometry is not None and (geometry.height, geometry.width) == (976, 848)
    assert raw.mosaic is not None and raw.mosaic.shape == (976, 848)
    with rawpy.imread(str(path)) as orig:
        want = orig.raw_image_visible.copy()
        colours = orig.raw_colors_visible.copy()
        white = float(orig.white_level)
    np.testing.assert_array_equal(raw.mosaic, want)  # black level 0
    # the mapping back to the grid: the demosaic's value at each photosite's colour
    photosites = cfa_samples(raw.data, geometry) * white
    error = np.abs(photosites - want)
    assert error[0::2, 1::2].max() < 0.02 and error[1::2, 0::2].max() < 0.02  # red, blue
    assert error.max() < 1.0  # greens: within a level (the pooled green balance)
    out = write_dng(tmp_path / "x.dng", raw)
    with rawpy.imread(str(out)) as back:
        np.testing.assert_array_equal(back.raw_image_visible, want)
        np.testing.assert_array_equal(back.raw_colors_visible, colours)
    wb = list(meta.as_shot_wb or [1, 1, 1])
    original, ours = render(path, wb=wb), render(out)
    assert ours.shape == original.shape == (976, 1301, 3)
    # measured 51.2-70.8 dB; 64.3-70.1 dB without the one column LibRaw's single-precision
    # reading of DefaultScale copies from the next sensor column
    assert psnr(ours, original) >= 48.0
    if path.stat().st_size > 500_000:  # uncompressed; measured 0.68-0.72 of the raw
        assert out.stat().st_size <= 2 * path.stat().st_size


@pytest.mark.slow
def test_a_kodak_dc120_reconstruction_is_mapped_back_to_its_sensor_grid(tmp_path: Path) -> None:
    """From an adapter-JPEG: the reconstruction (at the stretched size) is unstretched
    and sampled per photosite; LibRaw reads those samples (through the table) and
    renders at the original's size, close to the original."""
    path = SHARED_RAW / "dcc_kodak_dc120_p003908.kdc"
    ref = read_raw(path)
    rec = codec.decode_bytes(codec.encode_image(ref, 90).jpeg).raw
    assert rec.meta.cfa_pixel_aspect == ref.meta.cfa_pixel_aspect and rec.mosaic is None
    geometry = cfa_geometry(rec)
    assert geometry is not None and (geometry.height, geometry.width) == (976, 848)
    out = write_dng(tmp_path / "x.dng", rec, reconstructed=True)
    scale = sample_scale(rec.meta, True)
    expected = scale.encode(cfa_samples(rec.data, geometry))
    with rawpy.imread(str(out)) as back:
        np.testing.assert_array_equal(back.raw_image_visible, scale.table()[expected])
    # close to the camera's own samples: the JPEG's error only
    want = cfa_samples(ref.data, geometry)
    assert psnr(scale.decode(expected), want) >= 40.0
    original = render(path, wb=list(ref.meta.as_shot_wb or [1, 1, 1]))
    ours = render(out)
    assert ours.shape == original.shape
    assert psnr(ours, original) >= 38.0  # measured 43.0 dB (0.91 of the raw's size)
    assert out.stat().st_size <= 2 * path.stat().st_size
