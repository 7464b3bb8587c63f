"""Leave-one-camera-out evaluation of the photo-look training recipe over the real raws.

For each camera of ``models/split.toml`` (all seven, test cameras included: this measures
the recipe on a camera it never saw, it selects nothing that ships): build a normalised
cache from every *other* camera's raws plus the offline photographs, fine-tune from the
shipped model with ``configs/photo.toml`` for ``--steps`` steps, export, and report the
BD-rate vs the gamma-1/2.2 JPEG on the left-out camera's frames (the network alone, the
encoder's search, or both). Prints each fold and the mean and worst.

    python scripts/loco_eval.py --steps 300 -q 10,30,50,70,90,100 [--cameras canon_g2,...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.core import codec, evaluate, metrics  # noqa: E402
from rawjpeg_gui.core.model import AdapterModel  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402
from rawjpeg_gui.training import split  # noqa: E402
from rawjpeg_gui.training.data import build_cache  # noqa: E402

CONFIG = ROOT / "rawjpeg_gui" / "training" / "configs" / "photo.toml"


def bd_rate(model: AdapterModel, path: Path, qs: list[int], searched: bool) -> float:
    """BD-rate (%) of the adapter vs the gamma-1/2.2 JPEG on one raw."""
    raw = read_raw(path)
    pts = []
    for q in qs:
        enc = codec.encode_image(raw, q, model, searched)
        back = codec.decode_bytes(enc.jpeg).raw.data
        pts.append(
            evaluate.RDPoint("adapter", q, enc.bpp, metrics.psnr(raw.data, back), float("nan"))
        )
        pts.append(evaluate.code_point(raw, "gamma22", q, with_ssim=False)[0])
    return evaluate.bd_rates(pts)["gamma22"]


def fold(camera: str, sides: split.Split, args: argparse.Namespace, work: Path) -> list[float]:
    """Train without ``camera`` and measure on it; returns BD-rates per left-out frame."""
    held = [p for p in sides.paths(*split.SPLITS) if sides.camera(p.name) == camera]
    others = [str(p) for p in sides.paths(*split.SPLITS) if sides.camera(p.name) != camera]
    out = work / camera
    out.mkdir(parents=True, exist_ok=True)
    cache = build_cache(
        others, per_raw=args.per_raw, per_photo=60, photo_variants=2, normalise=True
    )
    cache.save(out / "cache.npz")
    text = CONFIG.read_text()
    cfg = tomllib.loads(text)
    text = text.replace(f'cache = "{cfg["data"]["cache"]}"', f'cache = "{out / "cache.npz"}"')
    text = text.replace(f'out = "{cfg["train"]["out"]}"', f'out = "{out / "run"}"')
    text = text.replace(f"steps = {cfg['train']['steps']}", f"steps = {args.steps}")
    (out / "config.toml").write_text(text)
    py = sys.executable
    subprocess.run(
        [py, "-m", "rawjpeg_gui.training", "--config", str(out / "config.toml")],
        check=True,
        cwd=ROOT,
    )
    onnx = out / "model.onnx"
    subprocess.run(
        [
            py,
            "-m",
            "rawjpeg_gui.training.export",
            str(out / "run" / "checkpoint.pt"),
            "--config",
            str(out / "config.toml"),
            "--lut-bins",
            "64",
            "-o",
            str(onnx),
        ],
        check=True,
        cwd=ROOT,
    )
    subprocess.run(
        [py, str(ROOT / "scripts" / "tag_model_look.py"), str(onnx), "photo"], check=True
    )
    model = AdapterModel(onnx)
    qs = [int(q) for q in args.qualities.split(",")]
    return [bd_rate(model, p, qs, not args.no_search) for p in held]


def main() -> None:
    """Run the folds and print."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--per-raw", type=int, default=100)
    ap.add_argument("-q", "--qualities", default=",".join(str(q) for q in range(10, 101, 5)))
    ap.add_argument("--no-search", action="store_true")
    ap.add_argument("--cameras", default="", help="comma-separated camera keys (default: all)")
    ap.add_argument("--work", default=str(ROOT / "runs" / "loco"))
    args = ap.parse_args()
    sides = split.load()
    cams = [c for c in (args.cameras.split(",") if args.cameras else sides.cameras) if c]
    results = {}
    for cam in cams:
        rates = fold(cam, sides, args, Path(args.work))
        results[cam] = float(np.mean(rates))
        print(
            f"{cam}: BD-rate vs gamma-1/2.2 {results[cam]:+.1f} % ({', '.join(f'{r:+.1f}' for r in rates)})",
            flush=True,
        )
    vals = np.array(list(results.values()))
    print(
        f"leave-one-camera-out: mean {vals.mean():+.1f} %, worst {vals.max():+.1f} % over {len(vals)} cameras"
    )


if __name__ == "__main__":
    main()
