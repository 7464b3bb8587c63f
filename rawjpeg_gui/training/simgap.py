"""Measure how far the JPEG simulator is from Pillow's real JPEG on adapted real raws.

Usage: ``python -m rawjpeg_gui.training.simgap MODEL.onnx RAW ... [--crop 512]``.
For each file and quality: PSNR (on the 8-bit adapted image) of Pillow's decode and
of the simulator's, and the bits of each (Pillow with optimised Huffman tables).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from rawjpeg_gui.core import operators
from rawjpeg_gui.core.metrics import psnr

from .evaluate import onnx_predictor
from .jpeg_sim import jpeg_pillow, simulate


def main() -> None:
    """Print a table of the simulator-vs-Pillow gaps."""
    from rawjpeg_gui.core.model import AdapterModel
    from rawjpeg_gui.core.rawio import read_raw

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model")
    ap.add_argument("raw", nargs="+")
    ap.add_argument("-q", "--qualities", default="10,30,50,75,90,100")
    ap.add_argument("--crop", type=int, default=512)
    args = ap.parse_args()
    sub = AdapterModel(args.model).info.subsampling
    predict = onnx_predictor(args.model)
    gaps, ratios = [], []
    print("file quality psnr_pillow psnr_sim gap_db bits_pillow bits_sim ratio")
    for f in args.raw:
        raw = read_raw(f).data
        h, w = raw.shape[:2]
        c = min(args.crop, h, w) // 16 * 16
        raw = np.ascontiguousarray(
            raw[(h - c) // 2 : (h - c) // 2 + c, (w - c) // 2 : (w - c) // 2 + c]
        )
        for q in (int(v) for v in args.qualities.split(",")):
            params, tables = predict(raw, q)
            adapted = np.clip(operators.forward(raw, params), 0.0, 1.0)
            a8 = np.round(adapted * 255.0) / 255.0
            dec, bits = jpeg_pillow(adapted, tables, q, sub)
            x = torch.from_numpy(adapted.transpose(2, 0, 1).copy())[None]
            t = torch.from_numpy(np.asarray(tables, np.float32))[None]
            with torch.no_grad():
                sim, sbits = simulate(x, t, sub)
            sim = sim[0].numpy().transpose(1, 2, 0)
            p1, p2 = psnr(dec, a8), psnr(sim, a8)
            gaps.append(p2 - p1)
            ratios.append(float(sbits[0]) / bits)
            print(
                f"{f.split('/')[-1]} {q} {p1:.2f} {p2:.2f} {p2 - p1:+.2f} {bits} {float(sbits[0]):.0f}"
                f" {ratios[-1]:.2f}"
            )
    print(
        f"mean |gap| {np.mean(np.abs(gaps)):.2f} dB (max {np.max(np.abs(gaps)):.2f});"
        f" bits ratio sim/pillow mean {np.mean(ratios):.2f} (min {np.min(ratios):.2f},"
        f" max {np.max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
