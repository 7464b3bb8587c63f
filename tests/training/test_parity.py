"""Torch operators against the numpy specification in ``rawjpeg_gui.core.operators``."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")

from rawjpeg_gui.core import operators as ops  # noqa: E402
from rawjpeg_gui.core.params import AdapterParams  # noqa: E402
from rawjpeg_gui.training import torch_ops  # noqa: E402
from rawjpeg_gui.training.research import lutmix  # noqa: E402


def _params(rng: np.random.Generator, bins: int, dct: bool) -> AdapterParams:
    inc = rng.uniform(0.2, 1.0, (3, bins - 1))
    lut = np.concatenate([np.zeros((3, 1)), np.cumsum(inc, axis=1)], axis=1)
    lut = lut / lut[:, -1:] * rng.uniform(0.8, 1.0, (3, 1))
    gm = np.exp(rng.uniform(-0.9, 0.4, (7, 5))).astype(np.float32)
    scale = rng.uniform(0.5, 2.0, (3, 8, 8)).astype(np.float32) if dct else None
    return AdapterParams(lut.astype(np.float32), gm, scale)


def _t(a: np.ndarray | None) -> torch.Tensor | None:
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))[None]


@pytest.mark.parametrize("dct", [False, True])
@pytest.mark.parametrize("shape", [(40, 56), (37, 29)])
def test_forward_inverse_match_numpy(dct: bool, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    p = _params(rng, 33, dct)
    raw = rng.uniform(0.0, 1.0, (*shape, 3)).astype(np.float32) ** 2
    want = ops.forward(raw, p)
    x = torch.from_numpy(raw.transpose(2, 0, 1).copy())[None]
    got = torch_ops.forward(x, _t(p.lut), _t(p.gamma_map), _t(p.dct_scale))
    got = got[0].numpy().transpose(1, 2, 0)
    assert np.abs(got - want).max() <= 1e-5

    coded = np.clip(want + rng.normal(0.0, 0.01, want.shape).astype(np.float32), 0.0, 1.0)
    want_back = ops.inverse(coded, p)
    y = torch.from_numpy(coded.transpose(2, 0, 1).copy())[None]
    back = torch_ops.inverse(y, _t(p.lut), _t(p.gamma_map), _t(p.dct_scale))
    back = back[0].numpy().transpose(1, 2, 0)
    assert np.abs(back - want_back).max() <= 1e-5


def test_round_trip_is_identity() -> None:
    rng = np.random.default_rng(2)
    p = _params(rng, 129, True)
    raw = rng.uniform(0.0, 1.0, (3, 48, 64)).astype(np.float32)
    x = torch.from_numpy(raw)[None]
    args = (_t(p.lut), _t(p.gamma_map), _t(p.dct_scale))
    back = torch_ops.inverse(torch_ops.forward(x, *args), *args)
    assert torch.allclose(back, x, atol=2e-4)


def test_gradients_flow() -> None:
    rng = np.random.default_rng(3)
    p = _params(rng, 17, False)
    lut = _t(p.lut).clone().requires_grad_(True)
    gm = _t(p.gamma_map).clone().requires_grad_(True)
    x = torch.rand(2, 3, 16, 16)
    y = torch_ops.forward(x, lut.expand(2, -1, -1), gm.expand(2, -1, -1))
    back = torch_ops.inverse(y + 0.01, lut.expand(2, -1, -1), gm.expand(2, -1, -1))
    back.sum().backward()
    assert lut.grad is not None and torch.isfinite(lut.grad).all()
    assert gm.grad is not None and torch.isfinite(gm.grad).all() and gm.grad.abs().sum() > 0


def test_crop_gamma_matches_full_upsampling() -> None:
    gm = torch.rand(2, 7, 5) + 0.5
    full = torch_ops.upsample_gamma(gm, 100, 84)
    off = torch.tensor([[16.0, 8.0], [40.0, 52.0]])
    size = torch.tensor([[100.0, 84.0], [100.0, 84.0]])
    crop = torch_ops.crop_gamma(gm, off, size, 32, 24)
    for i in range(2):
        y, x = int(off[i, 0]), int(off[i, 1])
        assert torch.allclose(crop[i], full[i, :, y : y + 32, x : x + 24], atol=1e-5)


@pytest.mark.parametrize("curves", [2, 4])
def test_spatially_varying_lut_matches_numpy(curves: int) -> None:
    """apply/invert_lut_mix (with weights cropped for a patch) against the specification."""
    rng = np.random.default_rng(curves)
    luts = np.stack([_params(rng, 33, False).lut for _ in range(curves)])
    mix = rng.random((curves, 6, 6)).astype(np.float32)
    mix /= mix.sum(axis=0, keepdims=True)
    full_h, full_w, y0, x0, h, w = 96, 80, 16, 24, 40, 32
    raw = rng.uniform(0.0, 1.0, (h, w, 3)).astype(np.float32) ** 2
    weights = lutmix.mix_weights(mix, full_h, full_w)[:, y0 : y0 + h, x0 : x0 + w]
    want = lutmix.apply_lut_mix(raw, luts, weights)
    t_luts = torch.from_numpy(luts)[None]
    t_w = torch_ops.crop_maps(
        torch.from_numpy(mix)[None],
        torch.tensor([[y0, x0]]),
        torch.tensor([[full_h, full_w]]),
        h,
        w,
    )
    x = torch.from_numpy(raw.transpose(2, 0, 1).copy())[None]
    got = torch_ops.apply_lut_mix(x, t_luts, t_w)
    assert np.abs(got[0].numpy().transpose(1, 2, 0) - want).max() < 1e-5
    y = np.clip(want + rng.normal(0, 0.01, want.shape).astype(np.float32), 0, 1)
    back = torch_ops.invert_lut_mix(
        torch.from_numpy(y.transpose(2, 0, 1).copy())[None], t_luts, t_w
    )
    assert (
        np.abs(back[0].numpy().transpose(1, 2, 0) - lutmix.invert_lut_mix(y, luts, weights)).max()
        < 1e-5
    )
    # Differentiable in the curves and the weights (the inverse included).
    t_luts.requires_grad_(True)
    t_w.requires_grad_(True)
    torch_ops.invert_lut_mix(
        torch_ops.apply_lut_mix(x, t_luts, t_w) * 0.9, t_luts, t_w
    ).sum().backward()
    assert float(t_luts.grad.abs().sum()) > 0 and float(t_w.grad.abs().sum()) > 0
