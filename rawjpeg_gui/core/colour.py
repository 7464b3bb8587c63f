"""Camera colour for display: linear camera RGB -> display-referred linear sRGB.

The chain for one image (float32, per pixel):

1. **white balance with a highlight knee** - each channel is multiplied by the camera's
   balance (as shot; the daylight balance of the colour matrix when the raw has none),
   up to a knee; above it a smooth, strictly increasing curve takes the channel's
   sensor clip (1.0) to exactly 1.0, so a clipped highlight stays white instead of
   turning pink (the curve is the identity on a channel whose gain is 1);
2. **colour matrix** - the raw's own camera -> linear sRGB matrix (rows sum to one, so
   balanced white stays white; the identity when the raw has none);
3. **base exposure** - a gain chosen from the image (its 99th luminance percentile is
   brought near white, 1x..16x);
4. **clip** to [0, 1], as a raw converter's plain rendering does.

Its sRGB transfer curve (:func:`srgb_encode`) is what :mod:`display` shows, and what
the adapter-JPEG's ICC profile (:mod:`icc`) makes colour-managed viewers show: steps
1-3 are per-channel curves and one matrix, which a matrix/TRC profile expresses. The
knee's curve is a :class:`_Segment`, whose slope at the joint equals the linear part's
(the chain is smooth) and never falls below half its mean slope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metadata import RawMeta

#: EXIF LightSource / DNG CalibrationIlluminant code of D65.
ILLUMINANT_D65 = 21
#: Linear sRGB (D65) -> CIE XYZ.
SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
#: CIE XYZ of the D65 white (Y = 1).
D65_XYZ = np.array([0.95047, 1.0, 1.08883])
#: Rec. 709 luminance weights of linear sRGB.
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
#: Balanced level above which the white-balance knee bends toward the clip.
KNEE = 0.75
#: Exposure rule: the 99th luminance percentile is brought to this level ...
EXPOSURE_TARGET = 0.9
#: ... with a gain in this range.
GAIN_RANGE = (1.0, 16.0)


@dataclass(frozen=True)
class _Segment:
    """A smooth, strictly increasing segment from (x0, y0) to (x1, y1), slope s at x0.

    Compressive (``s`` above the mean slope ``m``):
    ``y = y0 + a t + (s - a) t c / (c + t)`` with ``t = x - x0``, ``a = m / 2`` and the
    constant ``c`` set so the segment ends at (x1, y1): it bends like a rational
    shoulder but its slope never falls below half the mean slope, so a coding error is
    amplified at most ``2 / m`` times by the inverse. Expanding (``s`` below ``m``): the
    inverse of the compressive segment from (y0, x0) to (y1, x1), slope ``1 / s``.
    Linear when ``s`` equals ``m``. Evaluated in float64.
    """

    x0: float
    x1: float
    y0: float
    y1: float
    s: float

    def _kind(self) -> tuple[int, float, float]:
        """(+1 compressive / -1 expanding / 0 linear, a, c) of the compressive form."""
        t, y = self.x1 - self.x0, self.y1 - self.y0
        if abs(self.s * t - y) <= 1e-12 * max(y, 1e-300):
            return 0, 0.0, 0.0
        if self.s * t > y:
            s, tt, yy, kind = self.s, t, y, 1
        else:
            s, tt, yy, kind = 1.0 / self.s, y, t, -1
        a = 0.5 * yy / tt
        r = (yy - a * tt) / ((s - a) * tt)  # = c / (c + T), in (0, 1)
        return kind, a, r * tt / (1.0 - r)

    @staticmethod
    def _compress(t: np.ndarray, s: float, a: float, c: float) -> np.ndarray:
        return a * t + (s - a) * t * c / (c + t)

    @staticmethod
    def _expand(u: np.ndarray, s: float, a: float, c: float) -> np.ndarray:
        # Solve a t^2 + (a c + (s - a) c - u) t - u c = 0 for t >= 0.
        b = s * c - u
        return 2.0 * u * c / (b + np.sqrt(b * b + 4.0 * a * u * c))

    def forward(self, x: np.ndarray) -> np.ndarray:
        t = np.asarray(x, np.float64) - self.x0
        kind, a, c = self._kind()
        if kind == 0:
            dy = t * ((self.y1 - self.y0) / (self.x1 - self.x0))
        elif kind > 0:
            dy = self._compress(t, self.s, a, c)
        else:
            dy = self._expand(t, 1.0 / self.s, a, c)
        return self.y0 + dy

    def inverse(self, y: np.ndarray) -> np.ndarray:
        u = np.asarray(y, np.float64) - self.y0
        kind, a, c = self._kind()
        if kind == 0:
            dx = u * ((self.x1 - self.x0) / (self.y1 - self.y0))
        elif kind > 0:
            dx = self._expand(u, self.s, a, c)
        else:
            dx = self._compress(u, 1.0 / self.s, a, c)
        return self.x0 + dx


def _piecewise(x: np.ndarray, edge: float, below, above) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``below(x)`` where ``x <= edge``, else ``above(x)``; each evaluated only where used."""
    out = np.empty_like(x)
    low = x <= np.float32(edge)
    out[low] = below(x[low])
    high = ~low
    out[high] = above(x[high])
    return out


