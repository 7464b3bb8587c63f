"""Issue 13's targets for a model and a look, on a split's cameras (models/split.toml).

Prints per file: BD-rate vs the gamma-1/2.2 JPEG (IJG tables, 4:2:0, optimised Huffman,
as ``rawjpeg eval``: the camera's metadata not counted; also with every byte of the file), the q100 ceiling against that JPEG's q100, whether bpp and PSNR
rise at every quality step, the look (mean and 95th-percentile CIEDE2000 between the
adapter-JPEG as a colour-managed viewer shows it and the app's display rendering of the same raw), the
adapter's own work each way (operators and colour chain, not the JPEG codec) and the
parameter payload; then the means and each target met or not.

    python benchmarks/model_v2.py --split validation [--model M.onnx] [--no-search]
        [--gamma-spread S] [--balance-power P]

A model tagged ``rawjpeg.look = photo`` codes through the research photo look
(``training/research/photolook.py``); the others through the core codec.

Test numbers are for a shipped model only: choose on ``--split validation``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.core import (  # noqa: E402
    codec,
    colour,
    container,
    display,
    evaluate,
    fastops,
    icc,
    metrics,
    search,
)
from rawjpeg_gui.core.model import AdapterModel  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402
from rawjpeg_gui.training import split  # noqa: E402
from rawjpeg_gui.training.research import photolook  # noqa: E402


def look_error(raw, enc) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Mean and 95th percentile CIEDE2000: a colour-managed viewer vs the app's rendering."""
    viewer = icc.viewer_rgb(enc.jpeg)[::2, ::2]
    gain = display.auto_gain(raw.data, raw.meta)
    app = colour.srgb_encode(display.to_srgb_linear(raw.data, raw.meta, gain))[::2, ::2]
    de = deltaE_ciede2000(rgb2lab(app), rgb2lab(viewer))
    return float(de.mean()), float(np.percentile(de, 95))


def adapter_work(raw, enc) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds of the adapter's own work: chain + forward operators; inverse + chain."""
    t0 = time.perf_counter()
    src = raw.data if enc.chain is None else enc.chain.forward(raw.data)
    adapted = fastops.forward_uint8(src, enc.params)
    t1 = time.perf_counter()
    back = fastops.inverse_uint8(adapted, enc.params)
    if enc.chain is not None:
        enc.chain.inverse(back)
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    """Measure and print."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--split", default="validation", choices=split.SPLITS[1:])
    ap.add_argument("--model", default=None)
    ap.add_argument("--no-search", action="store_true")
    ap.add_argument("-q", "--qualities", default=",".join(str(q) for q in range(10, 101, 5)))
    ap.add_argument(
        "--files", type=int, default=0, help="at most this many files per camera (0: all)"
    )
    ap.add_argument(
        "--gamma-spread",
        type=float,
        default=None,
        help=f"limit of the gamma map's spread (log units; default {search.GAMMA_SPREAD})",
    )
    ap.add_argument(
        "--balance-power",
        type=float,
        default=None,
        help="power of the white balance applied before the operators "
        f"(default {search.BALANCE_POWER}; 0: plain camera RGB)",
    )
    args = ap.parse_args()
    if args.gamma_spread is not None:
        search.GAMMA_SPREAD = args.gamma_spread
    if args.balance_power is not None:
        search.BALANCE_POWER = args.balance_power
    model = AdapterModel(args.model) if args.model else codec.default_model()
    qs = [int(q) for q in args.qualities.split(",")]
    sides = split.load()
    paths = sides.paths(args.split)
    if args.files:
        per: dict[str, int] = {}
        paths = [
            p
            for p in paths
            if per.setdefault(sides.camera(p.name), 0) < args.files
            and not per.update({sides.camera(p.name): per[sides.camera(p.name)] + 1})
        ]
    print(
        f"model {model.name}, look {model.info.look}, search {not args.no_search}, split {args.split}, q {qs[0]}..{qs[-1]}"
    )
    rows = []
    for path in paths:
        raw = read_raw(path)
        pts, whole, encs = [], [], {}
        for q in qs:
            enc = photolook.encode_image(raw, q, model, not args.no_search)
            back = photolook.decode_bytes(enc.jpeg).raw.data
            encs[q] = enc
            psnr = metrics.psnr(raw.data, back)
            coded = (
                8.0 * (len(enc.jpeg) - evaluate.metadata_bytes(enc.jpeg)) / raw.data[..., 0].size
            )
            pts.append(evaluate.RDPoint("adapter", q, coded, psnr, float("nan")))
            whole.append(evaluate.RDPoint("adapter", q, enc.bpp, psnr, float("nan")))
            pts.append(evaluate.code_point(raw, "gamma22", q, with_ssim=False)[0])
        bd = evaluate.bd_rates(pts)["gamma22"]
        bd_whole = evaluate.bd_rates(whole + [p for p in pts if p.method == "gamma22"])["gamma22"]
        ad = sorted((p for p in pts if p.method == "adapter"), key=lambda p: p.quality)
        g22 = {p.quality: p for p in pts if p.method == "gamma22"}
        mono = all(b.bpp > a.bpp and b.psnr > a.psnr for a, b in zip(ad, ad[1:], strict=False))
        ceiling = ad[-1].psnr - g22[qs[-1]].psnr
        qlook = 75 if 75 in encs else qs[len(qs) // 2]
        de_mean, de_p95 = look_error(raw, encs[qlook])
        fwd, inv = adapter_work(raw, encs[qlook])
        payload = container.parameter_payload_size(codec.read_record(encs[qlook].jpeg))
        rows.append(
            (
                path.name,
                bd,
                ceiling,
                mono,
                de_mean,
                de_p95,
                fwd,
                inv,
                payload,
                raw.width * raw.height,
            )
        )
        print(
            f"{path.name:30s} BD {bd:+6.1f} % (whole file {bd_whole:+6.1f} %)  q{qs[-1]} {ad[-1].psnr:.2f} vs {g22[qs[-1]].psnr:.2f} dB"
            f"  monotonic {'yes' if mono else 'no '}  dE(q{qlook}) {de_mean:.2f} p95 {de_p95:.2f}"
            f"  work {fwd:.2f}/{inv:.2f} s  payload {payload} B",
            flush=True,
        )
    if not rows:
        sys.exit(f"no {args.split} raw is here (see ../shared/DATA.md)")
    bds = np.array([r[1] for r in rows])
    print(
        f"mean BD-rate {bds.mean():+.1f} % (target <= -30 %; worst {bds.max():+.1f} %, target <= -15 %): "
        f"{'met' if bds.mean() <= -30 and bds.max() <= -15 else 'NOT met'}"
    )
    print(
        f"q100 ceiling: {'met' if all(r[2] >= 0 for r in rows) else 'NOT met'} (worst {min(r[2] for r in rows):+.2f} dB)"
    )
    print(
        f"look: mean dE {np.mean([r[4] for r in rows]):.2f}, worst file {max(r[4] for r in rows):.2f} (<= 5), "
        f"worst p95 {max(r[5] for r in rows):.2f} (<= 12): "
        f"{'met' if all(r[4] <= 5 and r[5] <= 12 for r in rows) else 'NOT met'}"
    )
    print(f"monotonic on every file: {'met' if all(r[3] for r in rows) else 'NOT met'}")
    big = max(rows, key=lambda r: r[9])
    print(
        f"adapter work on the largest file ({big[0]}): {big[6]:.2f} s / {big[7]:.2f} s (<= 0.5 s each)"
    )
    print(f"payload: max {max(r[8] for r in rows)} B (<= 6144)")


if __name__ == "__main__":
    main()
