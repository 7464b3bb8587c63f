"""The adapter's invertible operators, in plain numpy: the specification.

Forward (before JPEG):   LUT  ->  8x8 DCT scale  ->  spatial gamma
Inverse (after JPEG):    gamma^-1  ->  DCT scale^-1  ->  LUT^-1

* **LUT**: per channel, piecewise linear over ``B`` uniform knots on [0, 1];
  strictly increasing, so its inverse is piecewise linear too.
* **DCT scale**: each channel is cut in 8x8 blocks on the JPEG grid and each full
  block's orthonormal DCT-II coefficients are multiplied by ``dct_scale[c]``; a
  partial block at the right or bottom edge stays as it is (exactly invertible).
* **Gamma**: ``out = sign(x) * |x| ** g`` with ``g`` the gamma map bilinearly
  upsampled (half-pixel centres, like ``torch.nn.functional.interpolate`` with
  ``align_corners=False``) to the image size; sign-preserving because the DCT
  step may push values slightly below zero.

The training code re-implements these in torch and is tested against this file.
"""

from __future__ import annotations

import numpy as np

from .params import AdapterParams

#: Resolution of the dense table used to invert the LUT quickly.
_INVERSE_TABLE_SIZE = 1 << 16


def _dct_matrix() -> np.ndarray:
    n = np.arange(8)
    k = n[:, None]
    m = np.cos(np.pi * (2 * n[None, :] + 1) * k / 16.0) * np.sqrt(2.0 / 8.0)
    m[0, :] = np.sqrt(1.0 / 8.0)
    return np.asarray(m.astype(np.float32))


DCT8 = _dct_matrix()


def upsample_bilinear(grid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinearly resize a 2-D ``grid`` to ``(height, width)`` with half-pixel centres."""
    gh, gw = grid.shape
    grid = grid.astype(np.float32)

    def axis(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        src = np.clip(src, 0.0, n_in - 1)
        i0 = np.floor(src).astype(np.intp)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (src - i0).astype(np.float32)

    r0, r1, fr = axis(height, gh)
    c0, c1, fc = axis(width, gw)
    rows = grid[r0] * (1.0 - fr)[:, None] + grid[r1] * fr[:, None]  # (height, gw)
    return np.asarray(rows[:, c0] * (1.0 - fc)[None, :] + rows[:, c1] * fc[None, :])


def knot_segment(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Knot index ``i`` (0..bins-2) and fraction ``f`` of values in [0, 1] (clipped)."""
    x = np.clip(values, 0.0, 1.0) * np.float32(bins - 1)
    i = np.minimum(x.astype(np.int32), bins - 2)
    return i, x - i


def apply_lut(img: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Apply the per-channel piecewise-linear LUT to an HxWx3 image in [0, 1]."""
    out = np.empty(img.shape, np.float32)
    for c in range(3):
        i, f = knot_segment(img[..., c], lut.shape[1])
        lo = lut[c, i]
        out[..., c] = lo + f * (lut[c, i + 1] - lo)
    return out


def invert_lut(img: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Invert :func:`apply_lut`; inputs outside the LUT's range are clamped to it."""
    bins = lut.shape[1]
    knots = np.linspace(0.0, 1.0, bins)
    ys = np.linspace(0.0, 1.0, _INVERSE_TABLE_SIZE)
    out = np.empty(img.shape, np.float32)
    n = _INVERSE_TABLE_SIZE - 1
    for c in range(3):
        # A dense table of the exact inverse, then linear interpolation in it: exact
        # between knots, and fast (np.interp on tens of millions of pixels is slow).
        table = np.interp(ys, lut[c].astype(np.float64), knots).astype(np.float32)
        y = np.clip(img[..., c], 0.0, 1.0) * np.float32(n)
        i = np.minimum(y.astype(np.int32), n - 1)
        f = y - i
        lo = table[i]
        out[..., c] = lo + f * (table[i + 1] - lo)
    return out


def scale_dct(img: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Multiply every full 8x8 block's DCT coefficients of channel ``c`` by ``scale[c]``.

    Blocks are on the JPEG grid. A partial block at the right or bottom edge (sides
    that are not multiples of 8) is left as it is: scaling a padded block and
    cropping it would not be invertible.
    """
    h, w = img.shape[:2]
    bh, bw = h - h % 8, w - w % 8
    out = img.astype(np.float32, copy=True)
    if bh == 0 or bw == 0:
        return out
    for c in range(img.shape[2]):
        blocks = out[:bh, :bw, c].reshape(bh // 8, 8, bw // 8, 8).transpose(0, 2, 1, 3)
        coef = DCT8 @ blocks @ DCT8.T
        coef *= scale[c].astype(np.float32)
        back = DCT8.T @ coef @ DCT8
        out[:bh, :bw, c] = back.transpose(0, 2, 1, 3).reshape(bh, bw)
    return out


def apply_gamma(img: np.ndarray, gamma_map: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Raise each pixel to the upsampled gamma map (or its reciprocal when ``inverse``)."""
    g = upsample_bilinear(gamma_map, img.shape[0], img.shape[1])
    if inverse:
        g = np.float32(1.0) / g
    g = g[..., None]
    if img.min(initial=0.0) >= 0.0:
        return np.asarray(np.power(img, g, dtype=np.float32))
    return np.asarray((np.sign(img) * np.power(np.abs(img), g)).astype(np.float32))


def forward(raw: np.ndarray, params: AdapterParams) -> np.ndarray:
    """Adapt a linear HxWx3 float image in [0, 1] for JPEG coding (LUT -> DCT -> gamma)."""
    x = apply_lut(raw, params.lut)
    if params.dct_scale is not None:
        x = scale_dct(x, params.dct_scale)
    return apply_gamma(x, params.gamma_map)


def inverse(img: np.ndarray, params: AdapterParams) -> np.ndarray:
    """Reconstruct the linear image from an adapted one (gamma^-1 -> DCT^-1 -> LUT^-1)."""
    x = apply_gamma(img.astype(np.float32, copy=False), params.gamma_map, inverse=True)
    if params.dct_scale is not None:
        x = scale_dct(x, 1.0 / params.dct_scale)
    return invert_lut(x, params.lut)
