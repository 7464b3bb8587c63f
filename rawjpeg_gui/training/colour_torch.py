"""The photo look's inverse in torch (``research/photolook.py`` is the specification).

The training data holds images after :meth:`PhotoChain.forward` (what the network and
the operators see at run time); the loss measures the reconstruction in linear camera
RGB, as ``rawjpeg eval`` does, so the coded image goes back through the chain's
inverse, differentiably. Each image's chain is packed by :func:`chain_constants` into
:data:`N_CONSTANTS` floats, so a batch mixes images of different cameras.
"""

from __future__ import annotations

import numpy as np
import torch

from .research.photolook import SHOULDER, TOE, PhotoChain

#: Floats per packed chain: toe (flag, a, c), shoulder (flag, a, c), 3x3 inverse
#: matrix / gain, and per channel (wb, knee x0, knee y0, kind, a, c).
N_CONSTANTS = 6 + 9 + 18


def chain_constants(chain: PhotoChain) -> np.ndarray:
    """Pack ``chain`` for :func:`inverse` (float64 -> float32)."""
    (toe, shoulder) = chain._clip_curves()[0]
    out: list[float] = []
    for seg in (toe, shoulder):
        out += [1.0, *seg._kind()[1:]] if seg else [0.0, 1.0, 1.0]
    m = chain.gain * np.asarray(chain.matrix, np.float64).reshape(3, 3)
    out += list(np.linalg.inv(m).ravel())
    for g, (_, seg) in zip(chain.wb, chain._wb_curves(), strict=True):
        if seg is None:
            out += [g, 2.0, 2.0 * g, 0.0, 1.0, 1.0]
        else:
            kind, a, c = seg._kind()
            out += [g, seg.x0, seg.y0, float(kind), a, c]
    return np.asarray(out, np.float32)


def _compress(
    t: torch.Tensor, s: torch.Tensor | float, a: torch.Tensor, c: torch.Tensor
) -> torch.Tensor:
    return a * t + (s - a) * t * c / (c + t)


def _expand(
    u: torch.Tensor, s: torch.Tensor | float, a: torch.Tensor, c: torch.Tensor
) -> torch.Tensor:
    b = s * c - u
    return 2.0 * u * c / (b + torch.sqrt(b * b + 4.0 * a * u * c))


def inverse(y: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Display-referred linear sRGB (N, 3, H, W) -> linear camera RGB, per image chain ``k``
    (N, :data:`N_CONSTANTS`). Matches :meth:`PhotoChain.inverse` to float precision."""
    n = y.shape[0]
    view = (n, 1, 1, 1)
    y = y.clamp(0.0, 1.0)
    has_toe, toe_a, toe_c, has_sh, sh_a, sh_c = (k[:, i].view(view) for i in range(6))
    toe, sh = TOE, SHOULDER
    u_toe = (toe - y).clamp_min(0.0)
    u_sh = (y - sh).clamp_min(0.0)
    lin = torch.where((y < toe) & (has_toe > 0), toe - _expand(u_toe, 1.0, toe_a, toe_c), y)
    lin = torch.where((y > sh) & (has_sh > 0), sh + _expand(u_sh, 1.0, sh_a, sh_c), lin)
    minv = k[:, 6:15].view(n, 3, 3)
    bal = torch.einsum("nij,njhw->nihw", minv, lin)
    out = []
    for ch in range(3):
        g, x0, y0, kind, a, c = (k[:, 15 + 6 * ch + i].view(n, 1, 1) for i in range(6))
        b = bal[:, ch]
        top = torch.where(kind == 0, g, torch.ones_like(g))
        b = torch.minimum(b.clamp_min(0.0), top)
        u = (b - y0).clamp_min(0.0)
        above = torch.where(kind > 0, _expand(u, g, a, c), _compress(u, 1.0 / g, a, c))
        out.append(torch.where((b <= y0) | (kind == 0), b / g, x0 + above))
    return torch.stack(out, dim=1).clamp(0.0, 1.0)