@dataclass(frozen=True)
class ColourChain:
    """The camera colour of one image (see the module docstring).

    Attributes:
        wb: white-balance multipliers (R, G, B), float32 values.
        matrix: 3x3 balanced camera RGB -> linear sRGB, rows summing to one.
        gain: base exposure gain.
    """

    wb: tuple[float, float, float]
    matrix: tuple[float, ...]
    gain: float

    def _wb_curves(self) -> list[tuple[float, _Segment | None]]:
        """Per channel: (x where the knee starts, the segment above it or None)."""
        out: list[tuple[float, _Segment | None]] = []
        for g in self.wb:
            x0 = min(KNEE / g, KNEE)
            y0 = g * x0
            if abs(g - 1.0) < 1e-9 or x0 >= 1.0:
                out.append((1.0, None))  # the identity: no knee needed
            else:
                out.append((x0, _Segment(x0, 1.0, y0, 1.0, g)))
        return out

    def to_srgb(self) -> np.ndarray:
        """3x3: balanced camera RGB -> linear sRGB with the base exposure (steps 2-3)."""
        return self.gain * np.asarray(self.matrix, np.float64).reshape(3, 3)

    def balance(self, camera: np.ndarray) -> np.ndarray:
        """Step 1: camera RGB (... x 3 in [0, 1]) -> balanced RGB with the highlight knee."""
        x = np.asarray(camera, np.float32)
        bal = np.empty(x.shape, np.float32)
        for c, (x0, seg) in enumerate(self._wb_curves()):
            g = np.float32(self.wb[c])
            if seg is None:
                bal[..., c] = x[..., c] * g
            else:
                bal[..., c] = _piecewise(x[..., c], x0, lambda v, g=g: v * g, seg.forward)
        return bal

    def forward(self, camera: np.ndarray) -> np.ndarray:
        """Linear camera RGB (H x W x 3 in [0, 1]) -> display-referred linear sRGB in [0, 1]."""
        lin = self.balance(camera) @ self.to_srgb().T.astype(np.float32)
        return np.asarray(np.clip(lin, 0.0, 1.0))

    @classmethod
    def make(cls, wb: np.ndarray, matrix: np.ndarray, gain: float) -> ColourChain:
        """A chain with its values rounded to float32."""

        def f32(v: np.ndarray) -> tuple[float, ...]:
            return tuple(float(np.float32(x)) for x in np.ravel(v))

        return cls(f32(wb), f32(matrix), float(np.float32(gain)))  # type: ignore[arg-type]


# ---------------------------------------------------------------- from the raw's metadata


