"""Fast paths of the operators for whole photographs, equal to :mod:`operators` in result.

:mod:`rawjpeg_gui.core.operators` is the readable specification. This module
computes the same functions for 8-bit JPEG pixels in row bands (multiples of 8
rows, so DCT blocks stay on the JPEG grid) on a small thread pool; numpy releases
the GIL in these loops, and bands keep the temporaries in cache and the peak memory
near the size of the output instead of several full-size float copies. Each thread
allocates its band buffers once per call and reuses them for every band it takes:
fresh multi-megabyte temporaries per band would cost page faults (the allocator hands
such blocks back to the system), as much as the arithmetic itself.

* Forward: the LUT is applied as a 65536-entry table on the 16-bit quantised input
  (raw data is 16-bit to begin with), then DCT scale, gamma and rounding to uint8.
* Inverse: ``y ** (1/g)`` is ``exp(log(y) / g)`` with ``log(y)`` from a 256-entry
  table of the 8-bit pixels; the LUT inverse is a dense 65536-entry table with
  linear interpolation (exact between knots).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .operators import apply_lut, invert_lut, scale_dct
from .params import AdapterParams

#: Rows per band (a multiple of 8: DCT blocks never straddle two bands).
BAND_ROWS = 64
_TABLE = 65536


@dataclass(frozen=True)
class Lattice:
    """Where the pixels of a sub-image sit in a larger image (the encoder's probe).

    The sub-image is ``image[np.ix_(rows, cols)]`` of an image ``height x width``; the
    spatial gamma map is evaluated where its pixels sit. Runs of rows and columns should
    start and end on multiples of 8 (16 for 4:2:0), so DCT blocks stay whole.
    """

    height: int
    rows: np.ndarray
    width: int
    cols: np.ndarray


def default_threads() -> int:
    """Threads for the operators: ``$RAWJPEG_THREADS`` or the number of CPU cores (max 8)."""
    env = os.environ.get("RAWJPEG_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, os.cpu_count() or 1))


def _axis_weights(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    i0 = np.floor(src).astype(np.intp)
    return i0, np.minimum(i0 + 1, n_in - 1), (src - i0).astype(np.float32)


class _TableCache:
    """The last few dense LUT tables, by the LUT's bytes (read-only arrays).

    Building a 65536-entry table costs a few milliseconds, which is most of an operator
    call on the encoder's small probe; the search codes one LUT several times (the gamma
    map's sizes), and the file is then coded and decoded with it again.
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._items: dict[tuple[str, bytes], tuple[np.ndarray, ...]] = {}
        self._lock = threading.Lock()

    def get(
        self, kind: str, lut: np.ndarray, build: Callable[[], tuple[np.ndarray, ...]]
    ) -> tuple[np.ndarray, ...]:
        key = (
            kind,
            np.ascontiguousarray(lut, np.float32).tobytes() + bytes(str(lut.shape), "ascii"),
        )
        with self._lock:
            hit = self._items.pop(key, None)
            if hit is not None:
                self._items[key] = hit  # most recent last
                return hit
        value = build()
        for a in value:
            a.flags.writeable = False
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.pop(next(iter(self._items)))
        return value


_TABLES = _TableCache()


def _forward_table(lut: np.ndarray) -> np.ndarray:
    """(3, 65536): the LUT at every 16-bit input value."""

    def build() -> tuple[np.ndarray, ...]:
        grid = np.linspace(0.0, 1.0, _TABLE, dtype=np.float32)[None, :, None]
        return (apply_lut(np.repeat(grid, 3, axis=2), lut)[0].T.copy(),)

    return _TABLES.get("forward", lut, build)[0]


def _inverse_table(lut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(3, 65537) inverse LUT at every 16-bit output value, and its slope to the next."""

    def build() -> tuple[np.ndarray, ...]:
        ys = np.linspace(0.0, 1.0, _TABLE)
        knots = np.linspace(0.0, 1.0, lut.shape[1])
        inv = np.stack([np.interp(ys, lut[c].astype(np.float64), knots) for c in range(3)])
        # One extra entry, so index _TABLE - 1 (the value 1.0) has a right neighbour.
        inv = np.concatenate([inv, inv[:, -1:]], axis=1).astype(np.float32)
        return inv, np.diff(inv, axis=1, append=inv[:, -1:])

    inv, slope = _TABLES.get("inverse", lut, build)
    return inv, slope


class _GammaRows:
    """Rows of the bilinearly upsampled gamma map, computed band by band."""

    def __init__(
        self, grid: np.ndarray, height: int, width: int, at: Lattice | None = None
    ) -> None:
        g = grid.astype(np.float32)
        if at is None:
            c0, c1, fc = _axis_weights(width, g.shape[1])
            self._r0, self._r1, self._fr = _axis_weights(height, g.shape[0])
        else:  # a sub-image: the weights where its rows and columns sit
            c0, c1, fc = (a[at.cols] for a in _axis_weights(at.width, g.shape[1]))
            self._r0, self._r1, self._fr = (
                a[at.rows] for a in _axis_weights(at.height, g.shape[0])
            )
        # Columns first (small: h x width), rows per band later.
        self._cols = g[:, c0] * (1.0 - fc)[None, :] + g[:, c1] * fc[None, :]

    def band(
        self, a: int, b: int, out: np.ndarray | None = None, tmp: np.ndarray | None = None
    ) -> np.ndarray:
        """Rows ``a:b`` of the upsampled map, written into ``out`` (with ``tmp`` as scratch) if given."""
        n, w = b - a, self._cols.shape[1]
        out = np.empty((n, w), np.float32) if out is None else out
        tmp = np.empty((n, w), np.float32) if tmp is None else tmp
        np.take(self._cols, self._r0[a:b], axis=0, out=out, mode="clip")
        np.take(self._cols, self._r1[a:b], axis=0, out=tmp, mode="clip")
        tmp -= out
        tmp *= self._fr[a:b, None]
        out += tmp  # c0 + (c1 - c0) * fr
        return out


def _band_buffers(
    specs: dict[str, tuple[tuple[int, ...], type]],
) -> Callable[[int], dict[str, np.ndarray]]:
    """Per-thread band buffers: ``get(n)`` returns each buffer cut to ``n`` rows.

    The buffers belong to the calling thread and live as long as the returned function
    (one operator call), so each thread allocates them once, not once per band.
    """
    local = threading.local()

    def get(n: int) -> dict[str, np.ndarray]:
        bufs = getattr(local, "bufs", None)
        if bufs is None:
            bufs = local.bufs = {k: np.empty(shape, dtype) for k, (shape, dtype) in specs.items()}
        return {k: v[:n] for k, v in bufs.items()}

    return get


def run_bands(
    height: int,
    work: Callable[[int, int], None],
    threads: int | None = None,
    rows: int = BAND_ROWS,
) -> None:
    """``work(a, b)`` for each band of ``rows`` rows of ``height``, on ``threads`` threads
    (default :func:`default_threads`; numpy's arithmetic releases the GIL)."""
    bands = [(a, min(a + rows, height)) for a in range(0, height, rows)]
    n = threads or default_threads()
    if n <= 1 or len(bands) <= 1:
        for a, b in bands:
            work(a, b)
        return
    with ThreadPoolExecutor(max_workers=n) as pool:
        for _ in pool.map(lambda ab: work(*ab), bands):
            pass


def forward_uint8(
    raw: np.ndarray, params: AdapterParams, threads: int | None = None, at: Lattice | None = None
) -> np.ndarray:
    """``to_uint8(operators.forward(raw, params))`` for an HxWx3 float image in [0, 1].

    ``at``: where ``raw`` sits when it is a sub-image (:class:`Lattice`).
    """
    h, w = raw.shape[:2]
    table = _forward_table(params.lut)  # (3, 65536)
    gamma = _GammaRows(params.gamma_map, h, w, at)
    full_w = w - w % 8
    out = np.empty((h, w, 3), np.uint8)

    rows = min(BAND_ROWS, h)
    buffers = _band_buffers({
        "scaled": ((rows, w, 3), np.float32),
        "idx": ((rows, w, 3), np.uint16),
        "y": ((rows, w, 3), np.float32),
        "g": ((rows, w), np.float32),
        "tmp": ((rows, w), np.float32),
    })  # fmt: skip

    def work(a: int, b: int) -> None:
        buf = buffers(b - a)
        scaled, idx, y = buf["scaled"], buf["idx"], buf["y"]
        np.clip(raw[a:b], 0.0, 1.0, out=scaled)
        scaled *= np.float32(_TABLE - 1)
        scaled += np.float32(0.5)
        np.copyto(idx, scaled, casting="unsafe")  # round half up: the table index
        for c in range(3):
            np.take(table[c], idx[..., c], out=y[..., c], mode="clip")
        g = gamma.band(a, b, buf["g"], buf["tmp"])[..., None]
        if params.dct_scale is None:
            np.power(y, g, out=y)
        else:
            full_h = (b - a) - (b - a) % 8
            if full_h and full_w:
                y[:full_h, :full_w] = scale_dct(y[:full_h, :full_w], params.dct_scale)
            y = (np.sign(y) * np.power(np.abs(y), g)).astype(np.float32)
        np.clip(y, 0.0, 1.0, out=y)
        y *= np.float32(255.0)
        y += np.float32(0.5)
        out[a:b] = y

    run_bands(h, work, threads)
    return out


def inverse_uint8(
    pixels: np.ndarray,
    params: AdapterParams,
    threads: int | None = None,
    at: Lattice | None = None,
    out: np.ndarray | None = None,
    check: Callable[[], None] | None = None,
) -> np.ndarray:
    """``operators.inverse(pixels / 255, params)`` for HxWx3 uint8 JPEG pixels.

    ``at``: where ``pixels`` sit when they are a sub-image (:class:`Lattice`).
    ``out``: a C-contiguous float32 HxWx3 array to write the result into (and return),
    e.g. a shared-memory block, instead of a new one.
    ``check``: called before each band; what it raises stops the inverse (a superseded
    request leaves the bands not begun unwritten).
    """
    h, w = pixels.shape[:2]
    with np.errstate(divide="ignore"):
        log_table = np.log(np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)
    inv, slope = _inverse_table(params.lut)
    gamma = _GammaRows(params.gamma_map, h, w, at)
    full_w = w - w % 8
    if out is None:
        dest = np.empty((h, w, 3), np.float32)
    elif out.shape != (h, w, 3) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a contiguous float32 array of shape {(h, w, 3)}")
    else:
        dest = out

    rows = min(BAND_ROWS, h)
    buffers = _band_buffers({
        "y": ((rows, w, 3), np.float32),
        "i": ((rows, w, 3), np.int32),
        "g": ((rows, w), np.float32),
        "tmp": ((rows, w), np.float32),
    })  # fmt: skip

    def work(a: int, b: int) -> None:
        if check is not None:
            check()
        buf = buffers(b - a)
        y, i, tmp = buf["y"], buf["i"], buf["tmp"]
        np.take(log_table, pixels[a:b], out=y, mode="clip")  # log of the 8-bit value (-inf for 0)
        g = gamma.band(a, b, buf["g"], tmp)
        np.reciprocal(g, out=g)
        y *= g[..., None]
        if params.dct_scale is not None:
            np.exp(y, out=y)
            full_h = (b - a) - (b - a) % 8
            if full_h and full_w:
                y[:full_h, :full_w] = scale_dct(y[:full_h, :full_w], 1.0 / params.dct_scale)
            dest[a:b] = invert_lut(y, params.lut)
            return
        # exp(log(p) / g) is in [0, 1]: no clipping needed before scaling to table units.
        np.exp(y, out=y)
        y *= np.float32(_TABLE - 1)
        np.copyto(i, y, casting="unsafe")  # truncation: the table index
        np.subtract(y, i, out=y, casting="unsafe")  # fractional part
        for c in range(3):
            ic = i[..., c]
            o = dest[a:b, :, c]
            np.take(inv[c], ic, out=o, mode="clip")
            np.take(slope[c], ic, out=tmp, mode="clip")
            tmp *= y[..., c]
            o += tmp

    run_bands(h, work, threads)
    return dest
