"""Raw input: a camera raw (or 16-bit linear TIFF/PNG) becomes a :class:`RawImage`.

Pipeline for camera raws (LibRaw through rawpy): per-channel black level
subtracted, scaled by the white level, clipped to [0, 1], demosaiced (AHD) to
three-channel linear camera RGB, float32, full resolution. The demosaic runs on
white-balanced data (as LibRaw's own pipeline does; AHD assumes balanced channels)
and the balance is divided out again, so the output carries no white balance, no
colour matrix, no gamma, no auto-brightness and no rotation: orientation stays
metadata. Non-square sensor pixels (some old Kodaks) are stretched square by LibRaw
(:mod:`stretch`). Where the image is a regular 2x2 RGB Bayer sensor's grid, one to one
or stretched, the camera's own CFA samples are kept too (:attr:`RawImage.mosaic`,
:func:`_bayer_mosaic`): the DNG of a raw stores them exactly.
Our own LinearRaw DNGs (already demosaiced) are read back as they are; our CFA DNGs
are demosaiced like any raw.

Bounded work on any input: only regular files are opened (never a FIFO or a
device), the sizes LibRaw reads from the header are checked against a pixel cap and
against the file's size before any pixel is unpacked, and what LibRaw prints about
damaged data ("Unexpected end of file", libjpeg's "Premature end of JPEG file") is
captured, and a TIFF-based raw whose strips or tiles reach past the end of the file
(:mod:`tiffcheck`) is refused: such a file is truncated or damaged and is not
decoded with invented pixels. LibRaw unpacks into zero-filled heap blocks
(:mod:`heapguard`), so samples a damaged file leaves unwritten are zeros in every
process, never an earlier image's, and a raw of which nothing was decoded is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from . import fastops, stretch
from .capture import captured_stderr
from .display import SRGB_TO_XYZ
from .errors import RawDecodeError, UnsupportedFileError
from .fileio import check_input_file, read_input
from .heapguard import zeroed_heap
from .metadata import RawMeta, read_exif_fields
from .rawcheck import (
    MAX_PIXELS,
    check_declared_data,
    check_header_sizes,
    check_not_blank,
    judge_libraw_output,
    libraw_error,
    tiff_data_end,
    tiff_images,
)

#: Camera raw formats handed to LibRaw (lower-case suffixes).
RAW_EXTENSIONS = frozenset(
    ".dng .arw .srf .sr2 .cr2 .cr3 .crw .nef .nrw .raf .orf .rw2 .raw .pef .kdc .dcr .srw "
    ".mrw .mos .3fr .fff .iiq .x3f .erf .mef .rwl .k25 .dc2".split()
)
#: Linear 16-bit images accepted as raw input.
LINEAR_EXTENSIONS = frozenset({".tif", ".tiff", ".png"})
#: LibRaw flip code -> EXIF orientation.
_FLIP_TO_EXIF = {0: 1, 3: 3, 5: 8, 6: 6}


@dataclass
class RawImage:
    """A linear camera-RGB image with its metadata.

    Attributes:
        data: float32 H x W x 3 in [0, 1], linear camera RGB, sensor orientation.
        meta: camera and file metadata (see :class:`RawMeta`).
        mosaic: the camera's CFA samples when ``meta.cfa_aligned`` or
            ``meta.cfa_pixel_aspect``: uint16, one per photosite of the sensor grid (H x W,
            or the unstretched size), each photosite's raw value minus its colour's
            black level, clipped to [0, white level minus the lowest black level];
            ``None`` otherwise (images decoded from an adapter-JPEG, linear TIFF/PNG
            input, non-Bayer sensors).
    """

    data: np.ndarray
    meta: RawMeta
    mosaic: np.ndarray | None = None

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.data.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.data.shape[1])


def is_raw_path(path: str | os.PathLike[str]) -> bool:
    """True when the suffix names a camera raw format rawjpeg reads."""
    return Path(path).suffix.lower() in RAW_EXTENSIONS


def read_raw(path: str | os.PathLike[str]) -> RawImage:
    """Read a camera raw or a 16-bit linear TIFF/PNG into a :class:`RawImage`.

    Raises:
        UnsupportedFileError: the suffix is not a raw or linear image format.
        RawDecodeError: the file is missing, corrupt, truncated or not decodable.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    check_input_file(p)
    if suffix in LINEAR_EXTENSIONS:
        return _read_linear(p)
    if suffix not in RAW_EXTENSIONS:
        raise UnsupportedFileError(f"{p.name} is not a camera raw file rawjpeg can read.")
    return _read_camera_raw(p)