def camera_to_srgb(meta: RawMeta | None) -> np.ndarray:
    """3x3 matrix taking white-balanced camera RGB to linear sRGB.

    ``cam_rgb = xyz_to_camera @ srgb_to_xyz`` with rows normalised to sum to one (so
    white-balanced camera white is sRGB white), then inverted. Falls back to the
    identity when the metadata has no usable matrix.
    """
    if meta is None or not meta.xyz_to_camera:
        return np.eye(3)
    try:
        xyz_to_cam = np.asarray(meta.xyz_to_camera, np.float64).reshape(3, 3)
        cam_rgb = xyz_to_cam @ SRGB_TO_XYZ
        sums = cam_rgb.sum(axis=1, keepdims=True)
        if np.any(np.abs(sums) < 1e-9):
            return np.eye(3)
        out = np.linalg.inv(cam_rgb / sums)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return np.eye(3)
    ok = np.all(np.isfinite(out)) and np.all(np.abs(out) < 100)
    return out if ok else np.eye(3)


def daylight_wb(meta: RawMeta | None) -> np.ndarray | None:
    """The balance that makes a D65 white neutral, from the raw's colour matrix (G = 1)."""
    if meta is None or not meta.xyz_to_camera:
        return None
    try:
        cam_white = np.asarray(meta.xyz_to_camera, np.float64).reshape(3, 3) @ D65_XYZ
    except ValueError:
        return None
    if not (np.all(np.isfinite(cam_white)) and np.all(cam_white > 0)):
        return None
    wb = cam_white[1] / cam_white
    return wb if np.all(wb < 100) else None


def white_balance(meta: RawMeta | None) -> np.ndarray:
    """Per-channel (R, G, B) multipliers: as shot (or LibRaw's automatic estimate), else
    the daylight balance of the colour matrix, else ones."""
    wb = getattr(meta, "as_shot_wb", None)
    if wb and len(wb) >= 3:
        arr = np.asarray(wb[:3], np.float64)
        if np.all(np.isfinite(arr)) and np.all(arr > 0) and np.all(arr < 100):
            return arr
    day = daylight_wb(meta)
    return day if day is not None else np.ones(3)


def _small(image: np.ndarray, side: int = 256) -> np.ndarray:
    """A cheap strided view of at most about ``side`` pixels a side (for statistics)."""
    h, w = image.shape[:2]
    step = max(1, max(h, w) // side)
    return np.asarray(image[::step, ::step], np.float32)


def base_gain(camera: np.ndarray, meta: RawMeta | None) -> float:
    """The exposure gain (1-16) that brings the 99th luminance percentile near white."""
    unit = ColourChain.make(white_balance(meta), camera_to_srgb(meta), 1.0)
    small = _small(camera)
    m = np.asarray(unit.matrix, np.float32).reshape(3, 3)
    bal = np.minimum(small * np.asarray(unit.wb, np.float32), np.float32(1.0))
    lum = np.maximum(bal @ m.T, 0.0) @ LUMA
    top = float(np.percentile(lum, 99.0)) if lum.size else 1.0
    if not np.isfinite(top) or top <= 0:
        return GAIN_RANGE[0]
    return float(np.clip(EXPOSURE_TARGET / top, *GAIN_RANGE))


def chain_for(camera: np.ndarray, meta: RawMeta | None, gain: float | None = None) -> ColourChain:
    """The chain for one image: its metadata's balance and matrix, and its base exposure
    (computed from the image unless ``gain`` is given)."""
    g = base_gain(camera, meta) if gain is None else gain
    return ColourChain.make(white_balance(meta), camera_to_srgb(meta), g)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve (IEC 61966-2-1) of values in [0, 1]."""
    x = np.clip(np.asarray(linear, np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, np.float32(1.0 / 2.4)) - 0.055)


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """Inverse of :func:`srgb_encode`."""
    v = np.clip(np.asarray(encoded, np.float32), 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, np.float32(2.4)))
