"""``rawjpeg eval RAW ... [-q 15,25,50,75,90] [--json OUT|-]``: rate-distortion table.

Progress goes to standard error (one updating line on a terminal, a line per file
otherwise) unless ``--quiet``. ``--json`` writes strict JSON (``null`` where a number
is undefined, e.g. a BD-rate without overlap); ``--json -`` writes it to standard
output and moves the tables to standard error.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TextIO

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
from ..core.fileio import check_output
from ..core.rawio import read_raw
from .common import (
    STDIO,
    add_model_arg,
    add_search_arg,
    add_verbosity_args,
    escape_text,
    is_quiet,
    load_model,
    quality_arg,
    write_json,
)


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
        "-q",
        "--qualities",
        type=_qualities,
        default=list(DEFAULT_QUALITIES),
        help="comma-separated JPEG qualities (default 15,25,50,75,90)",
    )
    p.add_argument(
        "--json",
        default=None,
        metavar="OUT",
        help="write all numbers as JSON to OUT (- for standard output)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing --json file (never an input)"
    )
    p.add_argument("--no-ssim", action="store_true", help="skip SSIM (faster)")
    add_model_arg(p)
    add_search_arg(p)
    add_verbosity_args(p)
    p.set_defaults(run=run)


def _fmt(v: float) -> str:
    return "   n/a" if math.isnan(v) else f"{v:+6.1f}"


class _Progress:
    """Progress on stderr: an updating line on a terminal, one line per file otherwise."""

    def __init__(self, enabled: bool, files: int, per_file: int) -> None:
        self.enabled, self.files, self.per_file = enabled, files, per_file
        self.tty = enabled and sys.stderr.isatty()

    def file(self, index: int, name: str) -> None:
        if self.enabled and not self.tty:
            print(f"eval: file {index}/{self.files}: {name}", file=sys.stderr, flush=True)
        self.name, self.index = name, index

    def point(self, done: int) -> None:
        if self.tty:
            print(
                f"\reval: file {self.index}/{self.files} {self.name}: {done}/{self.per_file} codings\x1b[K",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def clear(self) -> None:
        if self.tty:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Evaluate every file, print per-file and mean tables."""
    json_to_stdout = args.json == STDIO
    out = sys.stderr if json_to_stdout else sys.stdout
    show_tables = not (json_to_stdout and is_quiet(args))
    if args.json is not None and not json_to_stdout:  # refused now, not after the whole run
        check_output(args.json, args.inputs, args.overwrite)
    model = load_model(args.model)
    results = []
    failures = 0
    if not is_quiet(args):
        print(
            f"model {model.name} ({model.info.subsampling}); baselines: IJG tables, "
            f"{BASELINE_SUBSAMPLING}; qualities {','.join(map(str, args.qualities))}"
            + ("; encoder search off" if args.no_search else ""),
            file=out,
        )
    progress = _Progress(not is_quiet(args), len(args.inputs), len(args.qualities) * len(METHODS))
    for index, path in enumerate(args.inputs, 1):
        progress.file(index, path.name)
        try:
            raw = read_raw(path)
            points = []
            for point in rd_curve(
                raw, args.qualities, METHODS, model, not args.no_ssim, searched=not args.no_search
            ):
                points.append(point)
                progress.point(len(points))
        except RawJpegError as exc:
            progress.clear()
            print(f"rawjpeg: error: {path}: {exc}", file=sys.stderr)
            failures += 1
            continue
        progress.clear()
        bd = bd_rates(points)
        results.append(
            {
                "file": path.name,
                "camera": raw.meta.camera,
                "points": [p.to_dict() for p in points],
                "bd_rate": bd,
            }
        )
        if show_tables:
            _print_file(path.name, raw.meta.camera, points, bd, out)
    if results:
        with np.errstate(all="ignore"):
            mean = {
                k: float(np.nanmean([r["bd_rate"].get(k, float("nan")) for r in results]))
                for k in ("gamma22", "linear")
            }
        if show_tables:
            print(
                f"\nmean over {len(results)} file(s): BD-rate vs gamma-1/2.2 JPEG {_fmt(mean['gamma22'])} %"
                f", vs linear JPEG {_fmt(mean['linear'])} %",
                file=out,
            )
        if args.json is not None:
            doc = {
                "model": model.name,
                "qualities": args.qualities,
                "searched": not args.no_search,
                "files": results,
                "mean_bd_rate": mean,
            }
            write_json(args.json, doc, inputs=args.inputs, overwrite=args.overwrite)
    return 1 if failures else 0


def _print_file(
    name: str, camera: str, points: list[RDPoint], bd: dict[str, float], out: TextIO
) -> None:
    print(f"\n{name} ({escape_text(camera)})", file=out)
    print(f"  {'q':>3} " + "".join(f"| {m:>8} bpp   PSNR   SSIM " for m in METHODS), file=out)
    quals = sorted({p.quality for p in points})
    table = {(p.method, p.quality): p for p in points}
    for q in quals:
        cells = []
        for m in METHODS:
            p = table.get((m, q))
            cells.append(f"| {p.bpp:12.3f} {p.psnr:6.2f} {p.ssim:6.4f} " if p else "|" + " " * 28)
        print(f"  {q:>3} " + "".join(cells), file=out)
    print(
        f"  BD-rate of adapter: vs gamma-1/2.2 JPEG {_fmt(bd.get('gamma22', float('nan')))} %, "
        f"vs linear JPEG {_fmt(bd.get('linear', float('nan')))} %",
        file=out,
    )
