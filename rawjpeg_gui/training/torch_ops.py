"""The adapter operators in torch, batched and differentiable.

These mirror :mod:`rawjpeg_gui.core.operators` (the specification) exactly, and the
spatially-varying LUT mirrors :mod:`rawjpeg_gui.training.research.lutmix`; the parity
test in ``tests/training/test_parity.py`` holds them to it. Images are
``(N, 3, H, W)``; parameters carry a leading batch dimension.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def dct_matrix(
    device: torch.device | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The orthonormal 8x8 DCT-II matrix ``M`` (coefficients = ``M @ block @ M.T``)."""
    n = torch.arange(8, dtype=torch.float64)
    m = torch.cos(math.pi * (2 * n[None, :] + 1) * n[:, None] / 16.0) * math.sqrt(2.0 / 8.0)
    m[0, :] = math.sqrt(1.0 / 8.0)
    return m.to(device=device, dtype=dtype)


def apply_lut(img: torch.Tensor, lut: torch.Tensor) -> torch.Tensor:
    """Per-channel piecewise-linear LUT over uniform knots.

    Args:
        img: (N, 3, H, W) linear image; values are clamped to [0, 1].
        lut: (N, 3, B) strictly increasing knot values.

    Returns:
        The mapped image, same shape as ``img``.
    """
    n, c, h, w = img.shape
    bins = lut.shape[-1]
    x = img.clamp(0.0, 1.0).reshape(n, c, h * w) * (bins - 1)
    i = x.detach().floor().clamp(max=bins - 2).long()
    f = x - i.to(x.dtype)
    lo = torch.gather(lut, 2, i)
    hi = torch.gather(lut, 2, i + 1)
    return (lo + f * (hi - lo)).reshape(n, c, h, w)


def invert_lut(img: torch.Tensor, lut: torch.Tensor) -> torch.Tensor:
    """Exact inverse of :func:`apply_lut`; values outside the LUT's range are clamped to it."""
    n, c, h, w = img.shape
    bins = lut.shape[-1]
    y = img.reshape(n, c, h * w)
    y = torch.maximum(torch.minimum(y, lut[..., -1:]), lut[..., :1])
    k = torch.searchsorted(lut.detach().contiguous(), y.detach().contiguous(), right=True) - 1
    k = k.clamp(0, bins - 2)
    lo = torch.gather(lut, 2, k)
    hi = torch.gather(lut, 2, k + 1)
    f = (y - lo) / (hi - lo)
    return ((k.to(y.dtype) + f) / (bins - 1)).reshape(n, c, h, w)


