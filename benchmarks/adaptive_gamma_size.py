"""Would a per-image gamma-map size pay? (models/ABLATIONS.md, finding 17)

Issue 8's "adaptive parameter size": a smaller gamma map for simple images, to save
parameter bytes. For every raw and quality this codes the whole image with the operators
the encoder's search chooses (the shipped model), once with the predicted 16x16 gamma
map and once with it average-pooled in log space (``core.search.gamma_sizes``) to 8x8,
4x4, 2x2 and 1x1; the file size counts the smaller parameter segment. An *oracle*
then picks, per image and quality, the size
with the lowest training objective ``ln(MSE) + w(q) * bpp`` measured on the whole
image. Printed: BD-rate against the gamma-1/2.2 JPEG of the fixed 16x16 map, of each
fixed size, and of the oracle, per file and on average. The encoder's own choice
(``core.search``, on its probe) is what ``rawjpeg eval`` measures.

    python benchmarks/adaptive_gamma_size.py RAW [RAW ...]
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rawjpeg_gui.core import codec, evaluate, metrics, search  # noqa: E402
from rawjpeg_gui.core.model import AdapterModel, default_model_path  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402

QUALITIES = tuple(range(10, 101, 5))
SIDES = (16, 8, 4, 2, 1)


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("raws", nargs="+", type=Path)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    model = AdapterModel(args.model or default_model_path())
    weights = model.info.rate_weight or (0.2, 4.2, 2.5)
    names = [f"fixed {s}x{s}" for s in SIDES] + ["oracle per image"]
    table: dict[str, list[float]] = {n: [] for n in names}
    picks: dict[int, int] = {s: 0 for s in SIDES}
    for path in args.raws:
        raw = read_raw(path)
        ref = [evaluate.code_point(raw, "gamma22", q, with_ssim=False)[0] for q in QUALITIES]
        curves: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        inputs = search.encoder_inputs(model, raw.data, raw.meta)
        for q in QUALITIES:
            found = search.search(raw.data, q, model, inputs, adapt_gamma=False)
            pred = found.prediction if found else search.predict(model, inputs, q)
            sizes = search.gamma_sizes(pred.params.gamma_map)
            costs = []
            for side in SIDES:
                params = replace(pred.params, gamma_map=sizes[side])
                enc = codec.encode_with_params(
                    raw, q, params, pred.qtables, model.info.subsampling, model.name
                )
                back = codec.decode_bytes(enc.jpeg).raw.data
                mse = float(np.mean(np.square(back - np.clip(raw.data, 0, 1)), dtype=np.float64))
                point = (enc.bpp, -10.0 * math.log10(max(mse, 1e-20)))
                curves[f"fixed {side}x{side}"].append(point)
                costs.append(
                    (
                        math.log(max(mse, 1e-20)) + search.rate_weight(weights, q) * enc.bpp,
                        side,
                        point,
                    )
                )
            best = min(costs)
            picks[best[1]] += 1
            curves["oracle per image"].append(best[2])
        for name, pts in curves.items():
            bd = metrics.bd_rate(
                [r.bpp for r in ref],
                [r.psnr for r in ref],
                [p[0] for p in pts],
                [p[1] for p in pts],
            )
            table[name].append(bd)
            print(f"{path.name:32s} {name:18s} BD-rate vs gamma-1/2.2 {bd:+7.2f} %", flush=True)
    print(
        f"\n{'gamma map':18s} " + " ".join(f"{p.name[:12]:>12s}" for p in args.raws) + "     mean"
    )
    for name, vals in table.items():
        print(f"{name:18s} " + " ".join(f"{v:+12.2f}" for v in vals) + f" {np.mean(vals):+8.2f}")
    print("oracle picks (image x quality): " + ", ".join(f"{s}x{s}: {n}" for s, n in picks.items()))


if __name__ == "__main__":
    main()
