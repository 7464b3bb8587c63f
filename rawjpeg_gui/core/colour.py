"""Camera normalisation: linear camera RGB <-> display-referred linear sRGB, exactly invertible.

The forward chain for one image (float32, per pixel, no clipping anywhere):

1. **white balance with a highlight knee** - each channel is multiplied by the camera's
   balance (as shot; the daylight balance of the colour matrix when the raw has none),
   up to a knee; above it a smooth, strictly increasing curve takes the channel's
   sensor clip (1.0) to exactly 1.0, so a clipped highlight stays white instead of
   turning pink (the curve is the identity on a channel whose gain is 1);
2. **colour matrix** - the raw's own camera -> linear sRGB matrix (rows sum to one, so
   balanced white stays white; the identity when the raw has none);
3. **base exposure** - a gain chosen from the image (its 99th luminance percentile is
   brought near white, 1x..16x) and stored with the file;
4. **soft clip** - the matrix output lies in a known interval (the matrix maps the
   unit cube to a parallelepiped); a smooth toe takes its negative part (colours
   outside the sRGB gamut) into [0, TOE] and a smooth shoulder takes the part above
   SHOULDER into [SHOULDER, 1], identity in between; the same curves for all three
   channels, so greys stay grey. Out-of-gamut colours and
   values above white are compressed, never clipped.

The result lies in [0, 1]: display-referred linear sRGB. Its sRGB transfer curve
(:func:`srgb_encode`) is what :mod:`display` shows and what the adapter-JPEG's pixels
approximate. Every step is a bijection of its interval, so :meth:`ColourChain.inverse`
returns the camera RGB to float precision. The curves of steps 1 and 4 are
segments (:class:`_Segment`) whose slope at the joint equals the linear part's, so the
chain is smooth (C1), and whose slope never falls below half their mean slope, so the
inverse amplifies a coding error by a bounded factor.

A file records the chain it was made with (:meth:`ColourChain.to_bytes`); a file
without one was made with the camera-RGB chain (no normalisation).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .errors import CorruptParameters
from .metadata import RawMeta

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
#: Below this the soft clip's toe compresses (negative values included).
TOE = 0.01
#: Above this the soft clip's shoulder compresses (values above white included).
SHOULDER = 0.8
#: Exposure rule: the 99th luminance percentile is brought to this level ...
EXPOSURE_TARGET = 0.9
#: ... with a gain in this range.
GAIN_RANGE = (1.0, 16.0)
#: Version byte of the serialised chain.
_VERSION = 1
_STRUCT = struct.Struct("<B3f9ff")


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
    """The camera normalisation of one image (see the module docstring).

    Attributes:
        wb: white-balance multipliers (R, G, B), float32 values.
        matrix: 3x3 balanced camera RGB -> linear sRGB, rows summing to one.
        gain: base exposure gain.
    """

    wb: tuple[float, float, float]
    matrix: tuple[float, ...]
    gain: float

    def __post_init__(self) -> None:
        wb = np.asarray(self.wb, np.float64)
        m = np.asarray(self.matrix, np.float64)
        if wb.shape != (3,) or m.shape != (9,):
            raise CorruptParameters("The colour chain has the wrong shape.")
        if not (np.all(np.isfinite(wb)) and np.all(wb > 0) and np.all(wb < 1e3)):
            raise CorruptParameters("The colour chain's white balance is not valid.")
        if not (np.all(np.isfinite(m)) and np.all(np.abs(m) < 1e3)):
            raise CorruptParameters("The colour chain's matrix is not valid.")
        if abs(np.linalg.det(m.reshape(3, 3))) < 1e-6:
            raise CorruptParameters("The colour chain's matrix cannot be inverted.")
        if not (np.isfinite(self.gain) and 1e-3 <= self.gain <= 1e3):
            raise CorruptParameters("The colour chain's exposure gain is not valid.")

    # ------------------------------------------------------------ the curves

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

    def _clip_curves(self) -> list[tuple[_Segment | None, _Segment | None]]:
        """Per channel of the matrix output: (toe, shoulder), each None when not needed.

        One toe and one shoulder for all three channels, spanning the widest channel's
        interval, so equal channels stay equal: greys and white stay neutral.
        """
        m = self.gain * np.asarray(self.matrix, np.float64).reshape(3, 3)
        lo = float(np.minimum(m, 0.0).sum(axis=1).min())
        hi = float(np.maximum(m, 0.0).sum(axis=1).max())
        # Mirrored shoulder: from (lo, 0) to (TOE, TOE), slope 1 at TOE.
        toe = _Segment(0.0, TOE - lo, 0.0, TOE, 1.0) if lo < 0.0 else None
        shoulder = _Segment(SHOULDER, hi, SHOULDER, 1.0, 1.0) if hi > 1.0 else None
        return [(toe, shoulder)] * 3

    # ------------------------------------------------------------ the chain

    def forward(self, camera: np.ndarray) -> np.ndarray:
        """Linear camera RGB (H x W x 3 in [0, 1]) -> display-referred linear sRGB in [0, 1]."""
        x = np.asarray(camera, np.float32)
        bal = np.empty(x.shape, np.float32)
        for c, (x0, seg) in enumerate(self._wb_curves()):
            g = np.float32(self.wb[c])
            if seg is None:
                bal[..., c] = x[..., c] * g
            else:
                bal[..., c] = _piecewise(x[..., c], x0, lambda v, g=g: v * g, seg.forward)
        m = (self.gain * np.asarray(self.matrix, np.float64).reshape(3, 3)).astype(np.float32)
        lin = bal @ m.T
        out = np.empty(x.shape, np.float32)
        for c, (toe, shoulder) in enumerate(self._clip_curves()):
            out[..., c] = self._clip_channel(lin[..., c], toe, shoulder)
        return out

    def inverse(self, display: np.ndarray) -> np.ndarray:
        """Display-referred linear sRGB in [0, 1] -> linear camera RGB (inputs clamped to [0, 1]).

        Values a coded image moves outside the chain's range are brought back to it
        (the balanced cube), so a decoded JPEG always yields camera RGB in [0, 1].
        """
        y = np.clip(np.asarray(display, np.float32), 0.0, 1.0)
        lin = np.empty(y.shape, np.float32)
        for c, (toe, shoulder) in enumerate(self._clip_curves()):
            lin[..., c] = self._unclip_channel(y[..., c], toe, shoulder)
        m = self.gain * np.asarray(self.matrix, np.float64).reshape(3, 3)
        bal = lin @ np.linalg.inv(m).T.astype(np.float32)
        # A coded image can stray outside the balanced cube: back to the range the knee maps.
        top = np.array(
            [1.0 if seg else g for g, (_, seg) in zip(self.wb, self._wb_curves(), strict=True)],
            np.float32,
        )
        np.clip(bal, 0.0, top, out=bal)
        out = np.empty(y.shape, np.float32)
        for c, (x0, seg) in enumerate(self._wb_curves()):
            g = np.float32(self.wb[c])
            y0 = float(g * x0)
            if seg is None:
                out[..., c] = bal[..., c] / g
            else:
                out[..., c] = _piecewise(bal[..., c], y0, lambda v, g=g: v / g, seg.inverse)
        return np.clip(out, 0.0, 1.0)

    @staticmethod
    def _clip_channel(v: np.ndarray, toe: _Segment | None, shoulder: _Segment | None) -> np.ndarray:
        out = v.copy()
        if toe is not None:
            low = v < np.float32(TOE)
            # toe(v) = TOE - S(TOE - v) with S the mirrored segment.
            out[low] = TOE - toe.forward(TOE - v[low].astype(np.float64))
        if shoulder is not None:
            high = v > np.float32(SHOULDER)
            out[high] = shoulder.forward(v[high])
        return np.asarray(np.clip(out, 0.0, 1.0))

    @staticmethod
    def _unclip_channel(
        y: np.ndarray, toe: _Segment | None, shoulder: _Segment | None
    ) -> np.ndarray:
        out = y.copy()
        if toe is not None:
            low = y < np.float32(TOE)
            out[low] = TOE - toe.inverse(TOE - y[low].astype(np.float64))
        if shoulder is not None:
            high = y > np.float32(SHOULDER)
            out[high] = shoulder.inverse(y[high])
        return out

    # ------------------------------------------------------------ storage

    def to_bytes(self) -> bytes:
        """The chain as stored in an adapter-JPEG (version u8, wb 3 f32, matrix 9 f32, gain f32)."""
        return _STRUCT.pack(_VERSION, *self.wb, *self.matrix, self.gain)

    @classmethod
    def from_bytes(cls, body: bytes) -> ColourChain:
        """Inverse of :meth:`to_bytes` (validated)."""
        if len(body) != _STRUCT.size:
            raise CorruptParameters("The colour chain record has the wrong size.")
        values = _STRUCT.unpack(body)
        if values[0] != _VERSION:
            raise CorruptParameters("The colour chain record is of an unknown kind.")
        return cls(tuple(values[1:4]), tuple(values[4:13]), values[13])

    @classmethod
    def make(cls, wb: np.ndarray, matrix: np.ndarray, gain: float) -> ColourChain:
        """A chain with its values rounded to float32, exactly as a file stores them."""

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


# ---------------------------------------------------------------- colour difference

_D65_WHITE = D65_XYZ


def srgb_to_lab(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] (H x W x 3) -> CIELAB (D65), float64."""
    xyz = srgb_decode(encoded).astype(np.float64) @ SRGB_TO_XYZ.T / _D65_WHITE
    eps, kappa = 216.0 / 24389.0, 24389.0 / 27.0
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16.0) / 116.0)
    return np.stack(
        [
            116.0 * f[..., 1] - 16.0,
            500.0 * (f[..., 0] - f[..., 1]),
            200.0 * (f[..., 1] - f[..., 2]),
        ],
        axis=-1,
    )


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference per pixel (Sharma, Wu, Dalal 2005; kL = kC = kH = 1)."""
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cbar7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(cbar7 / (cbar7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360.0
    dlp, dcp = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhp = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2.0))
    lbar, cbar = (l1 + l2) / 2.0, (c1p + c2p) / 2.0
    hsum = h1p + h2p
    hbar = np.where(
        c1p * c2p == 0,
        hsum,
        np.where(
            np.abs(h1p - h2p) <= 180.0,
            hsum / 2.0,
            np.where(hsum < 360.0, (hsum + 360.0) / 2.0, (hsum - 360.0) / 2.0),
        ),
    )
    t = (
        1.0
        - 0.17 * np.cos(np.radians(hbar - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * hbar))
        + 0.32 * np.cos(np.radians(3.0 * hbar + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * hbar - 63.0))
    )
    sl = 1.0 + 0.015 * (lbar - 50.0) ** 2 / np.sqrt(20.0 + (lbar - 50.0) ** 2)
    sc = 1.0 + 0.045 * cbar
    sh = 1.0 + 0.015 * cbar * t
    cbar7p = cbar**7
    rc = 2.0 * np.sqrt(cbar7p / (cbar7p + 25.0**7))
    rt = -np.sin(np.radians(60.0 * np.exp(-(((hbar - 275.0) / 25.0) ** 2)))) * rc
    return np.asarray(
        np.sqrt((dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp / sh) ** 2 + rt * (dcp / sc) * (dhp / sh))
    )