def _open_raw(p: Path):  # type: ignore[no-untyped-def]
    """A rawpy object with the header checked (:func:`check_header_sizes`) and then unpacked
    into zero-filled memory (:func:`heapguard.zeroed_heap`)."""
    import rawpy

    size = os.stat(p).st_size
    end = tiff_data_end(p)
    if end is not None and end > size:
        raise RawDecodeError(f"{p.name} is truncated: the file ends before its image data does.")
    raw = rawpy.RawPy()
    try:
        raw.open_file(str(p))
        check_header_sizes(raw, p, size)
        check_declared_data(raw, p, tiff_images(p) if end is not None else [])
        with zeroed_heap():
            raw.unpack()
        check_not_blank(raw, p)
    except BaseException:
        raw.close()
        raise
    return raw


def _read_camera_raw(p: Path) -> RawImage:
    try:
        with captured_stderr() as log, np.errstate(all="ignore"):
            raw = _open_raw(p)
            try:
                mosaic = _bayer_mosaic(raw)  # before postprocess, which alters the levels
                aspect = float(raw.sizes.pixel_aspect)
                rgb, meta, gains = _develop(raw, p)
                if mosaic is not None and meta.cfa_pattern in BAYER_PATTERNS:
                    _place_mosaic(meta, mosaic.shape, rgb, aspect)
                if not (meta.cfa_aligned or meta.cfa_pixel_aspect):
                    mosaic = None
            finally:
                raw.close()
    except RawDecodeError:
        raise
    except Exception as exc:  # rawpy raises many LibRaw error types
        judge_libraw_output(p, log.text)
        raise libraw_error(p, exc) from None
    judge_libraw_output(p, log.text)
    return RawImage(
        _scaled(rgb, np.float32(1.0 / 65535.0) / gains.astype(np.float32)), meta, mosaic
    )


def _place_mosaic(meta: RawMeta, sensor: tuple[int, ...], rgb: np.ndarray, aspect: float) -> None:
    """Record how the demosaiced ``rgb`` maps onto the Bayer ``sensor`` grid: one to one
    (``cfa_aligned``), or stretched by LibRaw for non-square photosites
    (``cfa_pixel_aspect``, only when ``rgb`` is exactly the sensor grid's lines copied
    as :func:`stretch.stretch` models it); neither when it is resampled otherwise."""
    if tuple(sensor) == rgb.shape[:2]:
        meta.cfa_aligned = True
    elif len(sensor) == 2 and stretch.sensor_shape(rgb.shape[:2], aspect) == tuple(sensor):
        if stretch.is_stretch(rgb, aspect, (sensor[0], sensor[1])):
            meta.cfa_pixel_aspect = aspect


