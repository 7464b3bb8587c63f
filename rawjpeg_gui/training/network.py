"""The adapter network: thumbnail + quality -> LUT, gamma map, optional DCT scale, JPEG tables.

Design (a small network: tens of thousands of parameters):

* Input features: the linear thumbnail normalised by its maximum, raised to 1/2.2,
  and its log2 (exposure-invariant), 6 channels.
* Encoder: four stride-2 3x3 convolutions (T -> T/16) with LeakyReLU, each
  followed by FiLM (per-channel scale and shift) computed from the quality.
* LUT head: ``lut(x) = d*x + (1-d) * S(min(g*x, 1))`` per channel, with a gain
  ``g >= 1`` (prior: 1 / (k * channel maximum of the thumbnail), corrected by the
  network), a headroom slope ``d`` and a shape ``S``: a monotone curve built from
  softmax increments. Strictly increasing by construction.
* Gamma head: a (h, w) map at T/4 resolution, ``exp(ln 10 * tanh(z))`` in [0.1, 10].
* DCT head (optional): ``exp(ln 20 * tanh(z))`` per channel and frequency.
* JPEG tables: learned base tables times libjpeg's quality scale factor, floored and
  clamped like ``jpeg_quality_scaling``; each entry is non-increasing in quality, so
  quality stays monotonic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .jpeg_sim import scaled_tables

_LN10 = math.log(10.0)
_LN20 = math.log(20.0)


@dataclass
class NetConfig:
    """Network hyper-parameters (mirrors the ``[model]`` table of the config)."""

    thumbnail_size: int = 64
    lut_bins: int = 129
    shape_bins: int = 32
    widths: tuple[int, ...] = (16, 24, 32, 48)
    hidden: int = 64
    dct: bool = False
    gamma_init: float = 1.0 / 2.2
    gain_k_init: float = 4.0
    headroom_init: float = 0.1
    #: Smallest LUT slope above the gain's knee (bounds the error gain on unseen highlights).
    headroom_min: float = 0.01
    #: Largest per-channel gain of the LUT.
    gain_max: float = 1096.0
    #: Initial base tables: ``level * (1 + ramp * (u + v))`` luma; chroma times ``chroma_ratio``.
    qt_level: float = 12.0
    qt_ramp: float = 0.1
    qt_chroma_ratio: float = 1.0
    qt_chroma_ramp: float = 0.1

    @property
    def gamma_side(self) -> int:
        """Side of the gamma map (the second encoder stage's resolution)."""
        return self.thumbnail_size // 4


def _ramp_table(level: float, ramp: float) -> torch.Tensor:
    u = torch.arange(8.0)
    return (level * (1.0 + ramp * (u[:, None] + u[None, :]))).reshape(64)


class AdapterNet(nn.Module):
    """Quality-conditioned adapter network; see the module docstring."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.widths
        chans = (6, *w)
        self.convs = nn.ModuleList(
            nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1) for i in range(len(w))
        )
        self.film = nn.Sequential(nn.Linear(3, 16), nn.LeakyReLU(0.1), nn.Linear(16, 2 * sum(w)))
        nn.init.zeros_(self.film[2].weight)
        nn.init.zeros_(self.film[2].bias)
        n_glob = 2 * w[-1] + 6 + 3
        self.mlp = nn.Sequential(nn.Linear(n_glob, cfg.hidden), nn.LeakyReLU(0.1))
        n_out = 3 * cfg.shape_bins + 3 + 1 + 1 + (3 * 64 if cfg.dct else 0)
        self.head = nn.Linear(cfg.hidden, n_out)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.gamma_local = nn.Conv2d(w[1], 1, 1)
        self.gamma_ctx = nn.Conv2d(w[-1], 1, 1)
        for m in (self.gamma_local, self.gamma_ctx):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)
        g0 = math.atanh(math.log(cfg.gamma_init) / _LN10)
        self.gamma_bias = nn.Parameter(torch.tensor(g0))
        self.log_gain_k = nn.Parameter(torch.tensor(math.log(cfg.gain_k_init)))
        h0 = (cfg.headroom_init - cfg.headroom_min) / (0.5 - cfg.headroom_min)
        self.headroom_bias = nn.Parameter(torch.tensor(math.log(h0 / (1.0 - h0))))
        base = torch.stack(
            [
                _ramp_table(cfg.qt_level, cfg.qt_ramp),
                _ramp_table(cfg.qt_level * cfg.qt_chroma_ratio, cfg.qt_chroma_ramp),
            ]
        )
        self.qt_log_base = nn.Parameter(base.log())

    def base_tables(self) -> torch.Tensor:
        """The (2, 64) base tables (before quality scaling)."""
        return self.qt_log_base.exp().clamp(1.0, 255.0)

    def qtables(self, quality: torch.Tensor) -> torch.Tensor:
        """(N, 2, 64) JPEG tables at quality ``quality`` (N,) in 1..100 (rounded to an integer)."""
        return scaled_tables(self.base_tables(), torch.round(quality))

    def _lut_from_head(
        self,
        z: torch.Tensor,
        cmax: torch.Tensor,
        thumb: torch.Tensor,
        gain_max: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The per-channel LUT (and the global gamma logit) from the head's output ``z``.

        Strictly increasing by construction: a softmax of increments gives the curve's
        shape, a bounded gain stretches it, and a linear "headroom" part is mixed in.
        ``gain_max`` (N, 3), when given, caps each channel's gain further (the encoder's
        per-image cap from the full-resolution image, see MODEL_CARD.md).
        """
        cfg = self.cfg
        n = z.shape[0]
        sb = cfg.shape_bins
        shape_logits = z[:, : 3 * sb].reshape(n, 3, sb)
        gain_corr = z[:, 3 * sb : 3 * sb + 3]
        hmin = cfg.headroom_min
        headroom = hmin + (0.5 - hmin) * torch.sigmoid(
            z[:, 3 * sb + 3 : 3 * sb + 4] + self.headroom_bias
        )
        gamma_glob = z[:, 3 * sb + 4 : 3 * sb + 5]
        # LUT.
        eps = 1e-3
        inc = torch.softmax(shape_logits, dim=-1) * (1.0 - sb * eps) + eps
        shape = torch.cat(
            [torch.zeros(n, 3, 1, dtype=inc.dtype, device=inc.device), torch.cumsum(inc, -1)], -1
        )
        shape = shape / shape[..., -1:]
        log_gain = (F.softplus(4.0 * (gain_corr - torch.log(cmax) - self.log_gain_k)) / 4.0).clamp(
            max=math.log(cfg.gain_max)
        )
        if gain_max is not None:
            log_gain = torch.minimum(log_gain, torch.log(gain_max.clamp_min(1.0)))
        knots = torch.linspace(0.0, 1.0, cfg.lut_bins, device=thumb.device, dtype=thumb.dtype)
        t = (knots[None, None, :] * log_gain.exp()[:, :, None]).clamp(max=1.0) * sb
        i = t.detach().floor().clamp(max=sb - 1)
        f = t - i
        il = i.long()
        lo = torch.gather(shape, 2, il)
        hi = torch.gather(shape, 2, il + 1)
        s_val = lo + f * (hi - lo)
        d = headroom[:, :, None]
        lut = d * knots[None, None, :] + (1.0 - d) * s_val
        return lut, gamma_glob

    def forward(
        self,
        thumb: torch.Tensor,
        q01: torch.Tensor,
        gain_max: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        meta: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Predict the operators.

        Args:
            thumb: (N, 3, T, T) linear thumbnail in [0, 1].
            q01: (N, 1) JPEG quality / 100.
            gain_max: optional (N, 3) cap on each channel's LUT gain (>= 1).
            noise: (N, 1) image noise levels; only ``noise_input`` variants
                (``variants.VariantNet``) use them, so every caller can pass them alike.
            meta: (N, 4) capture metadata (``research.inputs.meta_features``); only
                ``meta_input`` variants use it.

        Returns:
            ``lut`` (N, 3, B), ``gamma_map`` (N, h, w), optional ``dct_scale`` (N, 3, 8, 8)
            and ``qtables`` (N, 2, 64).
        """
        cfg = self.cfg
        n = thumb.shape[0]
        x = thumb.clamp(0.0, 1.0)
        cmax = x.amax(dim=(2, 3)).clamp_min(1e-4)  # (N, 3)
        cmean = x.mean(dim=(2, 3)).clamp_min(1e-5)
        gmax = cmax.amax(dim=1, keepdim=True)
        xn = x / gmax[:, :, None, None]
        feats = torch.cat(
            [xn.clamp_min(1e-6).pow(1.0 / 2.2), (torch.log2(x + 2.0**-16) + 16.0) / 16.0], 1
        )
        qe = torch.cat([q01, (1.0 - q01) ** 2, q01.sqrt()], dim=1)
        film = self.film(qe)
        outs = []
        h = feats
        k = 0
        for conv, c in zip(self.convs, cfg.widths, strict=True):
            h = F.leaky_relu(conv(h), 0.1)
            gam, bet = film[:, k : k + c], film[:, k + c : k + 2 * c]
            k += 2 * c
            h = h * (1.0 + gam[:, :, None, None]) + bet[:, :, None, None]
            outs.append(h)
        last = outs[-1]
        stats = torch.cat([torch.log2(cmax) / 8.0, torch.log2(cmean) / 8.0], dim=1)
        glob = torch.cat([last.mean(dim=(2, 3)), last.amax(dim=(2, 3)), stats, qe], dim=1)
        z = self.head(self.mlp(glob))
        lut, gamma_glob = self._lut_from_head(z, cmax, thumb, gain_max)
        # Gamma map at T/4.
        side = cfg.gamma_side
        ctx = F.interpolate(
            self.gamma_ctx(last), size=(side, side), mode="bilinear", align_corners=False
        )
        gz = self.gamma_local(outs[1]) + ctx + gamma_glob[:, :, None, None] + self.gamma_bias
        gamma_map = torch.exp(_LN10 * 0.999 * torch.tanh(gz[:, 0]))
        out = {"lut": lut, "gamma_map": gamma_map}
        if cfg.dct:
            dz = z[:, 3 * cfg.shape_bins + 5 :].reshape(n, 3, 8, 8)
            out["dct_scale"] = torch.exp(_LN20 * 0.999 * torch.tanh(dz))
        out["qtables"] = self.qtables(q01[:, 0] * 100.0)
        return out


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
