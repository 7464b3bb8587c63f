"""The adapter's operator parameters, the value that crosses every boundary.

A model predicts an :class:`AdapterParams`; the operators apply it; the container
stores it inside the JPEG. The numeric ranges below are part of the file format
and the model contract, so they live here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import CorruptParameters

#: Allowed range of the spatial gamma exponents (out = in ** gamma).
GAMMA_MIN = 0.1
GAMMA_MAX = 10.0
#: Allowed range of the 8x8 DCT coefficient scales.
DCT_SCALE_MIN = 0.05
DCT_SCALE_MAX = 20.0
#: Smallest step between LUT knots, so the LUT stays strictly increasing (invertible).
LUT_MIN_STEP = 1.0 / 65535.0
#: Caps on sizes a file may declare (a decoder never allocates beyond these).
MAX_GAMMA_SIDE = 512
MAX_LUT_BINS = 4096
#: Most tone curves a spatially-varying LUT may blend, and its weight maps' largest side.
MAX_LUT_BASIS = 8
MAX_MIX_SIDE = 64
#: How far the blending weights at one place may sum from 1.
MIX_SUM_TOLERANCE = 1e-4


@dataclass(frozen=True)
class AdapterParams:
    """Invertible operators predicted for one image.

    Attributes:
        lut: float32 (3, B) strictly increasing per-channel tone curve; knot ``k`` of
            channel ``c`` maps input ``k / (B - 1)`` to ``lut[c, k]`` in [0, 1].
        gamma_map: float32 (h, w) exponents in [GAMMA_MIN, GAMMA_MAX], bilinearly
            upsampled to the image size; the operator is ``out = in ** gamma``.
        dct_scale: optional float32 (3, 8, 8) multipliers of each 8x8 block's DCT
            coefficients, per channel; ``None`` when the model has no DCT operator.
        lut_basis: optional float32 (K-1, 3, B) further strictly increasing tone curves
            for a *spatially-varying LUT*; with ``lut`` they are the K basis curves.
        lut_mix: optional float32 (K, h, w) blending weights of the K curves (each >= 0,
            summing to 1 at every position), bilinearly upsampled like the gamma map.
            The tone curve at a pixel is ``sum_k mix_k * curve_k``: a blend of strictly
            increasing curves with non-negative weights, so still strictly increasing
            (invertible) at every pixel. Both ``None`` for a global LUT.
    """

    lut: np.ndarray
    gamma_map: np.ndarray
    dct_scale: np.ndarray | None = field(default=None)
    lut_basis: np.ndarray | None = field(default=None)
    lut_mix: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def lut_bins(self) -> int:
        """Number of knots per LUT channel."""
        return int(self.lut.shape[1])

    @property
    def luts(self) -> np.ndarray:
        """All basis curves, (K, 3, B): ``lut`` first (K = 1 for a global LUT)."""
        if self.lut_basis is None:
            return self.lut[None]
        return np.concatenate([self.lut[None], self.lut_basis], axis=0)


def _validate_lut(lut: object, what: str) -> None:
    if not isinstance(lut, np.ndarray) or lut.ndim != 2 or lut.shape[0] != 3:
        raise CorruptParameters(f"The {what} must have shape (3, bins).")
    if not 2 <= lut.shape[1] <= MAX_LUT_BINS:
        raise CorruptParameters(f"The {what} must have 2 to {MAX_LUT_BINS} bins.")
    if not np.all(np.isfinite(lut)) or lut.min() < 0.0 or lut.max() > 1.0:
        raise CorruptParameters(f"The {what} holds values outside [0, 1].")
    if np.any(np.diff(lut.astype(np.float64), axis=1) <= 0):
        raise CorruptParameters(f"The {what} is not strictly increasing, so it cannot be inverted.")


def _validate_mix(p: AdapterParams) -> None:
    basis, mix = p.lut_basis, p.lut_mix
    if basis is None and mix is None:
        return
    if basis is None or mix is None:
        raise CorruptParameters("A spatially-varying LUT needs both its curves and its weights.")
    if not isinstance(basis, np.ndarray) or basis.ndim != 3 or basis.shape[1:] != p.lut.shape:
        raise CorruptParameters("The extra tone curves must have the LUT's shape.")
    if not 1 <= basis.shape[0] <= MAX_LUT_BASIS - 1:
        raise CorruptParameters(f"A spatially-varying LUT blends 2 to {MAX_LUT_BASIS} curves.")
    for k in range(basis.shape[0]):
        _validate_lut(basis[k], "extra tone curve")
    if not isinstance(mix, np.ndarray) or mix.ndim != 3 or mix.shape[0] != basis.shape[0] + 1:
        raise CorruptParameters("The LUT weights must have shape (curves, h, w).")
    if min(mix.shape[1:]) < 1 or max(mix.shape[1:]) > MAX_MIX_SIDE:
        raise CorruptParameters(f"The LUT weight maps must be 1 to {MAX_MIX_SIDE} pixels a side.")
    if not np.all(np.isfinite(mix)) or mix.min() < 0.0:
        raise CorruptParameters("The LUT weights must be finite and not negative.")
    if np.abs(mix.astype(np.float64).sum(axis=0) - 1.0).max() > MIX_SUM_TOLERANCE:
        raise CorruptParameters("The LUT weights do not sum to 1 everywhere.")


def validate(p: AdapterParams) -> None:
    """Raise :class:`CorruptParameters` unless ``p`` is a usable, invertible parameter set."""
    lut, gm, dct = p.lut, p.gamma_map, p.dct_scale
    _validate_lut(lut, "tone LUT")
    _validate_mix(p)
    if not isinstance(gm, np.ndarray) or gm.ndim != 2 or min(gm.shape) < 1:
        raise CorruptParameters("The gamma map must be a 2-D array.")
    if max(gm.shape) > MAX_GAMMA_SIDE:
        raise CorruptParameters(f"The gamma map is larger than {MAX_GAMMA_SIDE} pixels a side.")
    if not np.all(np.isfinite(gm)) or gm.min() < GAMMA_MIN * 0.999 or gm.max() > GAMMA_MAX * 1.001:
        raise CorruptParameters(f"The gamma map holds values outside [{GAMMA_MIN}, {GAMMA_MAX}].")
    if dct is not None:
        if not isinstance(dct, np.ndarray) or dct.shape != (3, 8, 8):
            raise CorruptParameters("The DCT scale must have shape (3, 8, 8).")
        if (
            not np.all(np.isfinite(dct))
            or dct.min() < DCT_SCALE_MIN * 0.999
            or dct.max() > DCT_SCALE_MAX * 1.001
        ):
            raise CorruptParameters(
                f"The DCT scale holds values outside [{DCT_SCALE_MIN}, {DCT_SCALE_MAX}]."
            )


def _monotone(lut: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and force strictly increasing knots (float32)."""
    lut = np.clip(np.nan_to_num(np.asarray(lut, np.float64), nan=0.0), 0.0, 1.0)
    floor = LUT_MIN_STEP * 1.5
    # Strictly increasing: every step at least ``floor``; then fit into [0, 1] by
    # lowering the start and, if that is not enough, shrinking the steps above the floor.
    steps = np.maximum(np.diff(lut, axis=-1), floor)
    start = np.minimum(lut[..., 0], np.maximum(0.0, 1.0 - steps.sum(axis=-1)))
    room = 1.0 - start - floor * steps.shape[-1]
    extra = steps - floor
    shrink = np.minimum(1.0, room / np.maximum(extra.sum(axis=-1), 1e-12))
    steps = floor + extra * shrink[..., None]
    lut = np.concatenate([start[..., None], start[..., None] + np.cumsum(steps, axis=-1)], axis=-1)
    return np.minimum(lut, 1.0).astype(np.float32)


