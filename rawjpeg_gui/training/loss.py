"""Rate-distortion loss: linear-raw reconstruction after forward -> JPEG -> inverse, plus bits."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import jpeg_sim, torch_ops


@dataclass
class LossConfig:
    """Loss weights (mirrors the ``[loss]`` table of the config).

    The distortion is ``ln(MSE) + w_l1 * ln(L1) + w_ssim * (1 - SSIM)`` per patch, on
    the linear raw (log terms make dark and bright patches count alike, as PSNR
    does). The rate weight follows the typical slope of a JPEG rate-distortion
    curve at each quality: ``w(q) = rate_hi + rate_lo * (1 - q/100) ** rate_power``
    per bit per pixel.

    ``w_display`` adds ``w_display * ln(MSE)`` of the same reconstruction as the app
    displays it (each image's ``display`` matrix to linear sRGB at its base exposure,
    clipped, sRGB curve), for batches that carry the matrices, and divides the sum by
    ``1 + w_display`` so the price of a bit stays the same: errors the display's white
    balance, colour matrix and shadow curve amplify then cost more.
    """

    w_l1: float = 0.5
    w_ssim: float = 1.0
    rate_hi: float = 0.2
    rate_lo: float = 4.2
    rate_power: float = 2.5
    subsampling: str = "4:4:4"
    w_display: float = 0.0

    @property
    def rate_weight(self) -> tuple[float, float, float]:
        """``(rate_hi, rate_lo, rate_power)``: what an exported model declares in
        ``rawjpeg.rate_weight`` for the encoder's search (``core/search.py``)."""
        return self.rate_hi, self.rate_lo, self.rate_power


def ssim(a: torch.Tensor, b: torch.Tensor, win: int = 7) -> torch.Tensor:
    """Mean SSIM per image (uniform window, peak 1), shape (N,)."""
    c1, c2 = 0.01**2, 0.03**2
    pad = win // 2

    def pool(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, win, 1, pad, count_include_pad=False)

    ma, mb = pool(a), pool(b)
    va = pool(a * a) - ma * ma
    vb = pool(b * b) - mb * mb
    cov = pool(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    return s.mean(dim=(1, 2, 3))


def code_patches(
    out: dict[str, torch.Tensor],
    raw: torch.Tensor,
    offset: torch.Tensor,
    size: torch.Tensor,
    subsampling: str = "4:4:4",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Adapt, JPEG-simulate and invert patches; returns (reconstruction, bits per image)."""
    h, w = raw.shape[-2:]
    g = torch_ops.crop_gamma(out["gamma_map"], offset, size, h, w)
    dct = out.get("dct_scale")
    mix = out.get("lut_mix")
    if mix is None:
        x = torch_ops.apply_lut(raw, out["lut"])
    else:  # spatially-varying LUT: curves (N, K, 3, B), weights where the patch sits
        luts = torch.cat([out["lut"][:, None], out["lut_basis"]], dim=1)
        weights = torch_ops.crop_maps(mix, offset, size, h, w)
        x = torch_ops.apply_lut_mix(raw, luts, weights)
    if dct is not None:
        x = torch_ops.scale_dct(x, dct)
    x = torch_ops.power_field(x, g)
    dec, bits = jpeg_sim.simulate(x, out["qtables"], subsampling)
    y = torch_ops.power_field(dec, 1.0 / g)
    if dct is not None:
        y = torch_ops.scale_dct(y, 1.0 / dct)
    if mix is None:
        return torch_ops.invert_lut(y, out["lut"]), bits
    return torch_ops.invert_lut_mix(y, luts, weights), bits


def displayed(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Patches (N, 3, H, W) as the app shows them: per patch ``matrix`` (N, 3, 3) to
    linear sRGB, clipped to [0, 1], then the sRGB curve."""
    return torch_ops.srgb_encode(torch.einsum("nij,njhw->nihw", matrix, x))


def rd_loss(
    out: dict[str, torch.Tensor],
    batch: dict[str, torch.Tensor],
    cfg: LossConfig,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The training loss and its parts (mean PSNR in dB, bpp, distortion)."""
    raw = batch["raw"]
    rec, bits = code_patches(out, raw, batch["offset"], batch["size"], cfg.subsampling)
    err = rec - raw
    mse = err.pow(2).mean(dim=(1, 2, 3))
    l1 = err.abs().mean(dim=(1, 2, 3))
    ss = ssim(rec, raw)
    dist = torch.log(mse + 1e-8) + cfg.w_l1 * torch.log(l1 + 1e-5) + cfg.w_ssim * (1.0 - ss)
    bpp = bits / (raw.shape[-1] * raw.shape[-2])
    q = batch["quality"] / 100.0
    wr = cfg.rate_hi + cfg.rate_lo * (1.0 - q).clamp_min(0.0) ** cfg.rate_power
    display_parts = {}
    if cfg.w_display and "display" in batch:
        shown = displayed(raw, batch["display"])
        dmse = (displayed(rec, batch["display"]) - shown).pow(2).mean(dim=(1, 2, 3))
        dist = (dist + cfg.w_display * torch.log(dmse + 1e-8)) / (1.0 + cfg.w_display)
        display_parts["display_psnr"] = float((-10.0 * torch.log10(dmse.detach() + 1e-10)).mean())
    loss = (dist + wr * bpp).mean()
    parts = {
        "loss": float(loss.detach()),
        "psnr": float((-10.0 * torch.log10(mse.detach() + 1e-10)).mean()),
        "bpp": float(bpp.detach().mean()),
        "ssim": float(ss.detach().mean()),
        **display_parts,
    }
    return loss, parts
