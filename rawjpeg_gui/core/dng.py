"""Raw image -> DNG 1.4 file that raw developers open: a CFA mosaic where the image
maps onto a Bayer sensor, else three-sample ``LinearRaw``.

**CFA** (PhotometricInterpretation 32803, one 16-bit sample per photosite, ``BlackLevel``
0): used when :func:`cfa_geometry` finds the image on a regular 2x2 RGB Bayer sensor,
one to one (``RawMeta.cfa_aligned``) or stretched by LibRaw from non-square photosites
(``RawMeta.cfa_pixel_aspect``, :mod:`stretch`), both set by :mod:`rawio` and carried
through the adapter-JPEG. A raw file's own image stores the camera's CFA samples exactly
(``RawImage.mosaic``, raw minus black level) with ``WhiteLevel`` the camera's white minus
its lowest black level. A reconstruction stores, at each photosite, its sample of the
photosite's own colour (:func:`cfa_samples`: unstretched to the sensor grid if need be,
then :func:`remosaic`): LibRaw's demosaic in :mod:`rawio` keeps each photosite's
measured value (to the rounding of its 16-bit output), so this is the reconstruction of
the camera's samples, and the developer demosaics it as it would the original raw. The
DNG of a stretched image stores the sensor grid with ``DefaultScale``, which makes
readers stretch it back. Tiles are lossless JPEGs of two components
(pairs of photosites), as Adobe's converter writes them (:func:`_cfa_tiles`).

**LinearRaw** (PhotometricInterpretation 34892, three 16-bit samples per pixel): the
fallback for everything else (images resampled other than by LibRaw's line-copying
stretch, non-Bayer sensors, linear TIFF/PNG input, hand-made images, adapter-JPEGs
written before ``cfa_aligned``).
Samples of a raw file's own image keep the precision the camera recorded:
``round(linear * L)`` with ``L`` the raw's own range (white level minus black level,
:func:`sample_levels`; 65535 when the metadata has none) and ``WhiteLevel`` ``L``; finer
levels would only store demosaic rounding noise. Tiles are lossless JPEGs of three
components.

A reconstruction from an adapter-JPEG carries the JPEG's coding error, so on either
path it is stored on a square-root scale with fewer levels (:class:`SampleScale`) and a
``LinearizationTable`` that maps the samples back to linear 16-bit levels. The image is
stored in tiles of :data:`TILE` x :data:`TILE` pixels, each a lossless JPEG (DNG
``Compression`` 7, predictor 1), the compression Adobe's converter uses and every raw
developer reads.

Layout (the one Adobe's converter uses, read by LibRaw, RawTherapee and darktable):

- IFD0: a small 8-bit sRGB preview (``NewSubFileType`` 1), one strip holding one
  baseline JPEG (``Compression`` 7, ``PhotometricInterpretation`` 6 YCbCr,
  ``YCbCrSubSampling`` 2 2, the form DNG allows for 8-bit previews), carrying the DNG and
  camera tags (``DNGVersion``, ``UniqueCameraModel``, ``ColorMatrix1`` with
  ``CalibrationIlluminant1`` D65, ``AsShotNeutral``, ``Orientation``, Make, Model)
  and a pointer to the EXIF IFD (exposure, aperture, ISO, focal length, date, lens).
- SubIFD 0: the full-resolution CFA or ``LinearRaw`` image (``NewSubFileType`` 0) with
  ``BlackLevel``, ``WhiteLevel``, the default crop, for CFA ``CFARepeatPatternDim``,
  ``CFAPattern``, ``CFAPlaneColor``, ``CFALayout`` and, for non-square photosites,
  ``DefaultScale``, and, for a reconstruction, ``LinearizationTable``.

tifffile writes the file; it cannot write an EXIF IFD, so a placeholder LONG tag
reserves the entry in IFD0 and :func:`_link_exif_ifd` appends the EXIF directory and
turns the placeholder into the ``ExifTag`` pointer. See ``docs/DNG.md``.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from . import fullmeta, stretch
from .colour import ILLUMINANT_D65
from .display import SRGB_TO_XYZ
from .errors import OutputError
from .fileio import write_atomic_with
from .metadata import RawMeta
from .rawio import BAYER_PATTERNS, RawImage

#: The fallback ColorMatrix1 (XYZ -> camera) when the camera has none: camera RGB is linear sRGB.
FALLBACK_XYZ_TO_CAMERA = np.linalg.inv(SRGB_TO_XYZ)
#: CIE XYZ of the D65 white point (Y = 1).
D65_XYZ = np.array([0.95047, 1.0, 1.08883])
#: WhiteLevel of 16-bit data and of a LinearizationTable's values; BlackLevel is 0.
WHITE_LEVEL = 65535
#: Levels of the square-root scale a reconstruction from an adapter-JPEG is stored on
#: (:func:`sample_scale`): its rounding stays well under the JPEG's coding error.
ROOT_LEVELS = 1023
#: Fewest levels a DNG stores: demosaiced 8-bit data rounded to 255 levels would render
#: 2 dB under the 60 dB the writer promises against LibRaw's render of the original.
MIN_LEVELS = 1023
#: Side of the LinearRaw image's tiles; each tile is one lossless JPEG (Compression 7).
TILE = 256
#: Long side of the IFD0 preview in pixels.
PREVIEW_SIZE = 256
#: JPEG quality of the IFD0 preview (baseline JPEG, YCbCr 4:2:0).
PREVIEW_QUALITY = 90

_EXIF_TAG = 34665
_EXIF_PLACEHOLDER = 34664  # unassigned code sorting just before ExifTag (TIFF needs sorted tags)
_LINEAR_RAW = 34892
_CFA = 32803
_DATETIME = re.compile(r"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d")
#: ColorMatrix entries are stored over 10000 (Adobe's and LibRaw's tables have 4 decimals).
_MATRIX_DENOMINATOR = 10_000
_NEUTRAL_DENOMINATOR = 1_000_000
# TIFF field types
_SHORT, _LONG, _RATIONAL, _SRATIONAL, _ASCII, _BYTE, _UNDEFINED = 3, 4, 5, 10, 2, 1, 7


def _floats(value: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """``value`` as a finite float array of ``shape``, or ``None`` (metadata may be damaged)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == shape and np.all(np.isfinite(arr)) else None


