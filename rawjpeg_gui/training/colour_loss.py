"""The loss for the "photo" look: rate-distortion in camera RGB, plus how far the
JPEG's pixels are from the app's display rendering.

The batch holds normalised patches ``y`` (what the operators see) and each image's
packed chain. The operators code ``y``; the reconstruction goes back through the
chain's inverse (:func:`colour_torch.inverse`) and is scored against the camera RGB
``x = inverse(y)`` with the distortion and rate terms of :func:`loss.rd_loss`. The look
term is the mean absolute difference, in percent of full scale, between the adapted
image (the JPEG's pixels before coding) and the sRGB encoding of ``y`` (the display
rendering), times ``look_weight``.
"""

from __future__ import annotations

import torch

from . import colour_torch, torch_ops
from .loss import LossConfig, code_patches, ssim


def look_error(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per patch: mean |adapted - sRGB(y)| in percent (the JPEG's pixels vs the display)."""
    y = batch["raw"]
    g = torch_ops.crop_gamma(out["gamma_map"], batch["offset"], batch["size"], *y.shape[-2:])
    adapted = torch_ops.power_field(torch_ops.apply_lut(y, out["lut"]), g)
    return 100.0 * (adapted - torch_ops.srgb_encode(y)).abs().mean(dim=(1, 2, 3))


def photo_loss(
    out: dict[str, torch.Tensor],
    batch: dict[str, torch.Tensor],
    cfg: LossConfig,
    look_weight: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The training loss for a normalised batch and its parts (PSNR in camera RGB)."""
    y, k = batch["raw"], batch["chain"]
    rec_y, bits = code_patches(out, y, batch["offset"], batch["size"], cfg.subsampling)
    with torch.no_grad():
        x = colour_torch.inverse(y, k)
    rec = colour_torch.inverse(rec_y, k)
    err = rec - x
    mse = err.pow(2).mean(dim=(1, 2, 3))
    l1 = err.abs().mean(dim=(1, 2, 3))
    ss = ssim(rec, x)
    dist = torch.log(mse + 1e-8) + cfg.w_l1 * torch.log(l1 + 1e-5) + cfg.w_ssim * (1.0 - ss)
    bpp = bits / (y.shape[-1] * y.shape[-2])
    q = batch["quality"] / 100.0
    wr = cfg.rate_hi + cfg.rate_lo * (1.0 - q).clamp_min(0.0) ** cfg.rate_power
    look = look_error(out, batch)
    loss = (dist + wr * bpp + look_weight * look).mean()
    parts = {
        "loss": float(loss.detach()),
        "psnr": float((-10.0 * torch.log10(mse.detach() + 1e-10)).mean()),
        "bpp": float(bpp.detach().mean()),
        "ssim": float(ss.detach().mean()),
        "look": float(look.detach().mean()),
    }
    return loss, parts
