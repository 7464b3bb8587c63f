"""``rawjpeg eval RAW ... [-q 15,25,50,75,90] [--json OUT]``: rate-distortion table."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from ..core.errors import RawJpegError
from ..core.evaluate import (
    BASELINE_SUBSAMPLING,
    DEFAULT_QUALITIES,
    METHODS,
    RDPoint,
    bd_rates,
    rd_curve,
)
from ..core.fileio import write_atomic
from ..core.rawio import read_raw
from .common import add_model_arg, add_search_arg, load_model, quality_arg


def _qualities(text: str) -> list[int]:
    qs = [quality_arg(t.strip()) for t in text.split(",") if t.strip()]
    if len(qs) < 4:
        raise argparse.ArgumentTypeError("give at least four qualities (BD-rate needs four points)")
    return sorted(set(qs))


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sub-command."""
    p = sub.add_parser("eval", help="rate-distortion of the adapter vs plain-JPEG baselines")
    p.add_argument("inputs", nargs="+", type=Path, metavar="RAW")
    p.add_argument(
        "-q", "--qualities", type=_qualities, default=list(DEFAULT_QUALITIES),
        help="comma-separated JPEG qualities (default 15,25,50,75,90)",
    )
    p.add_argument("--json", type=Path, default=None, help="write all numbers as JSON")
    p.add_argument("--no-ssim", action="store_true", help="skip SSIM (faster)")
    add_model_arg(p)
    add_search_arg(p)
    p.set_defaults(run=run)


def _fmt(v: float) -> str:
    return "   n/a" if math.isnan(v) else f"{v:+6.1f}"


def run(args: argparse.Namespace) -> int:
    """Evaluate every file, print per-file and mean tables."""
    model = load_model(args.model)
    results = []
    failures = 0
    print(
        f"model {model.name} ({model.info.subsampling}); baselines: IJG tables, "
        f"{BASELINE_SUBSAMPLING}; qualities {','.join(map(str, args.qualities))}"
        + ("; encoder search off" if args.no_search else "")
    )
    for path in args.inputs:
        try:
            raw = read_raw(path)
            points = list(rd_curve(raw, args.qualities, METHODS, model, not args.no_ssim, searched=not args.no_search))
        except RawJpegError as exc:
            print(f"rawjpeg: error: {path}: {exc}", file=sys.stderr)
            failures += 1
            continue
        bd = bd_rates(points)
        results.append({"file": path.name, "camera": raw.meta.camera,
                        "points": [p.to_dict() for p in points], "bd_rate": bd})
        _print_file(path.name, raw.meta.camera, points, bd)
    if results:
        mean = {k: float(np.nanmean([r["bd_rate"].get(k, float("nan")) for r in results]))
                for k in ("gamma22", "linear")}
        print(f"\nmean over {len(results)} file(s): BD-rate vs gamma-1/2.2 JPEG {_fmt(mean['gamma22'])} %"
              f", vs linear JPEG {_fmt(mean['linear'])} %")
        if args.json is not None:
            doc = {"model": model.name, "qualities": args.qualities, "searched": not args.no_search, "files": results,
                   "mean_bd_rate": mean}
            write_atomic(args.json, json.dumps(doc, indent=1).encode("utf-8"))
    return 1 if failures else 0


def _print_file(name: str, camera: str, points: list[RDPoint], bd: dict[str, float]) -> None:
    print(f"\n{name} ({camera})")
    print(f"  {'q':>3} " + "".join(f"| {m:>8} bpp   PSNR   SSIM " for m in METHODS))
    quals = sorted({p.quality for p in points})
    table = {(p.method, p.quality): p for p in points}
    for q in quals:
        cells = []
        for m in METHODS:
            p = table.get((m, q))
            cells.append(f"| {p.bpp:12.3f} {p.psnr:6.2f} {p.ssim:6.4f} " if p else "|" + " " * 28)
        print(f"  {q:>3} " + "".join(cells))
    print(f"  BD-rate of adapter: vs gamma-1/2.2 JPEG {_fmt(bd.get('gamma22', float('nan')))} %, "
          f"vs linear JPEG {_fmt(bd.get('linear', float('nan')))} %")
