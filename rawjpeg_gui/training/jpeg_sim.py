"""A differentiable simulation of baseline JPEG (libjpeg/Pillow) with a bit-rate estimate.

Pipeline, as libjpeg does it: 8-bit input, RGB -> YCbCr (JFIF full range, rounded
to integers), optional 4:2:0 chroma subsampling, level shift, 8x8 DCT,
quantisation by the tables, dequantisation, inverse DCT, clipping, YCbCr -> RGB,
8-bit output. Rounding uses a straight-through estimator (exact value forward,
identity gradient backward). The bit estimate is a smooth function of the scaled
DCT coefficients, fitted to Pillow's real file sizes (see ``MODEL_CARD.md``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .torch_ops import dct_matrix

#: ITU-T T.81 Annex K luminance table, natural (row-major) order.
IJG_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
#: ITU-T T.81 Annex K chrominance table, natural order.
IJG_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip

#: Bit-estimate coefficients (per coefficient log2 magnitude, per non-zero, per block).
RATE_LOG = 1.44
RATE_NONZERO = 2.89
RATE_BLOCK = 0.0

_RGB2YCC = (
    (0.299, 0.587, 0.114),
    (-0.168735892, -0.331264108, 0.5),
    (0.5, -0.418687589, -0.081312411),
)
_YCC2RGB = ((1.0, 0.0, 1.402), (1.0, -0.344136286, -0.714136286), (1.0, 1.772, 0.0))


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """Round to the nearest integer forward; pass the gradient straight through."""
    return x + (torch.round(x) - x).detach()


def floor_ste(x: torch.Tensor) -> torch.Tensor:
    """Floor forward; identity gradient backward."""
    return x + (torch.floor(x) - x).detach()


def ijg_scale(quality: torch.Tensor) -> torch.Tensor:
    """libjpeg's quality scaling factor in percent (5000/q below 50, 200-2q above).

    libjpeg divides integers, so below 50 the factor is ``floor(5000 / q)``.
    """
    q = quality.clamp(1.0, 100.0)
    return torch.where(q < 50, torch.floor(5000.0 / q), 200.0 - 2.0 * q)


def scaled_tables(base: torch.Tensor, quality: torch.Tensor, ste: bool = True) -> torch.Tensor:
    """libjpeg's ``jpeg_quality_scaling``: ``clamp(floor((base*scale+50)/100), 1, 255)``.

    Args:
        base: (..., 2, 64) base tables (IJG's or learned), any positive reals.
        quality: (N,) JPEG quality 1..100.
        ste: use straight-through floor so the base gets gradients.

    Returns:
        (N, 2, 64) tables; each entry is non-increasing in quality.
    """
    s = ijg_scale(quality).reshape(-1, 1, 1)
    t = (base * s + 50.0) / 100.0
    t = floor_ste(t) if ste else torch.floor(t)
    return t.clamp(1.0, 255.0)


def ijg_tables(quality: torch.Tensor) -> torch.Tensor:
    """Standard IJG tables at each quality, (N, 2, 64)."""
    base = torch.tensor([IJG_LUMA, IJG_CHROMA], dtype=torch.float32, device=quality.device)
    return scaled_tables(base, quality, ste=False)


def _color(x: torch.Tensor, mat: tuple[tuple[float, ...], ...]) -> torch.Tensor:
    m = torch.tensor(mat, dtype=x.dtype, device=x.device)
    return torch.einsum("ij,njhw->nihw", m, x)


def _blocks(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 8, 8, w // 8, 8).transpose(3, 4)


def _unblocks(b: torch.Tensor) -> torch.Tensor:
    n, c, bh, bw = b.shape[:4]
    return b.transpose(3, 4).reshape(n, c, bh * 8, bw * 8)


def _pad(x: torch.Tensor, mult: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    ph, pw = (-h) % mult, (-w) % mult
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x


def _code_plane(
    x: torch.Tensor, table: torch.Tensor, m: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantise one group of planes (N, C, H, W), level-shifted; return decoded planes and bits."""
    coef = m @ _blocks(x) @ m.T
    q = table.reshape(-1, 1, 1, 1, 8, 8)
    y = coef / q
    yq = round_ste(y)
    # Bits: AC magnitudes and non-zeros, DC differences along block rows, and a per-block cost.
    mag = y.abs()
    nonzero = torch.sigmoid((mag - 0.5) * 8.0)
    ac_log = torch.log2(1.0 + mag).sum(dim=(-1, -2)) - torch.log2(1.0 + mag[..., 0, 0])
    ac_nz = nonzero.sum(dim=(-1, -2)) - nonzero[..., 0, 0]
    dc = y[..., 0, 0]
    ddc = torch.cat([dc[..., :1], dc[..., 1:] - dc[..., :-1]], dim=-1).abs()
    bits = RATE_LOG * (ac_log + torch.log2(1.0 + ddc)) + RATE_NONZERO * (ac_nz + 0.5) + RATE_BLOCK
    rec = _unblocks(m.T @ (yq * q) @ m)
    return rec, bits.sum(dim=(1, 2, 3))


def simulate(
    img: torch.Tensor, tables: torch.Tensor, subsampling: str = "4:4:4"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Simulate JPEG coding of an (N, 3, H, W) RGB image in [0, 1].

    Args:
        img: the image to code (values outside [0, 1] are clipped, as by an encoder).
        tables: (N, 2, 64) luma and chroma quantisation tables, natural order.
        subsampling: "4:4:4" or "4:2:0".

    Returns:
        (decoded image in [0, 1] on the 8-bit grid, estimated bits per image (N,)).
    """
    n, _, h, w = img.shape
    m = dct_matrix(img.device, img.dtype)
    x8 = round_ste(img.clamp(0.0, 1.0) * 255.0)
    ycc = round_ste(
        _color(x8, _RGB2YCC)
        + torch.tensor([0.0, 128.0, 128.0], device=img.device).reshape(1, 3, 1, 1)
    )
    ycc = ycc.clamp(0.0, 255.0) - 128.0
    if subsampling == "4:2:0":
        ycc = _pad(ycc, 16)
        y_rec, y_bits = _code_plane(ycc[:, :1], tables[:, 0], m)
        ch = round_ste(F.avg_pool2d(ycc[:, 1:], 2))
        c_rec, c_bits = _code_plane(ch, tables[:, 1], m)
        c_rec = F.interpolate(c_rec, scale_factor=2, mode="bilinear", align_corners=False)
        rec = torch.cat([y_rec, c_rec], dim=1)
    else:
        ycc = _pad(ycc, 8)
        y_rec, y_bits = _code_plane(ycc[:, :1], tables[:, 0], m)
        c_rec, c_bits = _code_plane(ycc[:, 1:], tables[:, 1], m)
        rec = torch.cat([y_rec, c_rec], dim=1)
    rec = round_ste(rec[..., :h, :w] + 128.0).clamp(0.0, 255.0)
    rec = rec - torch.tensor([0.0, 128.0, 128.0], device=img.device).reshape(1, 3, 1, 1)
    rgb = round_ste(_color(rec, _YCC2RGB)).clamp(0.0, 255.0)
    return rgb / 255.0, y_bits + c_bits


def jpeg_pillow(img, tables=None, quality: int = 75, subsampling: str = "4:4:4"):  # type: ignore[no-untyped-def]
    """Real JPEG with Pillow for an HxWx3 float image in [0, 1]; returns (decoded, bits).

    ``tables`` is an optional (2, 64) natural-order array; otherwise IJG at ``quality``.
    """
    import io

    import numpy as np
    from PIL import Image

    arr = np.clip(np.round(np.asarray(img, np.float64) * 255.0), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    sub = {"4:4:4": 0, "4:2:0": 2}[subsampling]
    kw: dict = {"subsampling": sub, "optimize": True}
    if tables is not None:
        t = np.clip(np.round(np.asarray(tables)), 1, 255).astype(int)
        kw["qtables"] = [list(t[0]), list(t[1])]
    else:
        kw["quality"] = int(quality)
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    data = buf.getvalue()
    dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32) / 255.0
    return dec, 8 * len(data)
