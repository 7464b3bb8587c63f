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

from .loss import LossConfig
from .network import AdapterNet
from .train import load_checkpoint

OPSET = 17


def image_gain_cap(
    channel_max: torch.Tensor, floor: float, ceiling: float | None = None
) -> torch.Tensor:
    """Per-image LUT gain cap: ``max(floor, 1 / channel_max)``, at most ``ceiling``.

    ``1 / channel_max`` is the gain that takes the full image's brightest value of a
    channel to 1: up to it nothing enters the LUT's compressive shoulder, which the
    thumbnail (blind to small lamps) cannot promise; ``floor`` is the fixed cap that
    held before (1.5).
    """
    cap = torch.maximum(1.0 / channel_max.clamp_min(1e-6), torch.full_like(channel_max, floor))
    return cap if ceiling is None else cap.clamp(max=max(ceiling, floor))


class _Wrapper(nn.Module):
    def __init__(
        self, net: AdapterNet, gain_floor: float | None = None, gain_ceiling: float | None = None
    ) -> None:
        super().__init__()
        self.net = net
        self.gain_floor = gain_floor
        self.gain_ceiling = gain_ceiling
        mix = ["lut_basis", "lut_mix"] if getattr(net.cfg, "lut_basis", 1) > 1 else []
        self.names = (
            ["lut", "gamma_map"] + (["dct_scale"] if net.cfg.dct else []) + mix + ["qtables"]
        )

    def forward(
        self, thumbnail: torch.Tensor, quality: torch.Tensor, *extra: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """``extra``: ``channel_max`` (with a gain floor), then ``noise`` (noise models),
        then ``meta`` (metadata models), each only when the model takes it."""
        rest = list(extra)
        cap = None
        if self.gain_floor is not None:
            cap = image_gain_cap(rest.pop(0), self.gain_floor, self.gain_ceiling)
        noise = rest.pop(0) if getattr(self.net.cfg, "noise_input", False) else None
        meta = rest.pop(0) if getattr(self.net.cfg, "meta_input", False) else None
        out = self.net(thumbnail, quality, cap, noise, meta)
        return tuple(out[k] for k in self.names)


def metadata(
    net: AdapterNet,
    export_cfg: dict[str, Any],
    subsampling: str,
    gain: str = "",
    rate_weight: tuple[float, float, float] | None = None,
) -> dict[str, str]:
    """The contract's ``metadata_props`` for ``net`` (``gain``: how its LUT gain is capped;
    ``rate_weight``: the training loss's ``(rate_hi, rate_lo, rate_power)``, which turns on
    the encoder's search, :mod:`rawjpeg_gui.core.search`)."""
    c = net.cfg
    extra = {"rawjpeg.gain_cap": gain} if gain else {}
    if rate_weight is not None:
        extra["rawjpeg.rate_weight"] = ",".join(f"{v:g}" for v in rate_weight)
    return extra | {
        "rawjpeg.format": "rawjpeg-adapter",
        "rawjpeg.version": "1",
        "rawjpeg.thumbnail_size": str(c.thumbnail_size),
        "rawjpeg.lut_bins": str(c.lut_bins),
        "rawjpeg.gamma_map_size": f"{c.gamma_side}x{c.gamma_side}",
        "rawjpeg.quality_min": str(int(export_cfg.get("quality_min", 10))),
        "rawjpeg.quality_max": str(int(export_cfg.get("quality_max", 100))),
        "rawjpeg.operators": ",".join(
            ["lut"]
            + (["lutmix"] if getattr(c, "lut_basis", 1) > 1 else [])
            + (["dct"] if c.dct else [])
            + ["gamma"]
        ),
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
    gain_floor: float | None = None,
    gain_ceiling: float | None = None,
    rate_weight: tuple[float, float, float] | None = None,
) -> Path:
    """Write ``net`` as an ONNX file with the contract's inputs, outputs and metadata.

    With ``gain_floor`` the model takes the optional ``channel_max`` input and caps each
    channel's LUT gain per image (:func:`image_gain_cap`). With ``rate_weight`` (see
    :func:`metadata`) the encoder searches the model's operating points per image.
    """
    import onnx

    net = net.eval()
    wrapper = _Wrapper(net, gain_floor, gain_ceiling).eval()
    t = net.cfg.thumbnail_size
    thumb = torch.rand(1, 3, t, t) ** 2
    q = torch.tensor([[0.5]])
    args: tuple[torch.Tensor, ...] = (thumb, q)
    names = ["thumbnail", "quality"]
    gain = f"min({net.cfg.gain_max:g}, network)"
    if gain_floor is not None:
        args += (torch.tensor([[0.3, 0.6, 0.9]]),)
        names.append("channel_max")
        top = "" if gain_ceiling is None else f", {max(gain_ceiling, gain_floor):g}"
        gain = f"min(network, {net.cfg.gain_max:g}, max({gain_floor:g}, 1/channel_max){top})"
    if getattr(net.cfg, "noise_input", False):
        args += (torch.tensor([[2e-3]]),)
        names.append("noise")
    if getattr(net.cfg, "meta_input", False):
        args += (torch.tensor([[0.5, -0.7, 0.03, 0.8]]),)
        names.append("meta")
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            args,
            buf,
            input_names=names,
            output_names=wrapper.names,
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load_from_string(buf.getvalue())
    for k, v in metadata(net, export_cfg or {}, subsampling, gain, rate_weight).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def max_parity_error(
    net: AdapterNet,
    path: str | Path,
    trials: int = 4,
    gain_floor: float | None = None,
    gain_ceiling: float | None = None,
) -> float:
    """Largest |torch - onnxruntime| over the outputs on random thumbnails and qualities."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    takes_max = any(i.name == "channel_max" for i in sess.get_inputs())
    takes_noise = any(i.name == "noise" for i in sess.get_inputs())
    takes_meta = any(i.name == "meta" for i in sess.get_inputs())
    rng = np.random.default_rng(0)
    t = net.cfg.thumbnail_size
    worst = 0.0
    for i in range(trials):
        thumb = (rng.uniform(0, 1, (1, 3, t, t)) ** (1 + 3 * i) * rng.uniform(0.05, 1)).astype(
            np.float32
        )
        q = np.array([[rng.uniform(0.1, 1.0)]], np.float32)
        feeds = {"thumbnail": thumb, "quality": q}
        cap = None
        if takes_max:
            cmax = rng.uniform(0.05, 1.0, (1, 3)).astype(np.float32)
            feeds["channel_max"] = cmax
            cap = image_gain_cap(torch.from_numpy(cmax), gain_floor or 1.0, gain_ceiling)
        noise = None
        if takes_noise:
            noise = np.array([[10 ** rng.uniform(-4, -1.5)]], np.float32)
            feeds["noise"] = noise
        meta = None
        if takes_meta:
            meta = rng.uniform([-0.5, -1.0, 0.0, 0.6], [1.2, 0.2, 0.1, 0.9], (1, 4)).astype(
                np.float32
            )
            feeds["meta"] = meta
        got = dict(zip(names, sess.run(names, feeds), strict=True))
        with torch.no_grad():
            want = net(
                torch.from_numpy(thumb),
                torch.from_numpy(q),
                cap,
                None if noise is None else torch.from_numpy(noise),
                None if meta is None else torch.from_numpy(meta),
            )
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
        "--image-gain-floor",
        type=float,
        help="take the channel_max input: cap the gain per image at max(FLOOR, 1/channel_max)",
    )
    ap.add_argument("--image-gain-ceiling", type=float, help="... and never above this")
    ap.add_argument("--lut-bins", type=int, help="sample the LUT at this many knots")
    ap.add_argument(
        "--no-search",
        action="store_true",
        help="leave out the loss's rate weight: the encoder then never searches (core/search.py)",
    )
    args = ap.parse_args()
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    cfg = state.get("config", {})
    if args.config:
        from .train import load_config

        cfg = {**cfg, **{k: v for k, v in load_config(args.config).items() if k == "export"}}
    gain_max = args.gain_max or cfg.get("export", {}).get("gain_max")
    if args.image_gain_floor is not None and args.gain_max is None:
        gain_max = None  # the per-image cap replaces the config's fixed one
    net = load_checkpoint(args.checkpoint, gain_max=gain_max)
    if args.lut_bins:
        net.cfg.lut_bins = args.lut_bins  # the LUT head is sampled, not sized, by lut_bins
    sub = cfg.get("loss", {}).get("subsampling", "4:4:4")
    floor, ceiling = args.image_gain_floor, args.image_gain_ceiling
    lcfg = LossConfig(
        **{k: v for k, v in cfg.get("loss", {}).items() if k in LossConfig.__dataclass_fields__}
    )
    weight = None if args.no_search else lcfg.rate_weight
    path = export_net(net, args.output, cfg.get("export", {}), sub, floor, ceiling, weight)
    err = max_parity_error(net, path, gain_floor=floor, gain_ceiling=ceiling)
    print(f"wrote {path} ({path.stat().st_size} bytes); torch vs onnxruntime max diff {err:.2e}")


if __name__ == "__main__":
    main()
