"""Pixel fingerprint: tells an untouched adapter-JPEG from one whose pixels changed.

The parameter segment's CRC covers the parameters, not the pixels: an editor that
re-encodes the image (ImageMagick's re-save, a brightness change) keeps the segment,
and the inverse operators would then turn the edited pixels into a wrong raw. The
encoder therefore stores, in the segment, statistics of a grid of up to :data:`GRID` x
:data:`GRID` cells of the image a JPEG decoder produces from the file, taken in the
JPEG's own colour space (the decoder's YCbCr output, before any conversion to RGB):

- luma mean and luma detail (mean of ``|dY/dx| + |dY/dy|``) per cell: a re-encode
  keeps the block means (DC coefficients) almost exactly but requantises the detail
  (AC coefficients), so the detail statistic is what catches a same-quality re-save;
- chroma (Cb, Cr) means per cell, with a looser tolerance: decoders upsample 4:2:0
  chroma differently (libjpeg-turbo's "fancy" upsampling or not).

Luma is the inverse DCT of the file's coefficients, not touched by chroma upsampling or
colour conversion, so every decoder with the standard integer IDCT (libjpeg-turbo's
default, which Pillow, OpenCV and ImageMagick use) gives identical luma statistics.
Decoders with a different IDCT (float, "fast") differ by about one level in a few percent
of the pixels, as much as a same-quality re-save does: such a decode reads as changed.

On decoding (:func:`match`):

- lossless rewrites (``jpegtran -optimize`` / ``-progressive``, exiftool and exiv2
  metadata edits) keep the DCT coefficients: the statistics are identical;
- a re-encode (even at the same quality) or an edit moves them beyond the tolerances;
- ``jpegtran -rotate 90/180/270`` moves the cells: the three rotations are tried. A
  half turn of an image of whole MCUs is undone exactly in the pixels. A quarter turn
  decodes with IDCT rounding differences (the integer IDCT is not symmetric under
  transposition) and jpegtran leaves partial edge blocks unrotated, so those are named
  instead: turning the file back with jpegtran restores its coefficients exactly.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .errors import CorruptParameters, NotAJpeg

#: Cells per side of the fingerprint grid the encoder writes (fewer for images smaller
#: than this): 16 x 16 x 4 statistics, about 1.5 KB compressed.
GRID = 16
#: The finest grid a reader accepts.
MAX_GRID = 32
#: Fixed-point scale of the stored luma mean, luma detail and chroma means (uint16).
SCALES = (256.0, 128.0, 256.0, 256.0)
#: (mean, max) |difference| in 8-bit levels an untouched file stays within, per statistic.
TOLERANCES = ((0.002, 0.02), (0.005, 0.05), (0.03, 0.3), (0.03, 0.3))
#: A rotation that cannot be undone exactly is named when its luma means are this close
#: (the unrotated edge strips jpegtran leaves disturb the border cells only).
NAMING_TOLERANCE = 0.75
_FORMAT = 1
_PLANES = 4


@dataclass(frozen=True)
class Distance:
    """How far decoded pixels are from a stored fingerprint (8-bit levels).

    Attributes:
        mean: mean |difference| per statistic (luma mean, luma detail, Cb, Cr).
        max: largest |difference| per statistic.
    """

    mean: tuple[float, ...]
    max: tuple[float, ...]

    @property
    def untouched(self) -> bool:
        """True when within the tolerances of an untouched file."""
        return all(
            m <= tm and x <= tx
            for m, x, (tm, tx) in zip(self.mean, self.max, TOLERANCES, strict=True)
        )


_FAR = Distance((float("inf"),) * _PLANES, (float("inf"),) * _PLANES)


@dataclass(frozen=True)
class Match:
    """Result of :func:`match`.

    Attributes:
        state: "intact" (pixels as written), "rotated" (a lossless rotation that was
            undone), "rotated-named" (a lossless rotation that cannot be undone exactly)
            or "changed".
        rotation: clockwise degrees the file was turned by after it was written (0 if none).
        turns: quarter turns counter-clockwise that put the pixels back (``np.rot90``).
        distance: distance of the best candidate.
    """

    state: str
    rotation: int
    turns: int
    distance: Distance


def decode_ycbcr(data: bytes) -> np.ndarray:
    """The decoder's YCbCr output (H x W x 3 uint8) of JPEG ``data``, no colour conversion."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("YCbCr", im.size)
            im.load()
            if im.mode != "YCbCr":
                raise NotAJpeg("The JPEG is not a three-channel YCbCr image.")
            return np.asarray(im)
    except NotAJpeg:
        raise
    except Exception as exc:
        raise NotAJpeg(f"The JPEG image data is damaged or truncated ({exc}).") from None


def _edges(n: int, cells: int) -> np.ndarray:
    return np.linspace(0, n, cells + 1).round().astype(np.int64)


