"""Architecture variants of :class:`~rawjpeg_gui.training.network.AdapterNet` for ablations.

Every variant exports an ONNX model that ``research.model.ResearchModel`` loads (the
core's ``AdapterModel`` loads those without the research inputs and operators) and, with all switches
off, computes exactly what ``AdapterNet`` computes (held by
``tests/training/test_ablate.py``). New modules are initialised so that the
variant starts as the function of the checkpoint it is initialised from
(zero-initialised projections, identity attention), so a short fine-tune from a
shared checkpoint isolates what each switch adds.

Switches (extra ``[model]`` keys on top of :class:`NetConfig`):

* ``gamma_size``: side of the predicted gamma map (0: the default T/4). Finer maps
  (> T/4) add a zero-initialised 1x1 head on the T/2 encoder stage on top of the
  bilinearly upsampled T/4 logits; coarser maps average-pool the T/4 logits.
* ``eca``: efficient channel attention (Wang et al. 2020) after every encoder stage:
  ``h * 2 sigmoid(conv1d_k3(mean(h)))``, zero-initialised (identity at start).
* ``multiscale``: the encoder (shared weights and FiLM) also runs on the thumbnail
  average-pooled to T/2; its global mean/max features enter the MLP through a
  zero-initialised projection.
* ``dct_shared`` (with ``dct``): one 8x8 DCT scale shared by the three channels
  instead of one per channel (the head predicts 64 values, not 192; the file still
  stores it per channel, as the runtime contract says).
* ``noise_input``: the image's noise level (``research.inputs.noise_sigma``: the thumbnail
  averages noise away) enters the MLP as ``(log2 sigma + 8) / 8`` through a
  zero-initialised projection; the export then takes the optional ``noise`` input.
* ``meta_input``: the raw's capture metadata (``research.inputs.meta_features``: ISO,
  exposure time, black level over white level, effective bit depth) enters the MLP
  through a zero-initialised projection; the export then takes the optional ``meta``
  input. The training cache records it per image (real raws: their own; unprocessed
  photos: the ISO their simulated shot noise stands for), and the exposure
  augmentation raises the ISO it reports as it scales the noise.
* ``qt_adaptive``: image-adaptive JPEG tables. A zero-initialised linear map of the
  thumbnail's channel statistics (log maxima and means, no quality input) gives each
  image a level (a multiplier from ``qt_level_min`` to e) and a frequency ramp
  (``exp(r (u+v)/14)``, r from ``qt_ramp_min`` to 0.5) for the luma and the chroma base
  table; libjpeg's quality scaling follows, so every entry stays non-increasing in
  quality (the slider stays monotonic). The runtime writes the per-image tables into
  the DQT segments.
* ``lut_basis`` (K > 1): a spatially-varying LUT. K - 1 further tone curves come from a
  zero-initialised head that adds to the LUT part of the main head's output (so every
  curve starts as the global LUT and stays strictly increasing by the same
  construction), and K weight maps of ``lut_mix_side`` squared come from a 1x1
  convolution of the T/8 encoder stage, softmax over K. The convolution starts with
  small random weights (``mix_init_std``): with equal curves the output is still the
  starting model's, but the curves see different pixels and so can move apart (zero
  weights would keep them equal for ever). The export adds the ``lut_basis`` and
  ``lut_mix`` outputs and the ``lutmix`` operator (``research/lutmix.py``).
* ``dct`` and ``lut_bins`` are ``NetConfig``'s own switches.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .jpeg_sim import scaled_tables
from .network import _LN10, _LN20, AdapterNet, NetConfig
from .research.inputs import DEFAULT_NOISE, META_FEATURES, meta_features


@dataclass
class VariantConfig(NetConfig):
    """:class:`NetConfig` plus the ablation switches (see the module docstring)."""

    gamma_size: int = 0
    eca: bool = False
    multiscale: bool = False
    dct_shared: bool = False
    noise_input: bool = False
    qt_adaptive: bool = False
    #: With ``qt_adaptive``: smallest per-image level (table multiplier) and ramp exponent.
    qt_level_min: float = 0.3679
    qt_ramp_min: float = -0.5
    meta_input: bool = False
    #: Spatially-varying LUT: number of basis curves (1: one global LUT), weight map side.
    lut_basis: int = 1
    lut_mix_side: int = 8
    mix_init_std: float = 0.3

    @property
    def gamma_side(self) -> int:  # type: ignore[override]
        """Side of the gamma map."""
        return self.gamma_size or self.thumbnail_size // 4


def variant_config(model: dict[str, Any]) -> VariantConfig:
    """A :class:`VariantConfig` from a ``[model]`` table."""
    m = dict(model)
    if "widths" in m:
        m["widths"] = tuple(m["widths"])
    known = {f.name for f in dataclasses.fields(VariantConfig)}
    unknown = sorted(set(m) - known)
    if unknown:
        raise ValueError(f"unknown [model] keys: {', '.join(unknown)}")
    return VariantConfig(**m)


class _ECA(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3, padding=1, bias=False)
        nn.init.zeros_(self.conv.weight)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        a = self.conv(h.mean(dim=(2, 3))[:, None, :])[:, 0]  # (N, C)
        return h * (2.0 * torch.sigmoid(a))[:, :, None, None]


class VariantNet(AdapterNet):
    """``AdapterNet`` with the ablation switches of :class:`VariantConfig`."""

    def __init__(self, cfg: VariantConfig) -> None:
        super().__init__(cfg)
        self.cfg: VariantConfig = cfg
        w = cfg.widths
        t = cfg.thumbnail_size
        side = cfg.gamma_side
        if side > t // 4:
            if side % (t // 4) or side > t // 2:
                raise ValueError(f"a finer gamma map must be T/2 ({t // 2}), not {side}")
            self.gamma_fine = nn.Conv2d(w[0], 1, 1)
            nn.init.zeros_(self.gamma_fine.weight)
            nn.init.zeros_(self.gamma_fine.bias)  # type: ignore[arg-type]
        elif side < t // 4 and (t // 4) % side:
            raise ValueError(f"a coarser gamma map side must divide {t // 4}, not {side}")
        if cfg.eca:
            self.eca_layers = nn.ModuleList(_ECA() for _ in w)
        if cfg.multiscale:
            self.ms_proj = nn.Linear(2 * w[-1], cfg.hidden, bias=False)
            nn.init.zeros_(self.ms_proj.weight)
        if cfg.qt_adaptive:
            self.qt_adapt = nn.Linear(6, 4)
            nn.init.zeros_(self.qt_adapt.weight)
            nn.init.zeros_(self.qt_adapt.bias)
        if cfg.noise_input:
            self.noise_proj = nn.Linear(1, cfg.hidden, bias=False)
            nn.init.zeros_(self.noise_proj.weight)
        if cfg.meta_input:
            self.meta_proj = nn.Linear(META_FEATURES, cfg.hidden, bias=False)
            nn.init.zeros_(self.meta_proj.weight)
            self.register_buffer(
                "default_meta", torch.from_numpy(meta_features(None))[None], persistent=False
            )
        if cfg.lut_basis > 1:
            if not 2 <= cfg.lut_basis <= 8 or not 1 <= cfg.lut_mix_side <= 64:
                raise ValueError("lut_basis must be 2 to 8 and lut_mix_side 1 to 64")
            self.basis_head = nn.Linear(cfg.hidden, (cfg.lut_basis - 1) * self._lut_outputs)
            nn.init.zeros_(self.basis_head.weight)
            nn.init.zeros_(self.basis_head.bias)
            self.mix_conv = nn.Conv2d(w[2], cfg.lut_basis, 1)
            nn.init.normal_(self.mix_conv.weight, std=cfg.mix_init_std)
            nn.init.zeros_(self.mix_conv.bias)
        if cfg.dct and cfg.dct_shared:
            self.head = nn.Linear(cfg.hidden, self.head.out_features - 2 * 64)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    @property
    def _lut_outputs(self) -> int:
        """Head outputs that shape one LUT: shape logits, gain corrections, headroom."""
        return 3 * self.cfg.shape_bins + 4

    # -- pieces --------------------------------------------------------------
    @staticmethod
    def _features(x: torch.Tensor) -> torch.Tensor:
        gmax = x.amax(dim=(2, 3)).clamp_min(1e-4).amax(dim=1, keepdim=True)
        xn = x / gmax[:, :, None, None]
        return torch.cat(
            [xn.clamp_min(1e-6).pow(1.0 / 2.2), (torch.log2(x + 2.0**-16) + 16.0) / 16.0], 1
        )

    def _encode(self, feats: torch.Tensor, film: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        h = feats
        k = 0
        for i, (conv, c) in enumerate(zip(self.convs, self.cfg.widths, strict=True)):
            h = F.leaky_relu(conv(h), 0.1)
            gam, bet = film[:, k : k + c], film[:, k + c : k + 2 * c]
            k += 2 * c
            h = h * (1.0 + gam[:, :, None, None]) + bet[:, :, None, None]
            if self.cfg.eca:
                h = self.eca_layers[i](h)
            outs.append(h)
        return outs

    def forward(
        self,
        thumb: torch.Tensor,
        q01: torch.Tensor,
        gain_max: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        meta: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """As :meth:`AdapterNet.forward`, plus ``noise`` (N, 1) for ``noise_input`` variants
        and ``meta`` (N, 4) for ``meta_input`` variants."""
        cfg = self.cfg
        n = thumb.shape[0]
        x = thumb.clamp(0.0, 1.0)
        cmax = x.amax(dim=(2, 3)).clamp_min(1e-4)
        cmean = x.mean(dim=(2, 3)).clamp_min(1e-5)
        feats = self._features(x)
        qe = torch.cat([q01, (1.0 - q01) ** 2, q01.sqrt()], dim=1)
        film = self.film(qe)
        outs = self._encode(feats, film)
        last = outs[-1]
        stats = torch.cat([torch.log2(cmax) / 8.0, torch.log2(cmean) / 8.0], dim=1)
        glob = torch.cat([last.mean(dim=(2, 3)), last.amax(dim=(2, 3)), stats, qe], dim=1)
        pre = self.mlp[0](glob)
        if cfg.multiscale:
            last2 = self._encode(self._features(F.avg_pool2d(x, 2)), film)[-1]
            pre = pre + self.ms_proj(torch.cat([last2.mean(dim=(2, 3)), last2.amax(dim=(2, 3))], 1))
        if cfg.noise_input:
            sigma = noise if noise is not None else torch.full_like(q01, DEFAULT_NOISE)
            pre = pre + self.noise_proj((torch.log2(sigma.clamp_min(2.0**-16)) + 8.0) / 8.0)
        if cfg.meta_input:
            m = meta if meta is not None else self.default_meta.expand(n, -1)
            pre = pre + self.meta_proj(m.clamp(-4.0, 4.0))
        hidden = self.mlp[1](pre)
        z = self.head(hidden)
        lut, gamma_glob = self._lut_from_head(z, cmax, thumb, gain_max)
        # Gamma map: logits at T/4 as in AdapterNet, then refined or pooled to the variant's side.
        base_side = cfg.thumbnail_size // 4
        side = cfg.gamma_side
        ctx = F.interpolate(
            self.gamma_ctx(last), size=(base_side, base_side), mode="bilinear", align_corners=False
        )
        gz = self.gamma_local(outs[1]) + ctx + gamma_glob[:, :, None, None] + self.gamma_bias
        if side > base_side:
            gz = F.interpolate(
                gz, size=(side, side), mode="bilinear", align_corners=False
            ) + self.gamma_fine(outs[0])
        elif side < base_side:
            gz = F.avg_pool2d(gz, base_side // side)
        gamma_map = torch.exp(_LN10 * 0.999 * torch.tanh(gz[:, 0]))
        out = {"lut": lut, "gamma_map": gamma_map}
        if cfg.lut_basis > 1:
            nl = self._lut_outputs
            deltas = self.basis_head(hidden).reshape(n, cfg.lut_basis - 1, nl)
            curves = []
            for k in range(cfg.lut_basis - 1):
                zk = torch.cat([z[:, :nl] + deltas[:, k], z[:, nl:]], dim=1)
                curves.append(self._lut_from_head(zk, cmax, thumb, gain_max)[0])
            out["lut_basis"] = torch.stack(curves, dim=1)  # (N, K-1, 3, B)
            logits = self.mix_conv(outs[2])
            if cfg.thumbnail_size // 8 != cfg.lut_mix_side:
                logits = F.interpolate(
                    logits, size=(cfg.lut_mix_side,) * 2, mode="bilinear", align_corners=False
                )
            out["lut_mix"] = torch.softmax(logits, dim=1)  # (N, K, s, s)
        if cfg.dct:
            dz = z[:, 3 * cfg.shape_bins + 5 :]
            dz = (
                dz.reshape(n, 1, 8, 8).expand(n, 3, 8, 8)
                if cfg.dct_shared
                else dz.reshape(n, 3, 8, 8)
            )
            out["dct_scale"] = torch.exp(_LN20 * 0.999 * torch.tanh(dz))
        if cfg.qt_adaptive:
            m = self.qt_adapt(stats)  # (N, 4): no quality input, so tables stay monotonic in q
            u = torch.arange(8.0, device=thumb.device)
            r = ((u[:, None] + u[None, :]) / 14.0).reshape(1, 64)
            a, b = (
                torch.tanh(m[:, 0::2])[:, :, None],
                torch.tanh(m[:, 1::2])[:, :, None],
            )  # (N, 2, 1)
            # Up to e (level) and +0.5 (ramp); down to the configured minima (identity at 0).
            level = torch.where(a > 0, a, -math.log(cfg.qt_level_min) * a)
            ramp = torch.where(b > 0, 0.5 * b, -cfg.qt_ramp_min * b)
            base = self.base_tables()[None] * torch.exp(level + ramp * r[None])
            out["qtables"] = scaled_tables(base, torch.round(q01[:, 0] * 100.0))
        else:
            out["qtables"] = self.qtables(q01[:, 0] * 100.0)
        return out


def load_partial(net: nn.Module, state: dict[str, torch.Tensor]) -> dict[str, list[str]]:
    """Load ``state`` into ``net`` where it fits; returns what was loaded, partial or new.

    A tensor whose shape differs only in its first dimension (the head growing DCT
    outputs) gets the common leading rows; the extra rows keep their (zero) init.
    """
    own = net.state_dict()
    report: dict[str, list[str]] = {"loaded": [], "partial": [], "new": [], "dropped": []}
    with torch.no_grad():
        for k, v in own.items():
            src = state.get(k)
            if src is None:
                report["new"].append(k)
            elif src.shape == v.shape:
                v.copy_(src)
                report["loaded"].append(k)
            elif src.dim() == v.dim() and src.shape[1:] == v.shape[1:]:
                m = min(src.shape[0], v.shape[0])
                v[:m].copy_(src[:m])
                report["partial"].append(k)
            else:
                report["new"].append(k)
        report["dropped"] = sorted(set(state) - set(own))
    return report
