"""Chroma subsampling by rate-distortion: 4:2:0 against 4:4:4 on the real raws.

For each raw and quality, codes the adapted image of the given model with both
subsamplings and measures bits per pixel (whole file) and PSNR on the linear
image; prints the BD-rate of 4:2:0 against 4:4:4 per file and on average
(negative: 4:2:0 needs fewer bits for the same PSNR).

Usage: python benchmarks/subsampling_rd.py [--model models/adapter.onnx] [RAW ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.core import codec, jpeg, metrics, operators  # noqa: E402
from rawjpeg_gui.core.model import AdapterModel  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402

QUALITIES = (15, 25, 50, 75, 90)


def default_raws() -> list[Path]:
    shared = sorted((ROOT.parent / "shared" / "data" / "raw").glob("*"))
    return shared + sorted((ROOT / ".test-data").glob("*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raws", nargs="*", type=Path)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    model = AdapterModel(args.model) if args.model else codec.default_model()
    print(f"model {model.name}; qualities {QUALITIES}")
    print(f"{'file':34} {'BD-rate 4:2:0 vs 4:4:4':>24}")
    rates = []
    for path in args.raws or default_raws():
        raw = read_raw(path)
        curves: dict[str, tuple[list[float], list[float]]] = {"4:4:4": ([], []), "4:2:0": ([], [])}
        for q in QUALITIES:
            pred = model.predict(raw.data, q, raw.meta)
            from rawjpeg_gui.core import container

            params = container.quantise(pred.params)
            adapted = codec.to_uint8(operators.forward(raw.data, params))
            for sub, (bpp, db) in curves.items():
                data = jpeg.encode_jpeg(adapted, q, sub, pred.qtables)
                back = operators.inverse(jpeg.decode_jpeg(data).astype(np.float32) / 255, params)
                bpp.append(metrics.bits_per_pixel(len(data), raw.width, raw.height))
                db.append(metrics.psnr(raw.data, back))
        bd = metrics.bd_rate(*curves["4:4:4"], *curves["4:2:0"])
        rates.append(bd)
        print(f"{path.name:34} {bd:+23.1f}%", flush=True)
    print(f"{'mean':34} {np.nanmean(rates):+23.1f}%")


if __name__ == "__main__":
    main()
