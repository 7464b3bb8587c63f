"""Image-quality and rate metrics: PSNR, SSIM, error maps, bits per pixel, BD-rate.

Images are float arrays in [0, 1] (linear camera RGB). SSIM is the standard
Wang et al. (2004) index with an 8x8-free Gaussian window (sigma 1.5), computed on
the mean of the channels' SSIM maps.
"""

from __future__ import annotations

import numpy as np

#: Elements per band of :func:`mse` (float64 bands stay in cache; no full-size copies).
_MSE_BAND = 1 << 18


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error, in float64, summed in row bands."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim == 0 or a.size == 0:
        d = a.astype(np.float64) - b.astype(np.float64)
        return float(np.mean(d * d))
    rows = max(1, _MSE_BAND // max(1, a[0].size))
    total = 0.0
    for y in range(0, a.shape[0], rows):
        d = np.subtract(a[y : y + rows], b[y : y + rows], dtype=np.float64).ravel()
        total += float(np.dot(d, d))
    return total / a.size


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB (``inf`` for identical images)."""
    m = mse(a, b)
    return float("inf") if m == 0 else float(10.0 * np.log10(peak * peak / m))


def _gaussian_blur(x: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    radius = int(3.5 * sigma + 0.5)
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k /= k.sum()
    pad = (
        np.pad(x, radius, mode="reflect")
        if min(x.shape) > radius
        else np.pad(x, radius, mode="edge")
    )
    rows = sum(k[i] * pad[i : i + x.shape[0], :] for i in range(len(k)))
    return np.asarray(sum(k[i] * rows[:, i : i + x.shape[1]] for i in range(len(k))))


def ssim_map(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Per-pixel SSIM of two single-channel images."""
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    mu_a, mu_b = _gaussian_blur(a), _gaussian_blur(b)
    saa = _gaussian_blur(a * a) - mu_a**2
    sbb = _gaussian_blur(b * b) - mu_b**2
    sab = _gaussian_blur(a * b) - mu_a * mu_b
    return np.asarray(
        ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    )


def ssim(a: np.ndarray, b: np.ndarray, peak: float = 1.0, max_side: int = 1024) -> float:
    """Mean SSIM over channels.

    Images larger than ``max_side`` are compared on a regular grid of crops that
    together cover about ``max_side**2`` pixels (SSIM is local; this keeps it fast).
    """
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    h, w = a.shape[:2]
    if h * w > max_side * max_side:
        tiles = []
        n = 4
        th, tw = min(h, max_side // n * 1), min(w, max_side // n * 1)
        for ty in np.linspace(0, h - th, n).astype(int):
            for tx in np.linspace(0, w - tw, n).astype(int):
                tiles.append((a[ty : ty + th, tx : tx + tw], b[ty : ty + th, tx : tx + tw]))
        return float(np.mean([ssim(x, y, peak, max_side) for x, y in tiles]))
    return float(np.mean([ssim_map(a[..., c], b[..., c], peak).mean() for c in range(a.shape[2])]))


def error_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel absolute error, averaged over channels (float32 H x W)."""
    return np.asarray(np.mean(np.abs(a.astype(np.float32) - b.astype(np.float32)), axis=-1))


def bits_per_pixel(num_bytes: int, width: int, height: int) -> float:
    """File size in bits divided by the pixel count."""
    return 8.0 * num_bytes / float(width * height)


def bd_rate(
    rate_ref: list[float], psnr_ref: list[float], rate_test: list[float], psnr_test: list[float]
) -> float:
    """Bjontegaard delta rate of ``test`` against ``ref``, in percent (negative: fewer bits).

    Cubic fit of log-rate as a function of PSNR for each curve, integrated over the
    overlapping PSNR interval (VCEG-M33). Needs at least four points per curve.
    """
    if min(len(rate_ref), len(rate_test)) < 4:
        raise ValueError("BD-rate needs at least four rate points per curve.")
    lr1, lr2 = np.log(np.asarray(rate_ref)), np.log(np.asarray(rate_test))
    p1, p2 = np.asarray(psnr_ref, np.float64), np.asarray(psnr_test, np.float64)
    fit1, fit2 = np.polyfit(p1, lr1, 3), np.polyfit(p2, lr2, 3)
    lo, hi = max(p1.min(), p2.min()), min(p1.max(), p2.max())
    if hi <= lo:
        return float("nan")
    int1, int2 = np.polyint(fit1), np.polyint(fit2)
    avg1 = (np.polyval(int1, hi) - np.polyval(int1, lo)) / (hi - lo)
    avg2 = (np.polyval(int2, hi) - np.polyval(int2, lo)) / (hi - lo)
    return float((np.exp(avg2 - avg1) - 1.0) * 100.0)