def normalise_mix(mix: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 over the first axis (uniform where all are 0)."""
    m = np.clip(np.nan_to_num(np.asarray(mix, np.float64), nan=0.0), 0.0, None)
    total = m.sum(axis=0, keepdims=True)
    m = np.where(total > 0, m / np.where(total > 0, total, 1.0), 1.0 / m.shape[0])
    return m.astype(np.float32)


def sanitize(
    lut: np.ndarray,
    gamma_map: np.ndarray,
    dct_scale: np.ndarray | None = None,
    lut_basis: np.ndarray | None = None,
    lut_mix: np.ndarray | None = None,
) -> AdapterParams:
    """Turn raw model outputs into valid parameters (clip ranges, force strictly increasing
    LUTs, normalise the spatially-varying LUT's weights)."""
    lut = _monotone(lut)
    gm = np.clip(np.nan_to_num(np.asarray(gamma_map, np.float64), nan=1.0), GAMMA_MIN, GAMMA_MAX)
    dct = None
    if dct_scale is not None:
        dct = np.clip(
            np.nan_to_num(np.asarray(dct_scale, np.float64), nan=1.0), DCT_SCALE_MIN, DCT_SCALE_MAX
        ).astype(np.float32)
    basis = mix = None
    if lut_basis is not None and lut_mix is not None:
        basis = np.stack([_monotone(b) for b in np.asarray(lut_basis)])
        mix = normalise_mix(lut_mix)
    return AdapterParams(lut, gm.astype(np.float32), dct, basis, mix)


def identity_params(lut_bins: int = 129, gamma_side: int = 1) -> AdapterParams:
    """Parameters that change nothing (identity LUT, gamma 1, no DCT scale)."""
    return AdapterParams(
        np.tile(np.linspace(0.0, 1.0, lut_bins, dtype=np.float32), (3, 1)),
        np.ones((gamma_side, gamma_side), np.float32),
    )
