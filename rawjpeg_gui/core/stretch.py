"""LibRaw's stretch of non-square photosites to square pixels, and its inverse.

A sensor whose photosites are not square (the Kodak DC120's are about 1.53 times as
wide as tall) has a pixel aspect ``a`` (photosite width / height) other than 1. After
demosaicing, LibRaw (``LibRaw::stretch``) makes the pixels square along one axis:
with ``a`` above 1 it widens the image to ``int(columns * a + 0.5)`` columns, below 1
it heightens it to ``int(rows / a + 0.5)`` rows. Output line ``k`` comes from sensor
line ``int(r_k)``, where ``r_k`` adds up ``k`` steps of ``1 / a`` (of ``a`` for rows)
in double precision (:func:`source_lines`). LibRaw's source also blends in line
``int(r_k) + 1`` by the fraction of ``r_k``; the LibRaw that rawpy ships copies line
``int(r_k)`` whole, and that is what :func:`stretch` models: :mod:`rawio` checks on
each raw that :func:`unstretch` gives the camera's photosites back before it relies on
this (``RawMeta.cfa_pixel_aspect``).

A DNG says the same with its ``DefaultScale`` tag (:func:`default_scale`), which
LibRaw reads back into its pixel aspect.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

#: The smallest pixel aspect handled (and the inverse of the largest).
MIN_ASPECT = 0.01


def stretch_axis(aspect: float) -> int:
    """The image axis LibRaw stretches: 1 (columns) for an aspect above 1, else 0 (rows)."""
    return 1 if aspect > 1.0 else 0


def stretched_length(n: int, aspect: float) -> int:
    """The number of lines LibRaw makes of ``n`` sensor lines along :func:`stretch_axis`."""
    scale = aspect if aspect > 1.0 else 1.0 / aspect
    return int(n * scale + 0.5) & 0xFFFF  # LibRaw keeps the new size in an unsigned short


def source_lines(n: int, aspect: float) -> np.ndarray:
    """For each output line of the stretch of ``n`` sensor lines, the sensor line it copies.

    The running sum of the step is accumulated one addition at a time, as LibRaw does,
    so that lines falling just short of a whole number land where LibRaw puts them.
    """
    step = 1.0 / aspect if aspect > 1.0 else aspect
    out = np.empty(stretched_length(n, aspect), np.intp)
    position = 0.0
    for k in range(out.size):
        out[k] = min(int(position), n - 1)
        position += step
    return out


def sensor_shape(shape: tuple[int, int], aspect: float) -> tuple[int, int] | None:
    """The (rows, columns) of the sensor whose stretch is an image of ``shape``, or
    ``None`` when no sensor size stretches to it, when its stretch leaves a sensor line
    out (below a scale of 1.5 the last line can fall off the end), or when ``aspect`` is
    outside [:data:`MIN_ASPECT`, 1 / :data:`MIN_ASPECT`] or 1."""
    if not MIN_ASPECT <= aspect <= 1.0 / MIN_ASPECT or aspect == 1.0:  # NaN fails too
        return None
    axis = stretch_axis(aspect)
    scale = aspect if aspect > 1.0 else 1.0 / aspect
    guess = round(shape[axis] / scale)
    for n in (guess - 1, guess, guess + 1):
        if (
            n >= 2
            and stretched_length(n, aspect) == shape[axis]
            and source_lines(n, aspect)[-1] == n - 1
        ):
            out = list(shape)
            out[axis] = n
            return out[0], out[1]
    return None


def _line_starts(lines: np.ndarray, n: int) -> np.ndarray | None:
    """Where each of the ``n`` sensor lines' copies begin in :func:`source_lines`'
    ``lines``; ``None`` when the stretch skips a sensor line."""
    starts = np.flatnonzero(np.r_[True, lines[1:] != lines[:-1]])
    return starts if starts.size == n else None


def stretch(sensor: np.ndarray, aspect: float) -> np.ndarray:
    """A sensor-grid image stretched as LibRaw stretches it (lines copied, not blended)."""
    axis = stretch_axis(aspect)
    return np.take(sensor, source_lines(sensor.shape[axis], aspect), axis=axis)


def is_stretch(image: np.ndarray, aspect: float, sensor: tuple[int, int]) -> bool:
    """True when ``image`` is exactly :func:`stretch` of a sensor grid of ``sensor`` rows
    and columns: of the right size, every output line a copy of its sensor line."""
    axis = stretch_axis(aspect)
    try:
        lines = source_lines(sensor[axis], aspect)
    except (ValueError, OverflowError):
        return False
    if lines.size != image.shape[axis] or image.shape[1 - axis] != sensor[1 - axis]:
        return False
    starts = _line_starts(lines, sensor[axis])
    if starts is None:
        return False
    grid = np.take(image, starts, axis=axis)
    return bool(np.array_equal(np.take(grid, lines, axis=axis), image))


def unstretch(image: np.ndarray, aspect: float, sensor: tuple[int, int]) -> np.ndarray:
    """The sensor-grid image of a stretched ``image``: each sensor line is the mean of
    the output lines copied from it (one or more, since the stretch only widens), the
    least-squares inverse of :func:`stretch`, which averages out noise a reconstruction
    adds to the copies.

    Args:
        image: the stretched image, H x W or H x W x C.
        aspect: the pixel aspect it was stretched by.
        sensor: (rows, columns) of the sensor grid (:func:`sensor_shape`).

    Returns:
        float32 image of ``sensor`` rows and columns.
    """
    axis = stretch_axis(aspect)
    lines = source_lines(sensor[axis], aspect)
    if lines.size != image.shape[axis]:
        raise ValueError("the image is not the stretch of a sensor of that size")
    starts = _line_starts(lines, sensor[axis])
    if starts is None:
        raise ValueError("the stretch of a sensor of that size skips sensor lines")
    counts = np.diff(np.r_[starts, lines.size]).astype(np.float32)
    sums = np.add.reduceat(np.asarray(image, np.float32), starts, axis=axis)
    shape = [1] * sums.ndim
    shape[axis] = counts.size
    return np.asarray(sums / counts.reshape(shape), np.float32)


def reads_as_square(aspect: float) -> bool:
    """True when LibRaw reads this pixel aspect from a DNG ``DefaultScale`` as 1: within
    0.5 % of it."""
    return 0.995 < aspect < 1.005


def read_default_scale(horizontal: float, vertical: float) -> float:
    """The pixel aspect LibRaw reads from a DNG ``DefaultScale``: the quotient of the two
    values in single precision (1.0 where it :func:`reads_as_square`)."""
    aspect = float(np.float32(horizontal) / np.float32(vertical))
    return 1.0 if reads_as_square(aspect) else aspect


def default_scale(aspect: float, n: int) -> tuple[Fraction, Fraction]:
    """The DNG ``DefaultScale`` (horizontal, vertical) for ``n`` sensor lines along
    :func:`stretch_axis` with this pixel aspect.

    It widens (``aspect`` above 1) or heightens (below 1) the image, with 1 on the
    other axis. LibRaw reads the tag in single precision (:func:`read_default_scale`),
    and a pixel aspect off in the last bits can move a line whose position falls on a
    whole number to its neighbour; so the scale is, of the single-precision values
    within a few units in the last place of ``aspect`` (or ``1 / aspect``), the one
    whose stretch copies the fewest lines from another sensor line than ``aspect``
    does (the nearest of those), stored exactly.
    """
    widen = aspect > 1.0
    target = aspect if widen else 1.0 / aspect
    want = source_lines(n, aspect)
    nearest = np.float32(target)
    candidates = [nearest]
    up = down = nearest
    for _ in range(8):
        up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(0))
        candidates += [down, up]

    def moved(value: np.float32) -> int:
        h, v = (float(value), 1.0) if widen else (1.0, float(value))
        lines = source_lines(n, read_default_scale(h, v))
        return int(np.count_nonzero(lines != want)) if lines.size == want.size else n + 1

    chosen = min(candidates, key=moved)  # min keeps the first, i.e. the nearest, of ties
    exact = Fraction(float(chosen))
    return (exact, Fraction(1)) if widen else (Fraction(1), exact)