def _positive(value: Any) -> float | None:
    """A finite positive number, or ``None``."""
    v = _floats(value, ())
    return float(v) if v is not None and v > 0 else None


def color_matrix(meta: RawMeta) -> np.ndarray:
    """The DNG ColorMatrix1 (XYZ D65 -> camera RGB) for ``meta``.

    Uses ``meta.xyz_to_camera``; when it is absent, all zero, not finite or singular
    (LibRaw has no matrix for some cameras), falls back to :data:`FALLBACK_XYZ_TO_CAMERA`,
    which declares the camera RGB to be linear sRGB, the same assumption LibRaw makes.
    """
    m = _floats(meta.xyz_to_camera, (3, 3))
    if m is not None and abs(np.linalg.det(m)) > 1e-9:
        return m
    return FALLBACK_XYZ_TO_CAMERA.copy()


def camera_neutral(meta: RawMeta, matrix: np.ndarray) -> np.ndarray:
    """AsShotNeutral: ``1 / as_shot_wb``, else the camera's response to D65 (G = 1)."""
    wb = _floats(meta.as_shot_wb, (3,))
    if wb is not None and np.all(wb > 0):
        neutral = 1.0 / wb
        return np.asarray(neutral / neutral[1])
    neutral = matrix @ D65_XYZ
    if np.all(np.isfinite(neutral)) and np.all(neutral > 0):
        return np.asarray(neutral / neutral[1])
    return np.ones(3)


def camera_to_srgb(matrix: np.ndarray) -> np.ndarray:
    """Camera RGB -> linear sRGB the way LibRaw/dcraw build it from an XYZ->camera matrix.

    Each row of ``matrix @ SRGB_TO_XYZ`` is scaled so that sRGB white gives camera
    RGB (1, 1, 1), then inverted; white-balanced camera white maps to sRGB white.
    A matrix that cannot be inverted this way gives the identity.
    """
    cam_rgb = matrix @ SRGB_TO_XYZ
    sums = cam_rgb.sum(axis=1, keepdims=True)
    try:
        out = np.linalg.inv(cam_rgb / sums) if np.all(np.abs(sums) > 1e-9) else None
    except np.linalg.LinAlgError:
        out = None
    return out if out is not None and np.all(np.isfinite(out)) else np.eye(3)


