"""Display transform: linear camera RGB -> 8-bit sRGB pixels a screen can show.

The flow for one image (all numpy, no Qt):

1. :func:`downsample` - area-average to at most ``max_side`` pixels a side (fit views);
2. colour - the adapter-JPEG's camera normalisation (:mod:`colour`): white balance
   with a highlight knee (saturated highlights stay white), the raw's camera -> sRGB
   matrix, the exposure ``base_gain * 2 ** ev`` and a soft clip (out-of-gamut colours
   and values above white compressed smoothly);
3. tone - the sRGB transfer curve, then 8-bit;
4. orientation - the EXIF orientation turns sensor pixels upright (:func:`orient`).

The same transform is applied to the original and the reconstruction, so what the
compare view shows is a fair picture of the coding error. :func:`heat` colours an
error map for the difference view.
"""

from __future__ import annotations

import numpy as np

from . import colour, fastops
from .colour import SRGB_TO_XYZ
from .metadata import RawMeta

__all__ = ["SRGB_TO_XYZ", "auto_gain", "camera_to_srgb", "render", "render_error", "white_balance"]
#: Largest side of the images shown in fit views.
PREVIEW_SIDE = 2048
#: Images from this many pixels up are downsampled in row bands on several threads.
_BANDED_PIXELS = 1 << 21
#: Output rows :func:`downsample` sums at a time.
_DOWNSAMPLE_CHUNK = 32
#: Anchor colours of the heat map (black -> purple -> orange -> pale yellow).
_HEAT_ANCHORS = np.array(
    [[0, 0, 4], [80, 18, 123], [183, 55, 121], [252, 137, 97], [252, 253, 191]], np.float32
)


def camera_to_srgb(meta: RawMeta | None) -> np.ndarray:
    """3x3 matrix taking white-balanced camera RGB to linear sRGB (:func:`colour.camera_to_srgb`)."""
    return colour.camera_to_srgb(meta)


def white_balance(meta: RawMeta | None) -> np.ndarray:
    """Per-channel (R, G, B) multipliers (:func:`colour.white_balance`)."""
    return colour.white_balance(meta)


