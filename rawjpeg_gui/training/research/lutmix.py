"""The spatially-varying LUT: K tone curves blended by weight maps (numpy specification).

The parameters add to :class:`~rawjpeg_gui.core.params.AdapterParams` K-1 further
strictly increasing tone curves (``lut_basis``) and K weight maps (``lut_mix``,
bilinearly upsampled like the gamma map). The tone curve at a pixel is
``sum_k mix_k * curve_k``: a blend of strictly increasing curves with non-negative
weights, so still strictly increasing (invertible) at every pixel. Its inverse is
found per pixel by bisection over the knots, then linear interpolation (exact).

Forward: blended LUT -> 8x8 DCT scale -> spatial gamma (the core's operators after
the LUT); the inverse runs in reverse order. ``training/torch_ops.py`` implements
the same blend in torch and is tested against this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rawjpeg_gui.core.errors import CorruptParameters
from rawjpeg_gui.core.operators import apply_gamma, knot_segment, scale_dct, upsample_bilinear
from rawjpeg_gui.core.params import AdapterParams, monotone, sanitize, validate_lut

#: Most tone curves a spatially-varying LUT may blend, and its weight maps' largest side.
MAX_LUT_BASIS = 8
MAX_MIX_SIDE = 64
#: How far the blending weights at one place may sum from 1.
MIX_SUM_TOLERANCE = 1e-4


@dataclass(frozen=True)
class MixParams(AdapterParams):
    """Adapter parameters with a spatially-varying LUT.

    Attributes:
        lut_basis: float32 (K-1, 3, B) further strictly increasing tone curves; with
            ``lut`` they are the K basis curves.
        lut_mix: float32 (K, h, w) blending weights of the K curves (each >= 0,
            summing to 1 at every position).
    """

    lut_basis: np.ndarray = field(default_factory=lambda: np.zeros((0, 3, 2), np.float32))
    lut_mix: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1), np.float32))

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_mix(self)

    @property
    def luts(self) -> np.ndarray:
        """All basis curves, (K, 3, B): ``lut`` first."""
        return np.concatenate([self.lut[None], self.lut_basis], axis=0)


def validate_mix(p: MixParams) -> None:
    """Raise :class:`CorruptParameters` unless the extra curves and weights are usable."""
    basis, mix = p.lut_basis, p.lut_mix
    if not isinstance(basis, np.ndarray) or basis.ndim != 3 or basis.shape[1:] != p.lut.shape:
        raise CorruptParameters("The extra tone curves must have the LUT's shape.")
    if not 1 <= basis.shape[0] <= MAX_LUT_BASIS - 1:
        raise CorruptParameters(f"A spatially-varying LUT blends 2 to {MAX_LUT_BASIS} curves.")
    for k in range(basis.shape[0]):
        validate_lut(basis[k], "extra tone curve")
    if not isinstance(mix, np.ndarray) or mix.ndim != 3 or mix.shape[0] != basis.shape[0] + 1:
        raise CorruptParameters("The LUT weights must have shape (curves, h, w).")
    if min(mix.shape[1:]) < 1 or max(mix.shape[1:]) > MAX_MIX_SIDE:
        raise CorruptParameters(f"The LUT weight maps must be 1 to {MAX_MIX_SIDE} pixels a side.")
    if not np.all(np.isfinite(mix)) or mix.min() < 0.0:
        raise CorruptParameters("The LUT weights must be finite and not negative.")
    if np.abs(mix.astype(np.float64).sum(axis=0) - 1.0).max() > MIX_SUM_TOLERANCE:
        raise CorruptParameters("The LUT weights do not sum to 1 everywhere.")


def normalise_mix(mix: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 over the first axis (uniform where all are 0)."""
    m = np.clip(np.nan_to_num(np.asarray(mix, np.float64), nan=0.0), 0.0, None)
    total = m.sum(axis=0, keepdims=True)
    m = np.where(total > 0, m / np.where(total > 0, total, 1.0), 1.0 / m.shape[0])
    return m.astype(np.float32)