def render_preview(
    data: np.ndarray, matrix: np.ndarray, neutral: np.ndarray, size: int = PREVIEW_SIZE
) -> np.ndarray:
    """A small uint8 sRGB rendering of linear camera RGB (box-filtered, sensor orientation)."""
    h, w = data.shape[:2]
    step = max(1, -(-max(h, w) // size))
    sy, sx = min(step, h), min(step, w)
    ph, pw = h // sy, w // sx
    small = np.empty((ph, pw, 3), np.float64)
    for i in range(ph):  # one band of rows at a time: no full-size temporary
        band = data[i * sy : (i + 1) * sy, : pw * sx].astype(np.float64)
        small[i] = band.reshape(sy, pw, sx, 3).mean(axis=(0, 2))
    small = np.nan_to_num(small, nan=0.0, posinf=1.0, neginf=0.0)
    wb = 1.0 / neutral
    rgb = np.clip((small * (wb / wb.min())) @ camera_to_srgb(matrix).T, 0.0, 1.0)
    srgb = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * np.power(rgb, 1 / 2.4) - 0.055)
    return np.asarray(np.round(srgb * 255.0).astype(np.uint8))


def _rational(value: float, signed: bool, denominator: int = 0) -> tuple[int, int]:
    """``value`` as (numerator, denominator); over a fixed ``denominator`` when one is given."""
    if denominator:
        frac = Fraction(round(float(value) * denominator), denominator)
    else:
        frac = Fraction(float(value)).limit_denominator(1_000_000)
    return _fit(frac, signed)


def _fit(frac: Fraction, signed: bool) -> tuple[int, int]:
    """(numerator, denominator) within the (S)RATIONAL range, precision dropped if needed."""
    num, den = frac.numerator, frac.denominator
    while abs(num) >= 2**31 or den >= 2**31:
        num, den = (num + 1) // 2 if num > 0 else num // 2, max(1, den // 2)
    if not signed and num < 0:
        raise ValueError("negative value for an unsigned rational")
    return num, den


def _exif_rational(value: float) -> tuple[int, int]:
    """EXIF style: exposure times as 1/N (N to 0.1 when 1/N is more than 1 % off), else 1/1000."""
    if 0 < value < 1:
        n = 1.0 / value
        frac = (
            Fraction(1, round(n)) if abs(round(n) - n) < 0.01 * n else Fraction(10, round(10 * n))
        )
    else:
        frac = Fraction(float(value)).limit_denominator(1000)
    return _fit(frac, signed=False)


def _rationals(
    values: Iterable[float], signed: bool = False, denominator: int = 0
) -> tuple[int, ...]:
    return tuple(part for v in values for part in _rational(v, signed, denominator))


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("\x00", "")


def _camera_tags(meta: RawMeta, matrix: np.ndarray, neutral: np.ndarray) -> list[tuple[Any, ...]]:
    """IFD0 tags: DNG versions, camera identity, colour, orientation, EXIF placeholder."""
    camera = _ascii(meta.camera) or "rawjpeg reconstruction"
    matrix_value = _rationals(matrix.ravel(), True, _MATRIX_DENOMINATOR)
    neutral_value = _rationals(neutral, False, _NEUTRAL_DENOMINATOR)
    tags: list[tuple[Any, ...]] = [
        (274, _SHORT, 1, int(meta.orientation) if 1 <= int(meta.orientation) <= 8 else 1, True),
        (50706, _BYTE, 4, (1, 4, 0, 0), True),  # DNGVersion 1.4.0.0
        (50707, _BYTE, 4, (1, 1, 0, 0), True),  # DNGBackwardVersion 1.1.0.0
        (50708, _ASCII, 0, camera, True),  # UniqueCameraModel
        (50721, _SRATIONAL, 9, matrix_value, True),  # ColorMatrix1
        (50728, _RATIONAL, 3, neutral_value, True),  # AsShotNeutral
        (50778, _SHORT, 1, ILLUMINANT_D65, True),  # CalibrationIlluminant1
        (50970, _LONG, 1, 2, True),  # PreviewColorSpace: sRGB
        (_EXIF_PLACEHOLDER, _LONG, 1, 0, True),
    ]
    if meta.source_name:
        tags.append((50827, _ASCII, 0, _ascii(meta.source_name), True))  # OriginalRawFileName
    if meta.make:
        tags.append((271, _ASCII, 0, _ascii(meta.make), True))
    if meta.model:
        tags.append((272, _ASCII, 0, _ascii(meta.model), True))
    return tags


def _raw_tags(
    width: int, height: int, scale: SampleScale, samples: int = 3
) -> list[tuple[Any, ...]]:
    """SubIFD tags of the raw image's levels and crop (``samples`` per pixel: 3 for
    LinearRaw, 1 for CFA)."""
    tags: list[tuple[Any, ...]] = []
    if not scale.linear:
        table = tuple(int(v) for v in scale.table())
        tags.append((50712, _SHORT, len(table), table, True))  # LinearizationTable
    return tags + [
        (50714, _LONG, samples, (0,) * samples, True),  # BlackLevel, one per sample
        (50717, _LONG, samples, (scale.white_level,) * samples, True),  # WhiteLevel
        (50719, _LONG, 2, (0, 0), True),  # DefaultCropOrigin
        (50720, _LONG, 2, (width, height), True),  # DefaultCropSize
    ]


def _exif_entries(meta: RawMeta) -> list[tuple[int, int, int, bytes]]:
    """(tag, type, count, little-endian value bytes) of the EXIF IFD, sorted by tag."""

    def rational(v: float) -> bytes:
        return struct.pack("<II", *_exif_rational(v))

    def ascii_(text: str) -> tuple[int, bytes]:
        raw = _ascii(text).encode("ascii") + b"\x00"
        return len(raw), raw

    entries: list[tuple[int, int, int, bytes]] = []
    exposure, f_number, iso = (_positive(v) for v in (meta.exposure_time, meta.f_number, meta.iso))
    focal = _positive(meta.focal_length)
    if exposure:
        entries.append((33434, _RATIONAL, 1, rational(exposure)))
    if f_number:
        entries.append((33437, _RATIONAL, 1, rational(f_number)))
    if iso:
        entries.append((34855, _SHORT, 1, struct.pack("<H", max(1, min(65535, round(iso))))))
    entries.append((36864, _UNDEFINED, 4, b"0230"))  # ExifVersion 2.3
    if meta.datetime:
        entries.append((36867, _ASCII, *ascii_(meta.datetime[:19])))
    if focal:
        entries.append((37386, _RATIONAL, 1, rational(focal)))
    if meta.lens:
        entries.append((42036, _ASCII, *ascii_(meta.lens)))
    return entries


def _exif_ifd_bytes(entries: Sequence[tuple[int, int, int, bytes]], offset: int) -> bytes:
    """One little-endian IFD placed at file ``offset``; long values follow the directory."""
    directory = struct.pack("<H", len(entries))
    values = b""
    data_start = offset + 2 + 12 * len(entries) + 4
    for tag, typ, count, value in entries:
        if len(value) <= 4:
            field = value.ljust(4, b"\x00")
        else:
            field = struct.pack("<I", data_start + len(values))
            values += value + b"\x00" * (len(value) & 1)  # word-align the next value
        directory += struct.pack("<HHI", tag, typ, count) + field
    return directory + struct.pack("<I", 0) + values


def _link_exif_ifd(path: Path, meta: RawMeta) -> None:
    """Append the EXIF IFD to the tifffile-written ``path`` and point IFD0's ExifTag at it."""
    with open(path, "r+b") as fh:
        header = fh.read(8)
        if header[:4] != b"II*\x00":
            raise OutputError(f"{path.name}: the DNG writer produced an unexpected TIFF header.")
        ifd0 = struct.unpack("<I", header[4:])[0]
        fh.seek(ifd0)
        (count,) = struct.unpack("<H", fh.read(2))
        table = fh.read(12 * count)
        for i in range(count):
            if struct.unpack_from("<H", table, 12 * i)[0] == _EXIF_PLACEHOLDER:
                break
        else:
            raise OutputError(f"{path.name}: the DNG writer lost the EXIF pointer.")
        end = fh.seek(0, os.SEEK_END)
        if end & 1:
            fh.write(b"\x00")
            end += 1
        fh.write(_exif_ifd_bytes(_exif_entries(meta), end))
        fh.seek(ifd0 + 2 + 12 * i)
        fh.write(struct.pack("<HHII", _EXIF_TAG, _LONG, 1, end))
        fh.flush()
        os.fsync(fh.fileno())


def _check_image(raw: RawImage) -> np.ndarray:
    data = np.asarray(raw.data)
    if data.ndim != 3 or data.shape[2] != 3 or data.shape[0] < 1 or data.shape[1] < 1:
        raise OutputError("A DNG can only be written from a three-channel linear RGB image.")
    return data


def sample_levels(meta: RawMeta) -> int:
    """The raw's own range (white minus black level) in [:data:`MIN_LEVELS`, 65535],
    or 65535 when the metadata gives none."""
    white = _positive(meta.white_level)
    black = _floats(meta.black_levels, (4,))
    if white is None or white <= 1.0:
        return WHITE_LEVEL
    levels = round(white - (float(black.min()) if black is not None else 0.0))
    return int(min(WHITE_LEVEL, max(MIN_LEVELS, levels)))


def to_dng_samples(data: np.ndarray, levels: int = WHITE_LEVEL) -> np.ndarray:
    """Linear [0, 1] float -> uint16 DNG samples ``round(linear * levels)`` (NaN -> 0)."""
    out = _clipped(data)
    out *= np.float32(levels)
    np.rint(out, out=out)
    return out.astype(np.uint16)


def _clipped(data: np.ndarray) -> np.ndarray:
    """A float32 copy of ``data`` in [0, 1]: NaN -> 0, +inf -> 1."""
    out = np.nan_to_num(np.asarray(data, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    np.clip(out, 0.0, 1.0, out=out)
    return out


@dataclass(frozen=True)
class SampleScale:
    """How linear values in [0, 1] become the DNG's integer samples, and back.

    A sample is ``u(x)`` rounded: ``u = levels * x`` below the knee ``x0``, above it
    ``levels * x0 + root_levels * (sqrt(x) - sqrt(x0))``, the square root of the
    linear value on ``root_levels`` levels. The knee, ``sqrt(x0) = root_levels / (2 *
    levels)``, is where the root's step has grown to one camera level, so the scale is
    never finer than the camera. With ``root_levels`` 0, or a knee at or above 1, the
    scale is linear: samples are ``round(x * levels)``, ``WhiteLevel`` is ``levels``
    and the DNG needs no table. Otherwise the DNG's ``LinearizationTable`` (tag 50712,
    :meth:`table`) maps each sample to ``WhiteLevel`` :data:`WHITE_LEVEL`.

    Attributes:
        levels: linear levels of the camera (the step in the shadows is ``1 / levels``).
        root_levels: levels of the square-root part over [0, 1]; 0 for a linear scale.
    """

    levels: int
    root_levels: int = 0

    @property
    def _root_knee(self) -> float:
        """``sqrt(x0)``, 1.0 for a linear scale."""
        return min(1.0, self.root_levels / (2.0 * self.levels)) if self.root_levels else 1.0

    @property
    def linear(self) -> bool:
        """True when samples are plain ``round(x * levels)`` (no table)."""
        return self._root_knee >= 1.0

    @property
    def top(self) -> int:
        """The largest sample (the encoding of 1.0)."""
        r0 = self._root_knee
        if self.linear:
            return self.levels
        return round(self.levels * r0 * r0 + self.root_levels * (1.0 - r0))

    @property
    def _root_gain(self) -> float:
        """The root part's factor: ``root_levels`` adjusted so that 1.0 is exactly :attr:`top`."""
        r0 = self._root_knee
        return (self.top - self.levels * r0 * r0) / (1.0 - r0)

    @property
    def white_level(self) -> int:
        """The DNG's ``WhiteLevel``: ``levels``, or :data:`WHITE_LEVEL` with a table."""
        return self.levels if self.linear else WHITE_LEVEL

    @property
    def max_error(self) -> float:
        """The largest rounding error of a linear value, table rounding included."""
        if self.linear:
            return 0.5 / self.levels
        return 1.0 / self._root_gain + 0.5 / WHITE_LEVEL  # half the root's step at 1.0

    def encode(self, data: np.ndarray) -> np.ndarray:
        """Linear values (clipped to [0, 1], NaN -> 0) -> uint16 samples."""
        if self.linear:
            return to_dng_samples(data, self.levels)
        out = _clipped(data)
        r0 = self._root_knee
        shadow = out <= np.float32(r0 * r0)
        below = out * np.float32(self.levels)
        np.sqrt(out, out=out)
        out -= np.float32(r0)
        out *= np.float32(self._root_gain)
        out += np.float32(self.levels * r0 * r0)
        np.copyto(out, below, where=shadow)
        np.rint(out, out=out)
        return out.astype(np.uint16)

    def table(self) -> np.ndarray:
        """The LinearizationTable: uint16 ``WhiteLevel`` units of samples 0..:attr:`top`."""
        r0 = self._root_knee
        k = np.arange(self.top + 1, dtype=np.float64)
        knee = self.levels * r0 * r0
        root = np.square((np.maximum(k, knee) - knee) / self._root_gain + r0)
        linear = np.where(k <= knee, k / self.levels, root)
        return np.asarray(np.rint(np.clip(linear, 0.0, 1.0) * WHITE_LEVEL).astype(np.uint16))

    def decode(self, samples: np.ndarray) -> np.ndarray:
        """Samples -> the linear values a DNG reader gives, as float32 in [0, 1]."""
        if self.linear:
            return np.asarray(samples, dtype=np.float32) / np.float32(self.levels)
        return np.asarray(self.table()[samples], dtype=np.float32) / np.float32(WHITE_LEVEL)


def sample_scale(meta: RawMeta, reconstructed: bool = False) -> SampleScale:
    """The scale the DNG of an image with ``meta`` stores its samples on.

    A raw file's own image (``reconstructed`` false) keeps the camera's linear levels
    exactly (:func:`sample_levels`). A reconstruction from an adapter-JPEG carries the
    JPEG's coding error, far coarser than the camera's levels in the highlights: it is
    stored on the square-root scale with :data:`ROOT_LEVELS` levels, never finer than
    the camera's levels.
    """
    levels = sample_levels(meta)
    return SampleScale(levels, ROOT_LEVELS if reconstructed else 0)


@dataclass(frozen=True)
class CfaGeometry:
    """How an image maps onto the Bayer sensor its CFA DNG stores.

    Attributes:
        pattern: the DNG CFAPattern (0 red, 1 green, 2 blue per 2x2 position).
        height, width: the sensor grid in photosites.
        pixel_aspect: photosite width / height; other than 1 when the image is the
            sensor grid stretched by LibRaw (:mod:`stretch`), which the DNG's
            ``DefaultScale`` repeats.
    """

    pattern: tuple[int, int, int, int]
    height: int
    width: int
    pixel_aspect: float = 1.0

    @property
    def stretched(self) -> bool:
        """True when the image is the sensor grid stretched, not the grid itself."""
        return self.pixel_aspect != 1.0


def cfa_geometry(raw: RawImage) -> CfaGeometry | None:
    """The sensor ``raw`` is written onto as a CFA DNG, else ``None`` (the LinearRaw
    fallback).

    A CFA DNG needs a regular 2x2 RGB Bayer ``cfa_pattern`` and an image at the size the
    metadata records that is either the sensor grid one to one (``meta.cfa_aligned``)
    or LibRaw's stretch of it (``meta.cfa_pixel_aspect``, the grid's size then following
    from :func:`stretch.sensor_shape`; not within 0.5 % of 1, which LibRaw would read
    back from ``DefaultScale`` as square), both set by :mod:`rawio` and carried through
    the adapter-JPEG; and, if ``raw.mosaic`` is given, a mosaic of the grid's size.
    """
    meta = raw.meta
    data = np.asarray(raw.data)
    if meta.cfa_pattern not in BAYER_PATTERNS:
        return None
    if data.ndim != 3 or data.shape[:2] != (meta.height, meta.width) or min(data.shape[:2]) < 2:
        return None
    aspect = 1.0
    if meta.cfa_aligned:
        sensor: tuple[int, int] | None = (meta.height, meta.width)
    elif meta.cfa_pixel_aspect and not stretch.reads_as_square(meta.cfa_pixel_aspect):
        aspect = float(meta.cfa_pixel_aspect)
        sensor = stretch.sensor_shape((meta.height, meta.width), aspect)
    else:
        sensor = None
    if sensor is None or min(sensor) < 2:
        return None
    if raw.mosaic is not None and np.shape(raw.mosaic) != sensor:
        return None
    index = {"R": 0, "G": 1, "B": 2}
    a, b, c, d = (index[ch] for ch in meta.cfa_pattern)
    return CfaGeometry((a, b, c, d), sensor[0], sensor[1], aspect)


def cfa_samples(data: np.ndarray, geometry: CfaGeometry) -> np.ndarray:
    """H x W x 3 linear image -> float32 mosaic of the sensor grid: the image unstretched
    to the grid when it is stretched (:func:`stretch.unstretch`), then each photosite's
    sample of its own colour (:func:`remosaic`)."""
    if geometry.stretched:
        data = stretch.unstretch(data, geometry.pixel_aspect, (geometry.height, geometry.width))
    return remosaic(data, geometry.pattern)


def remosaic(data: np.ndarray, pattern: Sequence[int]) -> np.ndarray:
    """H x W x 3 -> H x W float32: each pixel's sample of the colour ``pattern`` gives it."""
    h, w = data.shape[:2]
    out = np.empty((h, w), np.float32)
    for i, colour in enumerate(pattern):
        dy, dx = divmod(i, 2)
        out[dy::2, dx::2] = data[dy::2, dx::2, colour]
    return out


def _mosaic_levels(meta: RawMeta) -> int:
    """WhiteLevel of a raw's exact CFA samples: white minus the lowest black level."""
    white = _positive(meta.white_level) or float(WHITE_LEVEL)
    black = _floats(meta.black_levels, (4,))
    levels = round(white - (float(black.min()) if black is not None else 0.0))
    return int(min(WHITE_LEVEL, max(1, levels)))


def _cfa_tiles(samples: np.ndarray, tile: int) -> Iterator[bytes]:
    """Lossless-JPEG tiles of a CFA image, row by row, the way Adobe's converter codes them.

    Each ``tile`` x ``tile`` block (edge blocks padded by repeating the last photosites of
    the same colour) is one lossless JPEG of ``tile / 2`` columns of two components, so
    predictor 1 predicts every photosite from the last one of its own colour.
    """
    import imagecodecs

    h, w = samples.shape
    ph, pw = -(-h // tile) * tile, -(-w // tile) * tile
    padded = np.pad(samples, ((0, ph - h), (0, pw - w)), mode="constant")
    if ph > h:  # repeat the last two rows / columns: same colours, smooth for the predictor
        padded[h:] = padded[h - 2 + (np.arange(ph - h) % 2)]
    if pw > w:
        padded[:, w:] = padded[:, w - 2 + (np.arange(pw - w) % 2)]
    for y in range(0, ph, tile):
        for x in range(0, pw, tile):
            block = np.ascontiguousarray(padded[y : y + tile, x : x + tile])
            yield bytes(
                imagecodecs.jpeg8_encode(
                    block.reshape(tile, tile // 2, 2), lossless=True, predictor=1, bitspersample=16
                )
            )


def _cfa_tags(geometry: CfaGeometry, scale: SampleScale) -> list[Any]:
    """SubIFD tags of the CFA image; ``DefaultScale`` for non-square photosites."""
    tags: list[Any] = [
        (33421, _SHORT, 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, _BYTE, 4, tuple(geometry.pattern), True),  # CFAPattern
        (50710, _BYTE, 3, (0, 1, 2), True),  # CFAPlaneColor
        (50711, _SHORT, 1, 1, True),  # CFALayout: rectangular
        *_raw_tags(geometry.width, geometry.height, scale, samples=1),
    ]
    if geometry.stretched:
        along = geometry.width if stretch.stretch_axis(geometry.pixel_aspect) else geometry.height
        scale_xy = stretch.default_scale(geometry.pixel_aspect, along)
        value = tuple(part for f in scale_xy for part in _fit(f, signed=False))
        tags.append((50718, _RATIONAL, 2, value, True))  # DefaultScale
    return sorted(tags, key=lambda tag: int(tag[0]))


def write_dng(
    dest: str | os.PathLike[str],
    raw: RawImage,
    inputs: Iterable[str | os.PathLike[str]] = (),
    *,
    reconstructed: bool = False,
) -> Path:
    """Write ``raw`` as a DNG 1.4 file, atomically: CFA where :func:`cfa_geometry` allows,
    else LinearRaw.

    Args:
        dest: output path (normally ending in ``.dng``).
        raw: linear camera RGB in [0, 1] (sensor orientation) and its metadata; with
            ``raw.mosaic`` (a raw file's own CFA samples) and not ``reconstructed``, the
            CFA DNG stores those samples exactly.
        inputs: files that must never be overwritten (the decode's input).
        reconstructed: ``raw`` was decoded from an adapter-JPEG; its samples are then
            stored on the square-root scale of :func:`sample_scale` instead of the
            camera's exact linear levels.

    Returns:
        ``dest`` as a :class:`~pathlib.Path`.

    Raises:
        OutputError: the image is not three-channel, the folder is missing or not
            writable, the disk is full, or ``dest`` is one of ``inputs``.
    """
    import tifffile

    data = _check_image(raw)
    meta = raw.meta
    matrix = color_matrix(meta)
    neutral = camera_neutral(meta, matrix)
    geometry = cfa_geometry(raw)
    if geometry is not None and raw.mosaic is not None and not reconstructed:
        scale = SampleScale(_mosaic_levels(meta))
        samples = np.asarray(raw.mosaic, dtype=np.uint16)
    else:
        scale = sample_scale(meta, reconstructed)
        samples = scale.encode(data if geometry is None else cfa_samples(data, geometry))
    preview = render_preview(data, matrix, neutral)
    height, width = samples.shape[:2]
    # Tiles no wider or taller than the image (multiples of 16, as TIFF requires): LibRaw
    # misreads a lossless-JPEG tile that is larger than the whole image.
    tile = min(TILE, max(16, min(height, width) // 16 * 16))

    def writer(tmp: Path) -> None:
        with tifffile.TiffWriter(tmp, byteorder="<", bigtiff=False) as tif:
            tif.write(
                preview,
                photometric="rgb",  # stored as YCbCr (PhotometricInterpretation 6)
                subsampling=(2, 2),
                compression="jpeg",
                compressionargs={"level": PREVIEW_QUALITY},
                rowsperstrip=preview.shape[0],  # one strip: one complete baseline JPEG
                subfiletype=1,
                subifds=1,
                software="rawjpeg",
                datetime=meta.datetime if _DATETIME.fullmatch(meta.datetime) else None,
                metadata=None,
                extratags=_camera_tags(meta, matrix, neutral),
            )
            if geometry is not None:
                tif.write(
                    _cfa_tiles(samples, tile),
                    shape=(height, width),
                    dtype=np.uint16,
                    bitspersample=16,  # tifffile's default for JPEG would declare 12
                    photometric=_CFA,
                    tile=(tile, tile),
                    compression=7,
                    subfiletype=0,
                    metadata=None,
                    extratags=_cfa_tags(geometry, scale),
                )
            else:
                tif.write(
                    samples,
                    photometric=_LINEAR_RAW,
                    planarconfig="contig",
                    tile=(tile, tile),
                    compression=7,
                    compressionargs={"lossless": True, "predictor": 1, "bitspersample": 16},
                    subfiletype=0,
                    metadata=None,
                    extratags=_raw_tags(width, height, scale),
                )
        _link_exif_ifd(tmp, meta)
        fullmeta.embed_in_dng(tmp, meta.full_metadata)

    return write_atomic_with(dest, writer, inputs)
