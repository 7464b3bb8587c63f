"""Quick real-JPEG rate-distortion evaluation of an adapter (Pillow, numpy operators).

For each quality: the adapter (forward -> JPEG with the model's tables -> inverse),
JPEG of the gamma-1/2.2 image (IJG tables) and JPEG of the linear image (IJG
tables). PSNR and bits per pixel are measured on the linear raw in [0, 1]; the
Bjontegaard rate difference summarises each curve pair.

Usage: ``python -m rawjpeg_gui.training.evaluate MODEL.onnx RAW ... [-q 10,20,...] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence

import numpy as np

from rawjpeg_gui.core import operators
from rawjpeg_gui.core.metrics import bd_rate, psnr
from rawjpeg_gui.core.params import AdapterParams

from .jpeg_sim import jpeg_pillow

Predictor = Callable[[np.ndarray, int], tuple[AdapterParams, np.ndarray | None]]


def rd_curves(
    raw: np.ndarray,
    predict: Predictor,
    qualities: Sequence[int],
    subsampling: str = "4:4:4",
    baseline_subsampling: str = "4:2:0",
) -> dict[str, dict[str, list[float]]]:
    """bpp and PSNR per quality for the adapter and both baselines."""
    npx = raw.shape[0] * raw.shape[1]
    out: dict[str, dict[str, list[float]]] = {
        k: {"bpp": [], "psnr": []} for k in ("adapter", "gamma", "linear")
    }
    gam = np.power(raw, 1.0 / 2.2)
    for q in qualities:
        params, tables = predict(raw, q)
        adapted = operators.forward(raw, params)
        dec, bits = jpeg_pillow(adapted, tables, q, subsampling)
        rec = operators.inverse(dec, params)
        out["adapter"]["bpp"].append(bits / npx)
        out["adapter"]["psnr"].append(psnr(rec, raw))
        dec, bits = jpeg_pillow(gam, None, q, baseline_subsampling)
        out["gamma"]["bpp"].append(bits / npx)
        out["gamma"]["psnr"].append(psnr(np.power(dec, 2.2), raw))
        dec, bits = jpeg_pillow(raw, None, q, baseline_subsampling)
        out["linear"]["bpp"].append(bits / npx)
        out["linear"]["psnr"].append(psnr(dec, raw))
    return out


def summarise(curves: dict[str, dict[str, list[float]]]) -> dict[str, float | bool]:
    """BD-rates of the adapter against both baselines and the monotonicity check."""
    a, g, li = curves["adapter"], curves["gamma"], curves["linear"]
    mono = bool(np.all(np.diff(a["bpp"]) > 0) and np.all(np.diff(a["psnr"]) > 0))
    return {
        "bd_vs_gamma": bd_rate(g["bpp"], g["psnr"], a["bpp"], a["psnr"]),
        "bd_vs_linear": bd_rate(li["bpp"], li["psnr"], a["bpp"], a["psnr"]),
        "monotonic": mono,
    }


def onnx_predictor(path: str) -> Predictor:
    """A predictor backed by the runtime's :class:`AdapterModel`."""
    from rawjpeg_gui.core.model import AdapterModel

    model = AdapterModel(path)

    def predict(raw: np.ndarray, q: int) -> tuple[AdapterParams, np.ndarray | None]:
        pred = model.predict(raw, q)
        return pred.params, pred.qtables

    return predict


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: evaluate an ONNX model on raw files."""
    from rawjpeg_gui.core.model import AdapterModel
    from rawjpeg_gui.core.rawio import read_raw

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model")
    ap.add_argument("raw", nargs="+")
    ap.add_argument("-q", "--qualities", default=",".join(str(q) for q in range(10, 101, 5)))
    ap.add_argument("--crop", type=int, default=0, help="evaluate a centre crop of this side")
    ap.add_argument("--baseline-subsampling", default="4:2:0")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    qs = [int(v) for v in args.qualities.split(",")]
    sub = AdapterModel(args.model).info.subsampling
    predict = onnx_predictor(args.model)
    results = {}
    for f in args.raw:
        raw = read_raw(f).data
        if args.crop:
            h, w = raw.shape[:2]
            c = args.crop
            raw = np.ascontiguousarray(
                raw[(h - c) // 2 : (h + c) // 2, (w - c) // 2 : (w + c) // 2]
            )
        curves = rd_curves(raw, predict, qs, sub, args.baseline_subsampling)
        s = summarise(curves)
        results[f] = {"curves": curves, **s}
        print(
            f"{f}: BD vs gamma {s['bd_vs_gamma']:+.1f}%  vs linear {s['bd_vs_linear']:+.1f}%"
            f"  monotonic {s['monotonic']}",
            flush=True,
        )
    bds = [r["bd_vs_gamma"] for r in results.values()]
    print(f"mean BD vs gamma {np.mean(bds):+.1f}%")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"qualities": qs, "files": results}, fh, indent=1)


if __name__ == "__main__":
    main()
