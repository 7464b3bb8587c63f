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
    """

    lut: np.ndarray
    gamma_map: np.ndarray
    dct_scale: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def lut_bins(self) -> int:
        """Number of knots per LUT channel."""
        return int(self.lut.shape[1])


def validate_lut(lut: object, what: str) -> None:
    """Raise :class:`CorruptParameters` unless ``lut`` is a usable (3, B) tone curve."""
    if not isinstance(lut, np.ndarray) or lut.ndim != 2 or lut.shape[0] != 3:
        raise CorruptParameters(f"The {what} must have shape (3, bins).")
    if not 2 <= lut.shape[1] <= MAX_LUT_BINS:
        raise CorruptParameters(f"The {what} must have 2 to {MAX_LUT_BINS} bins.")
    if not np.all(np.isfinite(lut)) or lut.min() < 0.0 or lut.max() > 1.0:
        raise CorruptParameters(f"The {what} holds values outside [0, 1].")
    if np.any(np.diff(lut.astype(np.float64), axis=1) <= 0):
        raise CorruptParameters(f"The {what} is not strictly increasing, so it cannot be inverted.")


def validate(p: AdapterParams) -> None:
    """Raise :class:`CorruptParameters` unless ``p`` is a usable, invertible parameter set."""
    lut, gm, dct = p.lut, p.gamma_map, p.dct_scale
    validate_lut(lut, "tone LUT")
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


def monotone(lut: np.ndarray) -> np.ndarray:
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
    return np.asarray(np.minimum(lut, 1.0).astype(np.float32))


def sanitize(
    lut: np.ndarray,
    gamma_map: np.ndarray,
    dct_scale: np.ndarray | None = None,
) -> AdapterParams:
    """Turn raw model outputs into valid parameters (clip ranges, force a strictly
    increasing LUT)."""
    lut = monotone(lut)
    gm = np.clip(np.nan_to_num(np.asarray(gamma_map, np.float64), nan=1.0), GAMMA_MIN, GAMMA_MAX)
    dct = None
    if dct_scale is not None:
        dct = np.clip(
            np.nan_to_num(np.asarray(dct_scale, np.float64), nan=1.0), DCT_SCALE_MIN, DCT_SCALE_MAX
        ).astype(np.float32)
    return AdapterParams(lut, gm.astype(np.float32), dct)


def identity_params(lut_bins: int = 129, gamma_side: int = 1) -> AdapterParams:
    """Parameters that change nothing (identity LUT, gamma 1, no DCT scale)."""
    return AdapterParams(
        np.tile(np.linspace(0.0, 1.0, lut_bins, dtype=np.float32), (3, 1)),
        np.ones((gamma_side, gamma_side), np.float32),
    )