def sanitize_mix(
    lut: np.ndarray,
    gamma_map: np.ndarray,
    dct_scale: np.ndarray | None,
    lut_basis: np.ndarray,
    lut_mix: np.ndarray,
) -> MixParams:
    """Valid parameters from raw model outputs (as core ``sanitize``, plus strictly
    increasing extra curves and normalised weights)."""
    base = sanitize(lut, gamma_map, dct_scale)
    basis = np.stack([monotone(b) for b in np.asarray(lut_basis)])
    return MixParams(base.lut, base.gamma_map, base.dct_scale, basis, normalise_mix(lut_mix))


def mix_weights(mix: np.ndarray, height: int, width: int) -> np.ndarray:
    """The (K, height, width) blending weights of a spatially-varying LUT at every pixel."""
    return np.stack([upsample_bilinear(m, height, width) for m in mix])


def blend_knots(
    luts: np.ndarray, weights: np.ndarray | Sequence[np.ndarray], c: int, j: np.ndarray
) -> np.ndarray:
    """Knot ``j`` (an index per pixel) of channel ``c`` of the per-pixel blended curve;
    ``weights[k]`` is curve ``k``'s weight at each pixel."""
    out = weights[0] * luts[0, c][j]
    for k in range(1, luts.shape[0]):
        out += weights[k] * luts[k, c][j]
    return out


def apply_lut_mix(img: np.ndarray, luts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Apply the blend ``sum_k weights[k] * luts[k]`` (K, 3, B) per pixel; weights (K, H, W)."""
    out = np.empty(img.shape, np.float32)
    for c in range(3):
        i, f = knot_segment(img[..., c], luts.shape[2])
        lo = blend_knots(luts, weights, c, i)
        out[..., c] = lo + f * (blend_knots(luts, weights, c, i + 1) - lo)
    return out


def invert_lut_mix(img: np.ndarray, luts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Invert :func:`apply_lut_mix`; values outside a pixel's curve range are clamped to it."""
    bins = luts.shape[2]
    out = np.empty(img.shape, np.float32)
    for c in range(3):
        y = img[..., c].astype(np.float32)
        first = blend_knots(luts, weights, c, np.zeros(y.shape, np.intp))
        last = blend_knots(luts, weights, c, np.full(y.shape, bins - 1, np.intp))
        y = np.minimum(np.maximum(y, first), last)
        # Bisection for the segment [j, j + 1] whose blended knots hold y.
        lo = np.zeros(y.shape, np.intp)
        hi = np.full(y.shape, bins - 1, np.intp)
        while np.any(hi - lo > 1):
            mid = (lo + hi) // 2
            below = blend_knots(luts, weights, c, mid) <= y
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        v0 = blend_knots(luts, weights, c, lo)
        v1 = blend_knots(luts, weights, c, lo + 1)
        f = np.clip((y - v0) / np.maximum(v1 - v0, np.float32(1e-12)), 0.0, 1.0)
        out[..., c] = (lo + f) / np.float32(bins - 1)
    return out


def forward(raw: np.ndarray, params: MixParams) -> np.ndarray:
    """Adapt a linear HxWx3 image in [0, 1] (blended LUT -> DCT -> gamma)."""
    x = apply_lut_mix(raw, params.luts, mix_weights(params.lut_mix, *raw.shape[:2]))
    if params.dct_scale is not None:
        x = scale_dct(x, params.dct_scale)
    return apply_gamma(x, params.gamma_map)


def inverse(img: np.ndarray, params: MixParams) -> np.ndarray:
    """Reconstruct the linear image from an adapted one (gamma^-1 -> DCT^-1 -> LUT^-1)."""
    x = apply_gamma(img.astype(np.float32, copy=False), params.gamma_map, inverse=True)
    if params.dct_scale is not None:
        x = scale_dct(x, 1.0 / params.dct_scale)
    return invert_lut_mix(x, params.luts, mix_weights(params.lut_mix, *img.shape[:2]))
