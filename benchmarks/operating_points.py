"""Which of the model's operating points code a raw best? (models/ABLATIONS.md, finding 12)

Codes each raw at every pair of *operator quality* (the quality the network is told:
10..100 step 10) and *table quality* (the JPEG tables: the official 19 qualities) on the
whole image, then prints the BD-rate against the gamma-1/2.2 JPEG of

* the operators predicted for the quality (what the model does alone),
* always the operators of one quality,
* per quality the Lagrangian choice ``min ln(MSE) + s * w(q) * bpp`` with the model's
  own rate weight (what ``core/search.py`` estimates on a probe), for several ``s``.

    python benchmarks/operating_points.py RAW [RAW ...] [--json OUT]

About 190 full encodes per file plus the baseline (1-4 min per file on one core).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rawjpeg_gui.core import codec, evaluate, metrics, search  # noqa: E402
from rawjpeg_gui.core.model import AdapterModel, default_model_path  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402

TABLE_QUALITIES = tuple(range(10, 101, 5))
SCALES = (0.5, 1.0, 2.0, 4.0)


def grid(raw, model: AdapterModel) -> list[dict[str, float]]:  # type: ignore[no-untyped-def]
    """Every (operator quality, table quality) pair coded on the whole image."""
    inputs = search.encoder_inputs(model, raw.data, raw.meta)
    preds = {
        q: search.predict(model, inputs, q) for q in set(TABLE_QUALITIES) | set(search.CANDIDATES)
    }
    out = []
    for qo in search.CANDIDATES:
        for qt in TABLE_QUALITIES:
            enc = codec.encode_with_params(
                raw, qt, preds[qo].params, preds[qt].qtables, model.info.subsampling
            )
            back = codec.decode_bytes(enc.jpeg).raw.data
            out.append({"qo": qo, "qt": qt, "bpp": enc.bpp, "psnr": metrics.psnr(raw.data, back)})
    return out


def choices(
    points: list[dict[str, float]], weights: tuple[float, float, float]
) -> dict[str, list[dict[str, float]]]:
    """The curves compared: name -> one point per table quality."""
    at = {(p["qo"], p["qt"]): p for p in points}
    curves: dict[str, list[dict[str, float]]] = {}
    for qo in search.CANDIDATES:
        curves[f"always q{qo}"] = [at[(qo, q)] for q in TABLE_QUALITIES]
    for s in SCALES:
        pts = []
        for q in TABLE_QUALITIES:
            w = s * search.rate_weight(weights, q)
            pts.append(
                min(
                    (at[(qo, q)] for qo in search.CANDIDATES),
                    key=lambda p: -p["psnr"] * math.log(10) / 10 + w * p["bpp"],
                )
            )
        curves[f"lagrangian s={s:g}"] = pts
    return curves


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("raws", nargs="+", type=Path)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the grids and baselines here")
    args = ap.parse_args()
    model = AdapterModel(args.model or default_model_path())
    if model.info.rate_weight is None:
        sys.exit("The model declares no rawjpeg.rate_weight.")
    table: dict[str, list[float]] = {}
    dump = {}
    for path in args.raws:
        raw = read_raw(path)
        points = grid(raw, model)
        gamma = [
            evaluate.code_point(raw, "gamma22", q, with_ssim=False)[0] for q in TABLE_QUALITIES
        ]
        plain = [
            evaluate.code_point(raw, "adapter", q, model, False, searched=False)[0]
            for q in TABLE_QUALITIES
        ]
        ref_r, ref_p = [g.bpp for g in gamma], [g.psnr for g in gamma]
        curves = {"predicted for the quality": [{"bpp": p.bpp, "psnr": p.psnr} for p in plain]}
        curves.update(choices(points, model.info.rate_weight))
        for name, pts in curves.items():
            bd = metrics.bd_rate(ref_r, ref_p, [p["bpp"] for p in pts], [p["psnr"] for p in pts])
            mono = all(b["psnr"] > a["psnr"] for a, b in zip(pts, pts[1:], strict=False))
            table.setdefault(name, []).append(bd)
            print(
                f"{path.name:32s} {name:28s} BD-rate vs gamma-1/2.2 {bd:+6.1f} %  monotonic {mono}",
                flush=True,
            )
        dump[path.name] = {"grid": points, "gamma22": [g.to_dict() for g in gamma]}
    print(
        f"\n{'operators':28s} "
        + " ".join(f"{p.name[:10]:>10s}" for p in args.raws)
        + "       mean      worst"
    )
    for name, vals in table.items():
        print(
            f"{name:28s} "
            + " ".join(f"{v:10.1f}" for v in vals)
            + f" {np.mean(vals):10.1f} {max(vals):10.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps(dump))


if __name__ == "__main__":
    main()