def downsample(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Area-average ``image`` by a whole factor so its larger side is at most ``max_side``.

    Each output pixel is the float32 sum of its k x k block (the block's rows first,
    then its columns, each in order) divided by k * k.
    """
    if not max_side:
        return image
    h, w = image.shape[:2]
    k = -(-max(h, w) // int(max_side))
    if k <= 1:
        return image
    h2, w2 = h // k, w // k
    if h2 < 1 or w2 < 1:
        return image[:: max(1, h // max(h2, 1)), :: max(1, w // max(w2, 1))]
    out = np.empty((h2, w2) + image.shape[2:], np.float32)
    scale = np.float32(k * k)

    def rows(y0: int, y1: int) -> None:
        # Sums of strided views (the k rows of a block, then its k columns): each pass
        # streams through memory, several times faster than numpy's mean over two axes
        # of a 5-d view. Chunks of rows keep the partial sums in cache.
        for c0 in range(y0, y1, _DOWNSAMPLE_CHUNK):
            c1 = min(c0 + _DOWNSAMPLE_CHUNK, y1)
            crop = image[c0 * k : c1 * k, : w2 * k]
            acc = np.array(crop[0::k], np.float32)
            for i in range(1, k):
                acc += crop[i::k]
            o = out[c0:c1]
            np.copyto(o, acc[:, 0::k])
            for j in range(1, k):
                o += acc[:, j::k]
            o /= scale

    # Row bands on the cores; each output pixel is the same sum, in the same order,
    # whatever the bands.
    threads = fastops.default_threads() if h * w >= _BANDED_PIXELS else 1
    fastops.run_bands(h2, rows, threads, rows=-(-h2 // threads))
    return out


def orient(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn sensor-oriented pixels upright for the EXIF ``orientation`` code (1-8)."""
    o = int(orientation) if orientation else 1
    if o == 2:
        return image[:, ::-1]
    if o == 3:
        return image[::-1, ::-1]
    if o == 4:
        return image[::-1]
    if o == 5:
        return np.swapaxes(image, 0, 1)
    if o == 6:
        return np.rot90(image, -1)
    if o == 7:
        return np.rot90(image, -1)[::-1]
    if o == 8:
        return np.rot90(image, 1)
    return image


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """(width, height) after :func:`orient`."""
    return (height, width) if int(orientation or 1) in (5, 6, 7, 8) else (width, height)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve (IEC 61966-2-1) of values in [0, 1]."""
    return colour.srgb_encode(linear)


def to_srgb_linear(linear: np.ndarray, meta: RawMeta | None, gain: float = 1.0) -> np.ndarray:
    """Camera RGB -> display-referred linear sRGB in [0, 1]: the adapter-JPEG's colour chain
    (:class:`colour.ColourChain`) with the base exposure ``gain``."""
    return colour.chain_for(linear, meta, gain).forward(linear)


def auto_gain(linear: np.ndarray, meta: RawMeta | None) -> float:
    """A base gain (1-16) that brings the 99th luminance percentile near white.

    Camera raws are scene-linear and most sit far below clipping; raw converters
    apply such a base exposure too, and so does the adapter-JPEG (the same rule,
    :func:`colour.base_gain`). Computed once from the original so the original and the
    reconstruction are shown with the same gain.
    """
    return colour.base_gain(np.asarray(linear), meta)


def render(
    linear: np.ndarray,
    meta: RawMeta | None,
    exposure_ev: float = 0.0,
    max_side: int | None = PREVIEW_SIDE,
    base_gain: float = 1.0,
) -> np.ndarray:
    """Linear camera RGB (H x W x 3 float) -> upright 8-bit sRGB (contiguous uint8).

    At ``exposure_ev`` 0 and the original's :func:`auto_gain` this is what the
    adapter-JPEG's own colour chain shows (its soft clip included).
    """
    small = downsample(np.asarray(linear, np.float32), max_side)
    rgb = to_srgb_linear(small, meta, base_gain * 2.0 ** float(exposure_ev))
    out = srgb_encode(rgb)
    out = (out * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(orient(out, getattr(meta, "orientation", 1)))


def _heat_table() -> np.ndarray:
    """256 colours interpolated between the heat map's anchors."""
    t = np.linspace(0.0, len(_HEAT_ANCHORS) - 1, 256)
    i = np.minimum(t.astype(np.int32), len(_HEAT_ANCHORS) - 2)
    f = (t - i)[:, None]
    rgb = _HEAT_ANCHORS[i] * (1.0 - f) + _HEAT_ANCHORS[i + 1] * f
    return np.asarray((rgb + 0.5).astype(np.uint8))


_HEAT_TABLE = _heat_table()


def heat(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Colour a 2-D array with a perceptual heat map (0 black -> ``vmax`` pale yellow)."""
    v = np.asarray(values, np.float32)
    if vmax is None:
        vmax = float(np.percentile(v, 99.5)) if v.size else 1.0
    vmax = vmax if vmax and np.isfinite(vmax) and vmax > 0 else 1.0
    index = np.clip(v * np.float32(255.0 / vmax) + np.float32(0.5), 0.0, 255.0).astype(np.uint8)
    return np.ascontiguousarray(_HEAT_TABLE[index])


def render_error(
    original: np.ndarray,
    reconstruction: np.ndarray,
    meta: RawMeta | None,
    max_side: int | None = PREVIEW_SIDE,
    vmax: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(error map float32 H x W, heat-coloured upright uint8) of two linear images."""
    a = downsample(np.asarray(original, np.float32), max_side)
    b = downsample(np.asarray(reconstruction, np.float32), max_side)
    err = np.mean(np.abs(a - b), axis=-1)
    coloured = heat(err, vmax)
    return err, np.ascontiguousarray(orient(coloured, getattr(meta, "orientation", 1)))
