"""Train a few steps on tiny data, export to ONNX, load it with the runtime, code a real raw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")
pytest.importorskip("onnx", reason="onnx is needed to export the model")

from rawjpeg_gui.core.errors import ModelError  # noqa: E402
from rawjpeg_gui.core.model import AdapterModel  # noqa: E402
from rawjpeg_gui.training.export import export_net, max_parity_error  # noqa: E402
from rawjpeg_gui.training.network import AdapterNet, NetConfig, count_parameters  # noqa: E402
from rawjpeg_gui.training.research.model import ResearchModel  # noqa: E402
from rawjpeg_gui.training.train import load_checkpoint, load_config, train  # noqa: E402

SHARED_RAW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "raw"
SMALL_RAW = SHARED_RAW / "dcc_kodak_dc120_p003908.kdc"


def test_default_network_size() -> None:
    cfg = load_config(
        Path(__file__).resolve().parents[2] / "rawjpeg_gui/training/configs/default.toml"
    )
    from rawjpeg_gui.training.train import net_config

    net = AdapterNet(net_config(cfg))
    assert count_parameters(net) <= 60_000


def test_outputs_valid_by_construction() -> None:
    net = AdapterNet(NetConfig(thumbnail_size=32, dct=True))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.5)
        thumb = torch.rand(4, 3, 32, 32) ** 4
        out = net(thumb, torch.tensor([[0.1], [0.5], [0.9], [1.0]]))
    lut = out["lut"]
    assert torch.all(lut[..., 1:] - lut[..., :-1] > 1.0 / 65535.0)
    assert lut.min() >= 0 and lut.max() <= 1.0 + 1e-6
    assert out["gamma_map"].min() >= 0.1 * 0.999 and out["gamma_map"].max() <= 10.0 * 1.001
    assert out["dct_scale"].min() >= 0.05 * 0.999 and out["dct_scale"].max() <= 20.0 * 1.001
    qt = out["qtables"]
    assert qt.min() >= 1 and qt.max() <= 255 and torch.equal(qt, qt.round())


def test_weight_average_is_what_the_checkpoint_exports(
    tiny_cache: Path, tmp_path: Path, make_config
) -> None:
    """With [train] ema the checkpoint's model is the average, model_raw the trained
    weights; a resume goes on from the trained weights and keeps averaging."""
    cfg = load_config(make_config(tmp_path, tiny_cache, steps=3))
    cfg["train"]["ema"] = 0.9
    run = tmp_path / "run"
    ckpt = train(cfg, run)
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    avg, raw = state["model"], state["model_raw"]
    assert avg.keys() == raw.keys()
    changed = [k for k in avg if avg[k].dtype.is_floating_point and not torch.equal(avg[k], raw[k])]
    assert changed
    net = load_checkpoint(ckpt)
    assert torch.equal(net.state_dict()[changed[0]], avg[changed[0]])
    cfg["train"]["steps"] = 4
    train(cfg, run, resume=True)
    again = torch.load(ckpt, map_location="cpu", weights_only=False)
    assert again["step"] == 4 and not torch.equal(again["model"][changed[0]], avg[changed[0]])
    del cfg["train"]["ema"]
    plain = torch.load(train(cfg, tmp_path / "plain"), map_location="cpu", weights_only=False)
    assert "model_raw" not in plain


@pytest.mark.slow
def test_train_resume_export_and_encode(tiny_cache: Path, tmp_path: Path, make_config) -> None:
    cfg_path = make_config(tmp_path, tiny_cache, steps=3)
    cfg = load_config(cfg_path)
    run = tmp_path / "run"
    ckpt = train(cfg, run)
    log = (run / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,") and len(log) == 4
    cfg["train"]["steps"] = 5
    train(cfg, run, resume=True)
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    assert state["step"] == 5

    net = load_checkpoint(ckpt)
    onnx_path = export_net(net, tmp_path / "adapter.onnx", cfg["export"], "4:4:4")
    assert max_parity_error(net, onnx_path) <= 1e-4
    assert onnx_path.stat().st_size < 2_000_000

    model = AdapterModel(onnx_path)
    assert model.info.qtables == "model" and model.info.thumbnail_size == 16
    if not SMALL_RAW.is_file():
        pytest.skip(f"real raw {SMALL_RAW} is absent")
    from rawjpeg_gui.core import codec
    from rawjpeg_gui.core.rawio import read_raw

    raw = read_raw(SMALL_RAW)
    enc = codec.encode_image(raw, 90, model)
    back = codec.decode_bytes(enc.jpeg).raw.data
    mse = float(np.mean((back.astype(np.float64) - raw.data) ** 2))
    assert -10 * np.log10(mse) > 30.0


def test_bf16_step(tiny_cache: Path, tmp_path: Path, make_config) -> None:
    cfg = load_config(make_config(tmp_path, tiny_cache, steps=1, bf16=True))
    ckpt = train(cfg, tmp_path / "run")
    assert ckpt.is_file()


def test_per_image_gain_cap_through_the_channel_max_input(tmp_path: Path) -> None:
    """An export with ``--image-gain-floor`` takes ``channel_max``; the LUT gain obeys it.

    The untrained network's gain prior is about ``1 / (4 max)`` of the thumbnail, so a dark
    thumbnail asks for a large gain: told that the full image reaches 1 in every channel
    (or not told), the runtime gets the floor; told the full image peaks at 0.1, up to 10.
    """
    net = AdapterNet(NetConfig(thumbnail_size=16)).eval()
    path = export_net(net, tmp_path / "m.onnx", {}, "4:2:0", gain_floor=1.5)
    assert max_parity_error(net, path, gain_floor=1.5) <= 1e-4
    model = ResearchModel(path)
    assert model.uses_channel_max
    thumb = np.full((16, 16, 3), 0.02, np.float32)
    knots = np.linspace(0, 1, model.info.lut_bins)

    def slope_at_zero(maxima: np.ndarray | None) -> float:
        lut = model.predict_thumbnail(thumb, 75, model.feeds(maxima)).params.lut[1]
        return float(np.interp(0.01, knots, lut) / 0.01)

    floor = slope_at_zero(None)
    assert floor == pytest.approx(slope_at_zero(np.ones(3)))
    assert floor < 1.6  # d + (1 - d) * 1.5 * S'(0) is at most ~1.5 for the identity shape
    assert slope_at_zero(np.full(3, 0.1)) > 2.5 * floor
    # The plain export has no such input, and the runtime does not offer one.
    plain = ResearchModel(export_net(net, tmp_path / "p.onnx", {}, "4:2:0"))
    assert not plain.uses_channel_max and plain.feeds(np.full(3, 0.1)) == {}
    # The core runtime refuses the research input.
    with pytest.raises(ModelError, match="inputs"):
        AdapterModel(path)
