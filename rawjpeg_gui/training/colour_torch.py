"""The camera normalisation's inverse in torch (``core/colour.py`` is the specification).

The training data holds images after :meth:`ColourChain.forward` (what the network and
the operators see at run time); the loss measures the reconstruction in linear camera
RGB, as ``rawjpeg eval`` does, so the coded image goes back through the chain's
inverse, differentiably. Each image's chain is packed by :func:`chain_constants` into
:data:`N_CONSTANTS` floats, so a batch mixes images of different cameras.
"""

from __future__ import annotations

import numpy as np
import torch

from rawjpeg_gui.core import colour

#: Floats per packed chain: toe c, shoulder c, 3x3 inverse matrix / gain, and per
#: channel (wb, knee x0, knee y0, kind, c).
N_CONSTANTS = 2 + 9 + 15
#: Stands in for an infinite rational constant (a segment that is the identity).
_BIG = 1e9


def chain_constants(chain: colour.ColourChain) -> np.ndarray:
    """Pack ``chain`` for :func:`inverse` (float64 -> float32)."""
    (toe, shoulder) = chain._clip_curves()[0]
    out = [toe._kind()[1] if toe else _BIG, shoulder._kind()[1] if shoulder else _BIG]
    m = chain.gain * np.asarray(chain.matrix, np.float64).reshape(3, 3)
    out += list(np.linalg.inv(m).ravel())
    for g, (_, seg) in zip(chain.wb, chain._wb_curves(), strict=True):
        if seg is None:
            out += [g, _BIG, _BIG, 0.0, _BIG]
        else:
            kind, c = seg._kind()
            out += [g, seg.x0, seg.y0, float(kind), c]
    return np.asarray(out, np.float32)


def _expand(u: torch.Tensor, s: torch.Tensor | float, c: torch.Tensor) -> torch.Tensor:
    return c * u / (s * c - u)


def _compress(t: torch.Tensor, s: torch.Tensor | float, c: torch.Tensor) -> torch.Tensor:
    return s * t * c / (c + t)


def inverse(y: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Display-referred linear sRGB (N, 3, H, W) -> linear camera RGB, per image chain ``k``
    (N, :data:`N_CONSTANTS`). Matches :meth:`ColourChain.inverse` to float precision."""
    n = y.shape[0]
    view = (n, 1, 1, 1)
    y = y.clamp(0.0, 1.0)
    toe_c, sh_c = k[:, 0].view(view), k[:, 1].view(view)
    toe, sh = colour.TOE, colour.SHOULDER
    u_toe = (toe - y).clamp_min(0.0)
    u_sh = (y - sh).clamp_min(0.0)
    lin = torch.where(y < toe, toe - _expand(u_toe, 1.0, toe_c), y)
    lin = torch.where(y > sh, sh + _expand(u_sh, 1.0, sh_c), lin)
    minv = k[:, 2:11].view(n, 3, 3)
    bal = torch.einsum("nij,njhw->nihw", minv, lin)
    out = []
    for c in range(3):
        g, x0, y0, kind, cc = (k[:, 11 + 5 * c + i].view(n, 1, 1) for i in range(5))
        b = bal[:, c]
        top = torch.where(kind == 0, g, torch.ones_like(g))
        b = torch.minimum(b.clamp_min(0.0), top)
        u = (b - y0).clamp_min(0.0)
        above = torch.where(kind > 0, _expand(u, g, cc), _compress(u, 1.0 / g, cc))
        x = torch.where(b <= y0, b / g, x0 + above)
        out.append(x)
    return torch.stack(out, dim=1).clamp(0.0, 1.0)