def _scaled(rgb: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``min(rgb * scale, 1)`` as float32, in row bands on the cores: per band one pass to
    scale (uint16 * float32 -> float32, no intermediate copy) and one to clip, while the
    band is still in cache."""
    data = np.empty(rgb.shape, np.float32)

    def band(y0: int, y1: int) -> None:
        np.multiply(rgb[y0:y1], scale, out=data[y0:y1])
        np.minimum(data[y0:y1], np.float32(1.0), out=data[y0:y1])

    rows = max(1, (1 << 19) // max(1, rgb[0].size if rgb.ndim else 1))  # about 2 MB a band
    fastops.run_bands(rgb.shape[0], band, rows=rows)
    return data


#: 2x2 layouts of a regular RGB Bayer CFA (``RawMeta.cfa_pattern``).
BAYER_PATTERNS = frozenset({"RGGB", "GRBG", "GBRG", "BGGR"})


def _bayer_mosaic(raw) -> np.ndarray | None:  # type: ignore[no-untyped-def]
    """The camera's CFA samples, black subtracted, when the sensor is a plain Bayer one.

    That is: a flat three-colour sensor whose colours repeat one 2x2 block with one red,
    one blue and two greens from the top-left visible photosite (its photosites square
    or not). Samples are ``clip(raw - black[colour], 0, white - min(black))`` as uint16:
    what LibRaw scales and demosaics (the demosaiced image keeps them at each
    photosite's own colour). Read before ``postprocess``, which changes LibRaw's black
    levels. The caller keeps them only when the demosaiced image is the sensor grid,
    as it is or stretched by LibRaw (:func:`_place_mosaic`).
    """
    import rawpy

    if raw.raw_type != rawpy.RawType.Flat or raw.num_colors != 3:
        return None
    pattern = np.asarray(raw.raw_pattern) if raw.raw_pattern is not None else np.empty(0)
    desc = raw.color_desc.decode("ascii", "replace")
    if (
        pattern.shape != (2, 2)
        or "".join(desc[int(i)] for i in pattern.ravel()) not in BAYER_PATTERNS
    ):
        return None
    img = np.asarray(raw.raw_image_visible)
    colours = np.asarray(raw.raw_colors_visible)
    if img.ndim != 2 or colours.shape != img.shape:
        return None
    h, w = img.shape
    if not np.array_equal(colours, np.tile(pattern, (-(-h // 2), -(-w // 2)))[:h, :w]):
        return None
    black = np.asarray(raw.black_level_per_channel, dtype=np.int64)
    if black.shape != (4,):
        return None
    top = int(round(float(raw.white_level))) - int(black.min())
    if not 0 < top <= 65535:
        return None
    out = np.empty(img.shape, np.uint16)
    for dy in (0, 1):
        for dx in (0, 1):
            site = img[dy::2, dx::2].astype(np.int64) - black[int(pattern[dy, dx])]
            out[dy::2, dx::2] = np.clip(site, 0, top)
    return out


def _develop(raw, p: Path) -> tuple[np.ndarray, RawMeta, np.ndarray]:  # type: ignore[no-untyped-def]
    """Demosaic an unpacked raw to 16-bit camera RGB; its metadata and the WB gains used."""
    import rawpy

    flat = raw.raw_type == rawpy.RawType.Flat
    if raw.num_colors != 3 or not (flat or raw.raw_type == rawpy.RawType.Stack):
        raise RawDecodeError(f"{p.name} uses a sensor layout rawjpeg does not support.")
    flip = int(raw.sizes.flip)  # postprocess(user_flip=0) resets it
    wb = _camera_wb(raw)
    gains = np.ones(3) if wb is None else np.asarray(wb) / max(wb)
    demosaic_wb = [float(gains[0]), float(gains[1]), float(gains[2]), float(gains[1])]
    wb_source = "" if wb is None else "camera"
    if wb is None:
        # No usable as-shot balance: LibRaw's camera-WB rendering falls back to its
        # automatic balance, so ours is the same estimate (and the DNG renders alike).
        auto = _libraw_auto_wb(raw)
        if auto is not None:
            wb, per_colour = auto
            wb_source = "auto"
            top = max(max(wb), max(per_colour))
            gains = np.asarray(wb) / top
            demosaic_wb = [float(v) / top for v in per_colour]
    rgb = raw.postprocess(
        demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD,
        output_color=rawpy.ColorSpace.raw,
        output_bps=16,
        gamma=(1.0, 1.0),
        no_auto_bright=True,
        use_camera_wb=False,
        use_auto_wb=False,
        user_wb=demosaic_wb,
        user_flip=0,
        adjust_maximum_thr=0.0,
        highlight_mode=rawpy.HighlightMode.Ignore,
    )
    meta = _camera_meta(raw, p, rgb.shape, wb, flip)
    meta.wb_source = wb_source
    if meta.xyz_to_camera is None:
        meta.xyz_to_camera = _fitted_xyz_to_camera(raw)
    return rgb, meta, gains


def _camera_wb(raw) -> list[float] | None:  # type: ignore[no-untyped-def]
    """As-shot white balance (R, G, B multipliers, G = 1), or ``None`` when unusable."""
    wb = np.asarray(raw.camera_whitebalance, dtype=np.float64)[:3]
    if np.all(np.isfinite(wb)) and np.all(wb > 0):
        return cast(list[Any], (wb / wb[1]).tolist())
    return None


def _libraw_auto_wb(raw) -> tuple[list[float], list[float]] | None:  # type: ignore[no-untyped-def]
    """LibRaw's automatic white balance (dcraw's), computed from the mosaic.

    The mean of each CFA colour over the 8x8 blocks of the visible area that hold no
    pixel within 25 codes of the white level (black subtracted, negatives as 0); the
    multipliers are the inverse means. LibRaw renders a raw whose camera balance is
    unusable (Canon D30, Kodak DC120) with exactly these multipliers, so a DNG carrying
    them renders alike.

    Returns:
        ``(rgb, per_colour)``: R, G, B multipliers with both greens pooled (G = 1), and
        one multiplier per LibRaw colour index (``color_desc`` order, for ``user_wb``,
        two greens apart) on the same scale; ``None`` when a colour has no signal.
    """
    img = np.asarray(raw.raw_image_visible)
    colours = np.asarray(raw.raw_colors_visible)
    desc = raw.color_desc.decode("ascii", "replace")
    if img.ndim != 2 or img.shape != colours.shape or img.size == 0:
        return None
    black = np.asarray(raw.black_level_per_channel, dtype=np.float64)
    h, w = img.shape
    hb, wb_ = -(-h // 8), -(-w // 8)
    hot = np.zeros((hb * 8, wb_ * 8), dtype=bool)
    hot[:h, :w] = img > float(raw.white_level) - 25
    bad_block = hot.reshape(hb, 8, wb_, 8).any(axis=(1, 3))
    keep = ~np.repeat(np.repeat(bad_block, 8, axis=0), 8, axis=1)[:h, :w]
    if not keep.any():
        return None
    c = colours[keep].astype(np.intp)
    val = np.maximum(img[keep].astype(np.float64) - black[c], 0.0)
    sums = np.bincount(c, weights=val, minlength=4)
    counts = np.bincount(c, minlength=4).astype(np.float64)
    pooled = {"R": [0.0, 0.0], "G": [0.0, 0.0], "B": [0.0, 0.0]}
    for i, name in enumerate(desc[:4]):
        if name in pooled:
            pooled[name][0] += sums[i]
            pooled[name][1] += counts[i]
    means = np.array([pooled[k][0] / pooled[k][1] if pooled[k][1] else 0.0 for k in "RGB"])
    if not np.all(means > 0):
        return None
    # A colour index the CFA does not use (3 on a three-colour sensor) gets G's 1.
    per_colour = [float(means[1] * counts[i] / sums[i]) if sums[i] > 0 else 1.0 for i in range(4)]
    return (means[1] / means).tolist(), per_colour


def _fitted_xyz_to_camera(raw) -> list[list[float]] | None:  # type: ignore[no-untyped-def]
    """The colour matrix LibRaw uses but does not expose (e.g. a KDC's own ROMM matrix).

    Two half-size renders of the same data, camera RGB and linear sRGB, give LibRaw's
    camera -> sRGB matrix by least squares over the pixels neither render clipped; when
    LibRaw has no matrix at all the fit is the identity (camera RGB taken as sRGB).
    """
    import rawpy

    common = dict(
        half_size=True,
        output_bps=16,
        gamma=(1.0, 1.0),
        no_auto_bright=True,
        use_camera_wb=False,
        use_auto_wb=False,
        user_wb=[1.0, 1.0, 1.0, 1.0],
        user_flip=0,
        adjust_maximum_thr=0.0,
        highlight_mode=rawpy.HighlightMode.Ignore,
    )
    cam = raw.postprocess(output_color=rawpy.ColorSpace.raw, **common).reshape(-1, 3)
    srgb = raw.postprocess(output_color=rawpy.ColorSpace.sRGB, **common).reshape(-1, 3)
    ok = (
        (cam.min(axis=1) > 300)
        & (srgb.min(axis=1) > 0)
        & (np.maximum(cam.max(axis=1), srgb.max(axis=1)) < 65535)
    )
    if ok.sum() < 100:
        return None
    x = cam[ok].astype(np.float64)
    y = srgb[ok].astype(np.float64)
    rgb_cam = np.linalg.lstsq(x, y, rcond=None)[0].T  # y ~ x @ rgb_cam.T
    if not np.all(np.isfinite(rgb_cam)) or abs(np.linalg.det(rgb_cam)) < 1e-6:
        return None
    return cast(list[Any], (np.linalg.inv(rgb_cam) @ np.linalg.inv(SRGB_TO_XYZ)).tolist())


def _finite_or_none(values: np.ndarray) -> list[list[float]] | None:
    """A 3x3 matrix as nested lists, or ``None`` when it is empty or not finite."""
    values = np.asarray(values, dtype=np.float64)
    ok = np.all(np.isfinite(values)) and np.any(values != 0)
    return [[float(v) for v in row] for row in values] if ok else None


def _xyz_to_camera(raw) -> list[list[float]] | None:  # type: ignore[no-untyped-def]
    """The XYZ(D65) -> camera matrix: LibRaw's table, else derived from a DNG's own matrix."""
    xyz = _finite_or_none(np.asarray(raw.rgb_xyz_matrix, dtype=np.float64)[:3])
    if xyz is not None:
        return xyz
    rgb_cam = np.asarray(raw.color_matrix, dtype=np.float64)[:3, :3]
    if np.all(np.isfinite(rgb_cam)) and abs(np.linalg.det(rgb_cam)) > 1e-6:
        # rgb_cam maps camera RGB to linear sRGB, so XYZ -> camera = rgb_cam^-1 . XYZ -> sRGB.
        m = np.linalg.inv(rgb_cam) @ np.linalg.inv(SRGB_TO_XYZ)
        # LibRaw normalised the rows (camera white = sRGB white) and kept the factors as its
        # daylight multipliers: undo that, so the rows describe the camera's own channels
        # (the DNG ColorMatrix's meaning; RawTherapee renders a blue cast otherwise).
        pre = np.asarray(raw.daylight_whitebalance, dtype=np.float64)[:3]
        if np.all(np.isfinite(pre)) and np.all(pre > 0):
            m = m / pre[:, None]
        return cast(list[Any], m.tolist())
    return None


def _camera_meta(
    raw: Any, p: Path, shape: tuple[int, ...], wb: list[float] | None, flip: int
) -> RawMeta:
    desc = raw.color_desc.decode("ascii", "replace")
    pattern = raw.raw_pattern
    cfa = "".join(desc[int(i)] for i in pattern[:2, :2].ravel()) if pattern is not None else ""
    meta = RawMeta(
        source_name=p.name,
        source_size=p.stat().st_size,
        width=int(shape[1]),
        height=int(shape[0]),
        cfa_pattern=cfa,
        black_levels=[float(v) for v in raw.black_level_per_channel],
        white_level=float(raw.white_level),
        as_shot_wb=wb,
        xyz_to_camera=_xyz_to_camera(raw),
        orientation=_FLIP_TO_EXIF.get(flip, 1),
    )
    read_exif_fields(p, meta, raw.other)
    return meta


def _check_linear_shape(p: Path, shape: tuple[int, ...], file_size: int) -> None:
    """Refuse a declared linear image beyond the cap or beyond what zlib could pack in the file."""
    if len(shape) < 2 or any(int(v) <= 0 for v in shape):
        raise RawDecodeError(f"{p.name} declares an empty image.")
    pixels = int(shape[0]) * int(shape[1])
    if pixels > MAX_PIXELS:
        raise RawDecodeError(
            f"{p.name} declares an image beyond the {MAX_PIXELS // 1_000_000} megapixels rawjpeg decodes."
        )
    if file_size * 1100 < pixels * 6:  # deflate packs at most about 1030:1
        raise RawDecodeError(
            f"{p.name} declares an image larger than the file can hold: it is truncated or damaged."
        )


def _read_linear(p: Path) -> RawImage:
    try:
        if p.suffix.lower() == ".png":
            import imagecodecs  # Pillow reduces 16-bit RGB PNG to 8 bits

            blob = read_input(p)
            if blob[:8] == b"\x89PNG\r\n\x1a\n" and len(blob) >= 24:
                _check_linear_shape(
                    p,
                    (int.from_bytes(blob[20:24], "big"), int.from_bytes(blob[16:20], "big")),
                    len(blob),
                )
            with np.errstate(all="ignore"):
                arr = np.asarray(imagecodecs.png_decode(blob))
        else:
            import tifffile

            with tifffile.TiffFile(p) as tif:
                page = tif.pages.first
                _check_linear_shape(p, tuple(page.shape), os.stat(p).st_size)
                arr = page.asarray()
    except RawDecodeError:
        raise
    except Exception:
        raise RawDecodeError(
            f"{p.name} could not be read as a 16-bit image: it is damaged or of an unknown kind."
        ) from None
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise RawDecodeError(f"{p.name} is not a three-channel RGB image.")
    if arr.dtype == np.uint16:
        data = arr.astype(np.float32) / np.float32(65535.0)
    elif arr.dtype.kind == "f":
        data = np.clip(np.nan_to_num(arr.astype(np.float32)), 0.0, 1.0)
    else:
        raise RawDecodeError(
            f"{p.name} is {arr.dtype} data; a linear image must be 16-bit or float."
        )
    meta = RawMeta(
        source_name=p.name,
        source_size=p.stat().st_size,
        width=int(data.shape[1]),
        height=int(data.shape[0]),
        white_level=65535.0,
        black_levels=[0.0, 0.0, 0.0, 0.0],
    )
    return RawImage(np.ascontiguousarray(data), meta)


def read_embedded_preview(path: str | os.PathLike[str]) -> np.ndarray | None:
    """The camera's embedded JPEG/bitmap preview as uint8 H x W x 3, or ``None`` if absent."""
    import io

    import rawpy
    from PIL import Image

    try:
        check_input_file(path)
        with captured_stderr(), rawpy.imread(str(path)) as raw, zeroed_heap():
            thumb = raw.extract_thumb()
    except Exception:
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            with Image.open(io.BytesIO(bytes(thumb.data))) as im:
                return np.asarray(im.convert("RGB"))
        arr = np.asarray(thumb.data)
        return arr if arr.ndim == 3 and arr.shape[2] == 3 and arr.size > 300 else None
    except Exception:
        return None
