"""Leave-one-camera-out evaluation of the shipped training recipe over the real raws.

For each camera of ``models/split.toml`` (all seven, test cameras included: this measures
the recipe on a camera it never saw; it selects nothing that ships): build the training
data from every *other* camera's raws and the offline photographs
(``rawjpeg_gui/training/photos.toml``) as ``scripts/make_training_data.py`` does, scaled
by the encoder's balance (``core/search.BALANCE_POWER``); train the shipped two-stage
recipe from random weights (``configs/pretrain.toml``, then ``configs/default.toml``;
only the cache and run folders differ); export as shipped (64 LUT knots, the gain cap
of ``default.toml``); and score the left-out camera's frames as ``rawjpeg eval`` does
(BD-rate vs the gamma-1/2.2 JPEG, the camera's metadata not counted), with the encoder's
search and with the network alone. Each fold's result is kept in ``<work>/results.json``,
so a rerun goes on where the last one stopped. Prints each fold, then the mean and worst.

    python scripts/loco_eval.py [-q 10,15,...,100] [--cameras canon_g2,...] [--work runs/loco]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rawjpeg_gui.core import evaluate, search  # noqa: E402
from rawjpeg_gui.core.model import AdapterModel  # noqa: E402
from rawjpeg_gui.core.rawio import read_raw  # noqa: E402
from rawjpeg_gui.training import split  # noqa: E402
from rawjpeg_gui.training.data import build_cache, photo_count, photo_paths  # noqa: E402

CONFIGS = ROOT / "rawjpeg_gui" / "training" / "configs"
STAGES = ("pretrain", "default")


def bd_rate(model: AdapterModel, path: Path, qs: list[int], searched: bool) -> float:
    """BD-rate (%) of the adapter vs the gamma-1/2.2 JPEG on one raw, as ``rawjpeg eval``."""
    raw = read_raw(path)
    pts = list(evaluate.rd_curve(raw, qs, ("adapter", "gamma22"), model, False, searched=searched))
    return evaluate.bd_rates(pts)["gamma22"]


def stage_config(stage: str, out: Path) -> Path:
    """Write ``stage``'s shipped config with this fold's cache and run folders."""
    text = (CONFIGS / f"{stage}.toml").read_text()
    lines = []
    for line in text.splitlines():
        key = line.split("=")[0].strip()
        if key == "cache":
            line = f'cache = "{out / "cache.npz"}"'
        elif key == "out":
            line = f'out = "{out / stage}"'
        elif key == "init_from":
            line = f'init_from = "{out / STAGES[0] / "checkpoint.pt"}"'
        lines.append(line)
    path = out / f"{stage}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def fold_files(camera: str, sides: split.Split) -> tuple[list[Path], list[str]]:
    """The left-out camera's raws here, and every other camera's (what the fold trains on)."""
    every = sides.paths(*split.SPLITS)
    held = [p for p in every if sides.camera(p.name) == camera]
    others = [str(p) for p in every if sides.camera(p.name) != camera]
    return held, others


def fold(camera: str, sides: split.Split, qs: list[int], out: Path) -> dict[str, object]:
    """Train without ``camera`` and score it; returns the fold's record."""
    held, others = fold_files(camera, sides)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    cache = build_cache(others, balance_power=search.BALANCE_POWER)
    cache.save(out / "cache.npz")
    del cache
    py = sys.executable
    for stage in STAGES:
        cfg = stage_config(stage, out)
        subprocess.run(
            [py, "-m", "rawjpeg_gui.training", "--config", str(cfg)], check=True, cwd=ROOT
        )
    onnx = out / "model.onnx"
    subprocess.run(
        [
            py,
            "-m",
            "rawjpeg_gui.training.export",
            str(out / STAGES[-1] / "checkpoint.pt"),
            "--config",
            str(out / f"{STAGES[-1]}.toml"),
            "--lut-bins",
            "64",
            "-o",
            str(onnx),
        ],
        check=True,
        cwd=ROOT,
    )
    (out / "cache.npz").unlink()
    t1 = time.time()
    model = AdapterModel(onnx)
    record: dict[str, object] = {
        "camera": camera,
        "trained_on": [Path(p).name for p in others],
        "files": [p.name for p in held],
        "search": [bd_rate(model, p, qs, True) for p in held],
        "network_alone": [bd_rate(model, p, qs, False) for p in held],
        "train_minutes": (t1 - t0) / 60,
        "score_minutes": (time.time() - t1) / 60,
    }
    return record


def summary(results: dict[str, dict], key: str) -> str:
    """Mean and worst over cameras (each camera's mean over its frames)."""
    vals = np.array([np.mean(r[key]) for r in results.values()])
    return f"mean {vals.mean():+.1f} %, worst {vals.max():+.1f} % over {len(vals)} cameras"


def main() -> None:
    """Run the folds and print."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-q", "--qualities", default=",".join(str(q) for q in range(10, 101, 5)))
    ap.add_argument("--cameras", default="", help="comma-separated camera keys (default: all)")
    ap.add_argument("--work", default=str(ROOT / "runs" / "loco"))
    args = ap.parse_args()
    if len(photo_paths()) < photo_count():
        sys.exit("the offline photographs are missing: run scripts/fetch_training_photos.sh")
    sides = split.load()
    cams = [c for c in (args.cameras.split(",") if args.cameras else sides.cameras) if c]
    qs = [int(q) for q in args.qualities.split(",")]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    store = work / "results.json"
    results = json.loads(store.read_text()) if store.is_file() else {}
    for cam in cams:
        if cam not in results:
            results[cam] = fold(cam, sides, qs, work / cam)
            store.write_text(json.dumps(results, indent=1))
        r = results[cam]
        print(
            f"{cam}: search {np.mean(r['search']):+.1f} % "
            f"({', '.join(f'{v:+.1f}' for v in r['search'])}), network alone "
            f"{np.mean(r['network_alone']):+.1f} %; trained {r['train_minutes']:.1f} min, "
            f"scored {r['score_minutes']:.1f} min",
            flush=True,
        )
    done = {c: results[c] for c in cams}
    print(f"leave-one-camera-out, search: {summary(done, 'search')} (target mean <= -25 %)")
    print(f"leave-one-camera-out, network alone: {summary(done, 'network_alone')}")


if __name__ == "__main__":
    main()
