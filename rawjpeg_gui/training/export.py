"""Export a trained checkpoint to the ONNX model contract of ``rawjpeg_gui.core.model``.

Usage: ``python -m rawjpeg_gui.training.export CHECKPOINT -o models/adapter.onnx``.
Opset 17, static shapes (batch 1), the TorchScript-based exporter; the contract's
``rawjpeg.*`` metadata is written from the checkpoint's config.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .network import AdapterNet
from .train import load_checkpoint

OPSET = 17


class _Wrapper(nn.Module):
    def __init__(self, net: AdapterNet) -> None:
        super().__init__()
        self.net = net
        self.names = ["lut", "gamma_map"] + (["dct_scale"] if net.cfg.dct else []) + ["qtables"]

    def forward(self, thumbnail: torch.Tensor, quality: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net(thumbnail, quality)
        return tuple(out[k] for k in self.names)


def metadata(net: AdapterNet, export_cfg: dict[str, Any], subsampling: str) -> dict[str, str]:
    """The contract's ``metadata_props`` for ``net``."""
    c = net.cfg
    return {
        "rawjpeg.format": "rawjpeg-adapter",
        "rawjpeg.version": "1",
        "rawjpeg.thumbnail_size": str(c.thumbnail_size),
        "rawjpeg.lut_bins": str(c.lut_bins),
        "rawjpeg.gamma_map_size": f"{c.gamma_side}x{c.gamma_side}",
        "rawjpeg.quality_min": str(int(export_cfg.get("quality_min", 10))),
        "rawjpeg.quality_max": str(int(export_cfg.get("quality_max", 100))),
        "rawjpeg.operators": "lut,dct,gamma" if c.dct else "lut,gamma",
        "rawjpeg.qtables": "model",
        "rawjpeg.subsampling": subsampling,
        "rawjpeg.name": str(export_cfg.get("name", "rawjpeg-adapter")),
        "rawjpeg.description": str(export_cfg.get("description", "")),
    }


def export_net(
    net: AdapterNet,
    path: str | Path,
    export_cfg: dict[str, Any] | None = None,
    subsampling: str = "4:4:4",
) -> Path:
    """Write ``net`` as an ONNX file with the contract's inputs, outputs and metadata."""
    import onnx

    net = net.eval()
    wrapper = _Wrapper(net).eval()
    t = net.cfg.thumbnail_size
    thumb = torch.rand(1, 3, t, t) ** 2
    q = torch.tensor([[0.5]])
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (thumb, q),
            buf,
            input_names=["thumbnail", "quality"],
            output_names=wrapper.names,
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load_from_string(buf.getvalue())
    for k, v in metadata(net, export_cfg or {}, subsampling).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def max_parity_error(net: AdapterNet, path: str | Path, trials: int = 4) -> float:
    """Largest |torch - onnxruntime| over the outputs on random thumbnails and qualities."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    rng = np.random.default_rng(0)
    t = net.cfg.thumbnail_size
    worst = 0.0
    for i in range(trials):
        thumb = (rng.uniform(0, 1, (1, 3, t, t)) ** (1 + 3 * i) * rng.uniform(0.05, 1)).astype(np.float32)
        q = np.array([[rng.uniform(0.1, 1.0)]], np.float32)
        got = dict(zip(names, sess.run(names, {"thumbnail": thumb, "quality": q}), strict=True))
        with torch.no_grad():
            want = net(torch.from_numpy(thumb), torch.from_numpy(q))
        for k in names:
            worst = max(worst, float(np.abs(got[k] - want[k].numpy()).max()))
    return worst


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(prog="python -m rawjpeg_gui.training.export", description=__doc__)
    ap.add_argument("checkpoint")
    ap.add_argument("-o", "--output", default="models/adapter.onnx")
    ap.add_argument("--config", help="take [export] (and its gain_max) from this TOML instead")
    ap.add_argument("--gain-max", type=float, help="cap the LUT gain at export (see MODEL_CARD.md)")
    ap.add_argument(
        "--lut-bins", type=int, help="sample the LUT at this many knots (models/ABLATIONS.md: 64 wins)"
    )
    args = ap.parse_args()
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    cfg = state.get("config", {})
    if args.config:
        from .train import load_config

        cfg = {**cfg, **{k: v for k, v in load_config(args.config).items() if k == "export"}}
    gain_max = args.gain_max or cfg.get("export", {}).get("gain_max")
    net = load_checkpoint(args.checkpoint, gain_max=gain_max)
    if args.lut_bins:
        net.cfg.lut_bins = args.lut_bins  # the LUT head is sampled, not sized, by lut_bins
    sub = cfg.get("loss", {}).get("subsampling", "4:4:4")
    path = export_net(net, args.output, cfg.get("export", {}), sub)
    err = max_parity_error(net, path)
    print(f"wrote {path} ({path.stat().st_size} bytes); torch vs onnxruntime max diff {err:.2e}")


if __name__ == "__main__":
    main()
