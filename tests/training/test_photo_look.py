"""Training for the photo look: normalised cache, the chain's torch inverse, the loss,
the ONNX warm start and the model's declared look, end to end on a real raw."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from realdata import SHARED_RAW, require

torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")

from rawjpeg_gui.core import jpeg  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402
from rawjpeg_gui.training import colour_torch  # noqa: E402
from rawjpeg_gui.training.data import PatchCache, build_cache, sample_batch, synthetic_photo  # noqa: E402
from rawjpeg_gui.training.research import photolook  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["imagemeta_canon.crw", "dcc_canon_g2_0304.crw"])
def test_torch_inverse_matches_the_numpy_chain_on_real_raws(name):
    raw = read_raw(require(SHARED_RAW / name))
    crop = raw.data[:256, :256]
    chain = photolook.chain_for(raw.data, raw.meta)
    y = chain.forward(crop)
    k = torch.from_numpy(colour_torch.chain_constants(chain))[None]
    back = (
        colour_torch.inverse(torch.from_numpy(y).permute(2, 0, 1)[None], k)[0]
        .permute(1, 2, 0)
        .numpy()
    )
    assert np.max(np.abs(back - chain.inverse(y))) < 1e-4
    assert np.max(np.abs(back - crop)) < 1e-4


def test_normalised_cache_and_photo_loss(tmp_path):
    photos = [("synthetic", synthetic_photo())]
    cache = build_cache(
        [], patch=48, thumb=16, per_photo=4, photo_variants=2, photos=photos, normalise=True
    )
    assert cache.chains is not None and cache.chains.shape == (2, colour_torch.N_CONSTANTS)
    cache.save(tmp_path / "c.npz")
    cache = PatchCache.load(tmp_path / "c.npz")
    assert cache.chains is not None
    batch = sample_batch(cache, 3, np.random.default_rng(0), crop=32)
    assert batch["chain"].shape == (3, colour_torch.N_CONSTANTS)

    from rawjpeg_gui.training.colour_loss import photo_loss
    from rawjpeg_gui.training.loss import LossConfig
    from rawjpeg_gui.training.network import AdapterNet, NetConfig

    net = AdapterNet(
        NetConfig(thumbnail_size=16, lut_bins=33, shape_bins=8, widths=(8, 8, 8, 8), hidden=8)
    )
    t = {k: torch.from_numpy(v) for k, v in batch.items()}
    out = net(t["thumb"], (t["quality"] / 100)[:, None])
    loss, parts = photo_loss(out, t, LossConfig(), look_weight=0.1)
    loss.backward()
    assert np.isfinite(parts["loss"]) and parts["look"] > 0
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in net.parameters())


def test_warm_start_from_the_shipped_onnx_reproduces_its_weights():
    from rawjpeg_gui.training.network import AdapterNet
    from rawjpeg_gui.training.train import load_config, net_config, onnx_state_dict

    cfg = load_config(ROOT / "rawjpeg_gui" / "training" / "configs" / "photo.toml")
    net = AdapterNet(net_config(cfg))
    state = onnx_state_dict(ROOT / "models" / "adapter.onnx", net)
    net.load_state_dict(state)
    assert set(state) == set(net.state_dict())


def test_model_look_tag_switches_the_encoder(tmp_path):
    from rawjpeg_gui.core.model import AdapterModel

    src = ROOT / "models" / "analytic-gamma22.onnx"
    tagged = tmp_path / "photo.onnx"
    tagged.write_bytes(src.read_bytes())
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "tag_model_look.py"), str(tagged), "photo"],
        check=True,
    )
    model = AdapterModel(tagged)
    assert model.info.look == "photo" and AdapterModel(src).info.look == "raw"
    raw = read_raw(require(SHARED_RAW / "dcc_kodak_dc120_p003911.kdc"))
    enc = photolook.encode_image(raw, 80, model, searched=False)
    assert (
        enc.chain is not None
        and photolook.decode_segment(jpeg.find_segment(enc.jpeg))[1] == enc.chain
    )
    assert photolook.encode_image(raw, 80, AdapterModel(src), searched=False).chain is None