def apply_lut_mix(img: torch.Tensor, luts: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Spatially-varying LUT: ``sum_k weights[:, k] * apply_lut(img, luts[:, k])``.

    Args:
        img: (N, 3, H, W) linear image.
        luts: (N, K, 3, B) strictly increasing basis curves.
        weights: (N, K, H, W) non-negative blending weights summing to 1 over K.
    """
    out = weights[:, :1] * apply_lut(img, luts[:, 0])
    for k in range(1, luts.shape[1]):
        out = out + weights[:, k : k + 1] * apply_lut(img, luts[:, k])
    return out


def invert_lut_mix(img: torch.Tensor, luts: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Exact inverse of :func:`apply_lut_mix` (per-pixel bisection over the knots, then
    linear interpolation; differentiable in the image, the curves and the weights)."""
    n, c, h, w = img.shape
    k_count, bins = luts.shape[1], luts.shape[-1]
    y = img.reshape(n, c, h * w)
    wts = weights.reshape(n, k_count, 1, h * w)

    def knot(j: torch.Tensor) -> torch.Tensor:  # blended knot j (N, 3, P) per pixel
        return sum(  # type: ignore[return-value]
            wts[:, k] * torch.gather(luts[:, k], 2, j) for k in range(k_count)
        )

    with torch.no_grad():
        lo = torch.zeros_like(y, dtype=torch.long)
        hi = torch.full_like(lo, bins - 1)
        yd = y.detach().clamp(min=knot(lo), max=knot(hi))
        for _ in range(max(1, math.ceil(math.log2(bins - 1)))):
            mid = (lo + hi) // 2
            below = knot(mid) <= yd
            lo = torch.where(below, mid, lo)
            hi = torch.where(below, hi, mid)
        j = lo.clamp(0, bins - 2)
    v0, v1 = knot(j), knot(j + 1)
    yc = torch.maximum(
        torch.minimum(y, knot(torch.full_like(j, bins - 1))), knot(torch.zeros_like(j))
    )
    f = (yc - v0) / (v1 - v0)
    return ((j.to(y.dtype) + f) / (bins - 1)).reshape(n, c, h, w)


def crop_maps(
    maps: torch.Tensor, offset: torch.Tensor, size: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """:func:`crop_gamma` for (N, K, h, w) maps: (N, K, height, width)."""
    n, k = maps.shape[:2]
    flat = crop_gamma(
        maps.reshape(n * k, *maps.shape[2:]),
        offset.repeat_interleave(k, dim=0),
        size.repeat_interleave(k, dim=0),
        height,
        width,
    )
    return flat.reshape(n, k, height, width)


def scale_dct(img: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Multiply each full 8x8 block's DCT coefficients by ``scale`` (N, 3, 8, 8).

    Partial edge blocks (sides not multiples of 8) stay as they are.
    """
    n, c, h, w = img.shape
    bh, bw = h - h % 8, w - w % 8
    if bh == 0 or bw == 0:
        return img
    m = dct_matrix(img.device, img.dtype)
    core = img[:, :, :bh, :bw].reshape(n, c, bh // 8, 8, bw // 8, 8).transpose(3, 4)
    coef = m @ core @ m.T
    coef = coef * scale[:, :, None, None]
    back = (m.T @ coef @ m).transpose(3, 4).reshape(n, c, bh, bw)
    if bh == h and bw == w:
        return back
    top = torch.cat([back, img[:, :, :bh, bw:]], dim=3)
    return torch.cat([top, img[:, :, bh:, :]], dim=2)


def upsample_gamma(gamma_map: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear (half-pixel centres) upsampling of an (N, h, w) gamma map to (N, 1, H, W)."""
    return F.interpolate(
        gamma_map[:, None], size=(height, width), mode="bilinear", align_corners=False
    )


def crop_gamma(
    gamma_map: torch.Tensor, offset: torch.Tensor, size: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """The window of the full-image upsampled gamma map that covers a patch.

    Equals ``upsample_gamma(gamma_map, H, W)[..., y:y+height, x:x+width]`` without
    building the full-size map.

    Args:
        gamma_map: (N, h, w) maps.
        offset: (N, 2) patch top-left (y, x) in the full image.
        size: (N, 2) full image (H, W).
        height: patch height.
        width: patch width.

    Returns:
        (N, 1, height, width) exponents.
    """
    gh, gw = gamma_map.shape[-2:]
    dev, dt = gamma_map.device, gamma_map.dtype
    ys = torch.arange(height, device=dev, dtype=dt)[None] + offset[:, :1].to(dt)
    xs = torch.arange(width, device=dev, dtype=dt)[None] + offset[:, 1:].to(dt)
    # Pixel centre (i + 0.5) / H in [0, 1] -> normalised [-1, 1] (align_corners=False).
    gy = (ys + 0.5) / size[:, :1].to(dt) * 2.0 - 1.0
    gx = (xs + 0.5) / size[:, 1:].to(dt) * 2.0 - 1.0
    grid = torch.stack(
        [gx[:, None, :].expand(-1, height, -1), gy[:, :, None].expand(-1, -1, width)], dim=-1
    )
    del gh, gw
    return F.grid_sample(
        gamma_map[:, None], grid, mode="bilinear", padding_mode="border", align_corners=False
    )


def power_field(img: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``sign(x) * |x| ** g`` for a broadcastable exponent field ``g``."""
    a = img.abs().clamp_min(1e-12)
    out = torch.exp(g * torch.log(a))
    out = torch.where(img.abs() > 0, out, torch.zeros_like(out))
    return torch.sign(img) * out


def apply_gamma(img: torch.Tensor, gamma_map: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    """``sign(x) * |x| ** g`` with the upsampled gamma map (reciprocal when ``inverse``)."""
    g = upsample_gamma(gamma_map, img.shape[2], img.shape[3])
    if inverse:
        g = 1.0 / g
    return power_field(img, g)


def forward(
    raw: torch.Tensor,
    lut: torch.Tensor,
    gamma_map: torch.Tensor,
    dct_scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """Adapt a linear (N, 3, H, W) image for JPEG: LUT -> DCT scale -> gamma."""
    x = apply_lut(raw, lut)
    if dct_scale is not None:
        x = scale_dct(x, dct_scale)
    return apply_gamma(x, gamma_map)


def inverse(
    img: torch.Tensor,
    lut: torch.Tensor,
    gamma_map: torch.Tensor,
    dct_scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reconstruct the linear image: gamma^-1 -> DCT scale^-1 -> LUT^-1."""
    x = apply_gamma(img, gamma_map, inverse=True)
    if dct_scale is not None:
        x = scale_dct(x, 1.0 / dct_scale)
    return invert_lut(x, lut)


def srgb_encode(x: torch.Tensor) -> torch.Tensor:
    """The sRGB transfer curve, differentiable (values in [0, 1])."""
    x = x.clamp(0.0, 1.0)
    return torch.where(
        x <= 0.0031308, 12.92 * x, 1.055 * x.clamp_min(0.0031308) ** (1.0 / 2.4) - 0.055
    )