def _cell_sums(plane: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    # Each band of rows summed down its columns (``np.add.reduceat`` along axis 0 is
    # many times slower on a large image), then the columns summed per cell; integers, so
    # the sums are exact in any order. An empty band is its first row, as in reduceat.
    rows = np.stack(
        [
            plane[y0 : max(y1, y0 + 1)].sum(axis=0, dtype=np.int64)
            for y0, y1 in zip(ys[:-1], ys[1:], strict=True)
        ]
    )
    return np.add.reduceat(rows, xs[:-1], axis=1, dtype=np.int64).astype(np.float64)


def statistics(ycc: np.ndarray, grid: tuple[int, int] | None = None) -> np.ndarray:
    """(4, gh, gw) fixed-point uint16 cell statistics of decoded YCbCr: luma mean,
    luma detail, Cb mean, Cr mean (see the module docstring)."""
    h, w = ycc.shape[:2]
    gh, gw = grid or (min(GRID, h), min(GRID, w))
    ys, xs = _edges(h, gh), _edges(w, gw)
    area = np.outer(np.diff(ys), np.diff(xs))
    y = ycc[..., 0].astype(np.int16)
    detail = np.zeros((h, w), np.int16)
    detail[:, 1:] = np.abs(np.diff(y, axis=1))
    detail[1:, :] += np.abs(np.diff(y, axis=0))
    planes = (ycc[..., 0], detail, ycc[..., 1], ycc[..., 2])
    out = np.empty((_PLANES, gh, gw), np.uint16)
    for i, (plane, scale) in enumerate(zip(planes, SCALES, strict=True)):
        out[i] = np.clip(np.round(_cell_sums(plane, ys, xs) / area * scale), 0, 65535)
    return out


def compute(ycc: np.ndarray) -> bytes:
    """The fingerprint record of decoded YCbCr: format u8, gh u8, gw u8,
    zlib(uint16 little-endian statistics, plane by plane, row-major)."""
    stats = statistics(ycc)
    head = struct.pack("<BBB", _FORMAT, stats.shape[1], stats.shape[2])
    return head + zlib.compress(stats.astype("<u2").tobytes(), 9)


def parse(body: bytes) -> np.ndarray:
    """The stored (4, gh, gw) uint16 statistics of a fingerprint record; validated."""
    if len(body) < 3:
        raise CorruptParameters("The pixel fingerprint record is truncated.")
    fmt, gh, gw = struct.unpack_from("<BBB", body, 0)
    if fmt != _FORMAT or not (1 <= gh <= MAX_GRID and 1 <= gw <= MAX_GRID):
        raise CorruptParameters("The pixel fingerprint record has an unknown layout.")
    size = _PLANES * gh * gw * 2
    try:
        d = zlib.decompressobj()
        raw = d.decompress(body[3:], size + 1)
    except zlib.error:
        raise CorruptParameters("The pixel fingerprint data is damaged.") from None
    if len(raw) != size or not d.eof:
        raise CorruptParameters("The pixel fingerprint data has the wrong size.")
    return np.frombuffer(raw, "<u2").reshape(_PLANES, gh, gw)


def distance(stored: np.ndarray, ycc: np.ndarray) -> Distance:
    """How far decoded YCbCr (in the written orientation) is from ``stored``."""
    d = np.abs(statistics(ycc, stored.shape[1:]).astype(np.float64) - stored)
    d /= np.asarray(SCALES)[:, None, None]
    return Distance(
        tuple(float(v) for v in d.mean(axis=(1, 2))), tuple(float(v) for v in d.max(axis=(1, 2)))
    )


def turn_back(pixels: np.ndarray, turns: int, mcu: int, height: int, width: int) -> np.ndarray:
    """``pixels`` of a file turned by jpegtran, turned back ``turns`` quarter turns
    counter-clockwise into the written ``height`` x ``width`` layout.

    jpegtran (without -trim) rotates the whole MCUs of the original's top-left corner
    and leaves partial edge blocks unrotated; turned back, that region sits at an
    offset, which is rolled back to the top-left (the partial edge strips stay wrong).
    """
    back = np.rot90(pixels, turns)
    dy, dx = height % mcu, width % mcu
    oy, ox = {1: (dy, 0), 2: (dy, dx), 3: (0, dx)}[turns]
    if oy or ox:
        back = np.roll(back, (-oy, -ox), axis=(0, 1))
    return np.ascontiguousarray(back)


def match(stored: np.ndarray, ycc: np.ndarray, height: int, width: int, mcu: int) -> Match:
    """Compare decoded YCbCr with the ``stored`` fingerprint of a ``width`` x ``height``
    image whose MCU side is ``mcu`` (8 for 4:4:4, 16 for 4:2:0).

    Only a half turn of whole MCUs is undone exactly: the integer IDCT is not symmetric
    under transposition, so a quarter turn decodes with rounding differences as large
    as a re-encode's, and partial edge blocks were not rotated at all. Those rotations
    are named (close luma means), never silently accepted.
    """
    h, w = ycc.shape[:2]
    dist = distance(stored, ycc) if (h, w) == (height, width) else _FAR
    if dist.untouched:
        return Match("intact", 0, 0, dist)
    exact = height % mcu == 0 and width % mcu == 0
    best: Match | None = None
    for turns in (1, 2, 3):
        if ((w, h) if turns % 2 else (h, w)) != (height, width):
            continue
        degrees = 90 * turns  # turning back counter-clockwise: the file was turned clockwise
        d = distance(stored, turn_back(ycc, turns, mcu, height, width))
        if turns == 2 and exact and d.untouched:
            return Match("rotated", degrees, turns, d)
        if d.mean[0] <= NAMING_TOLERANCE and (best is None or d.mean[0] < best.distance.mean[0]):
            best = Match("rotated-named", degrees, turns, d)
    return best or Match("changed", 0, 0, dist)
