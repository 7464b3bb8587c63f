"""The differentiable JPEG simulator against Pillow's real JPEG."""

from __future__ import annotations

import io

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")

from PIL import Image  # noqa: E402

from rawjpeg_gui.training import jpeg_sim  # noqa: E402
from rawjpeg_gui.training.data import synthetic_photo  # noqa: E402


def _photo(size: int) -> np.ndarray:
    return synthetic_photo(size, size, seed=3)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(-10 * np.log10(np.mean((a.astype(np.float64) - b) ** 2) + 1e-12))


def test_ijg_tables_match_pillow() -> None:
    img = Image.fromarray((_photo(64) * 255).astype(np.uint8))
    for q in (5, 10, 37, 50, 75, 95, 100):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q, subsampling=0)
        tables = Image.open(io.BytesIO(buf.getvalue())).quantization
        ours = jpeg_sim.ijg_tables(torch.tensor([float(q)]))[0].numpy()
        # Pillow reports zigzag or natural order depending on version: compare as sets per table.
        for i in (0, 1):
            assert sorted(tables[i]) == sorted(int(v) for v in ours[i])


def test_tables_never_grow_with_quality() -> None:
    base = torch.rand(2, 64) * 100 + 1
    t = jpeg_sim.scaled_tables(base, torch.arange(1.0, 101.0), ste=False)
    assert torch.all(t[1:] <= t[:-1])


@pytest.mark.parametrize("sub", ["4:4:4", "4:2:0"])
def test_simulator_close_to_pillow(sub: str) -> None:
    img = _photo(128)
    x = torch.from_numpy(img.transpose(2, 0, 1).copy())[None]
    for q in (10, 50, 90):
        tables = jpeg_sim.ijg_tables(torch.tensor([float(q)]))
        sim, bits = jpeg_sim.simulate(x, tables, sub)
        sim = sim[0].numpy().transpose(1, 2, 0)
        real, real_bits = jpeg_sim.jpeg_pillow(img, tables[0].numpy(), q, sub)
        gap = abs(_psnr(sim, img) - _psnr(real, img))
        assert gap < (0.1 if sub == "4:4:4" else 1.0), (q, gap)
        assert 0.6 < float(bits[0]) / real_bits < 1.6


def test_simulator_gradients() -> None:
    x = torch.rand(2, 3, 16, 24, requires_grad=True)
    tables = jpeg_sim.ijg_tables(torch.tensor([30.0, 80.0]))
    dec, bits = jpeg_sim.simulate(x, tables)
    (dec.sum() + bits.sum()).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
