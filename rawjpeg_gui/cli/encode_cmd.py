"""``rawjpeg encode INPUT [INPUT ...] -q Q (-o OUTPUT.jpg | -d DIR)``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.codec import encode_file
from ..core.errors import OutputError, RawJpegError
from ..core.fileio import write_atomic
from .common import add_model_arg, add_search_arg, human_bytes, load_model, quality_arg


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sub-command."""
    p = sub.add_parser("encode", help="raw file(s) -> adapter-JPEG(s)")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    p.add_argument("-q", "--quality", type=quality_arg, required=True, help="JPEG quality 1-100")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("-o", "--output", type=Path, help="output .jpg (one input only)")
    dest.add_argument("-d", "--dir", type=Path, help="output folder (<stem>.jpg per input)")
    add_model_arg(p)
    add_search_arg(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Encode every input; one bad file does not stop the others."""
    if args.output is not None and len(args.inputs) != 1:
        print("rawjpeg: error: -o takes exactly one input; use -d DIR for several.", file=sys.stderr)
        return 2
    if args.dir is not None and not args.dir.is_dir():
        print(f"rawjpeg: error: the folder {args.dir} does not exist.", file=sys.stderr)
        return 2
    model = load_model(args.model)
    failures = 0
    for src in args.inputs:
        dest = args.output if args.output is not None else args.dir / f"{src.stem}.jpg"
        try:
            if dest.suffix.lower() not in (".jpg", ".jpeg"):
                raise OutputError(f"{dest.name}: an adapter-JPEG must end in .jpg or .jpeg.")
            result = encode_file(src, args.quality, model, searched=not args.no_search)
            write_atomic(dest, result.jpeg, inputs=args.inputs)
        except RawJpegError as exc:
            print(f"rawjpeg: error: {src}: {exc}", file=sys.stderr)
            failures += 1
            continue
        ratio = src.stat().st_size / len(result.jpeg)
        size = f"{ratio:.1f}x smaller" if ratio >= 1 else f"{1 / ratio:.1f}x larger"
        gh, gw = result.params.gamma_map.shape
        print(
            f"{src} -> {dest}  q={args.quality}  {human_bytes(len(result.jpeg))}  "
            f"{result.bpp:.3f} bpp  {size} than the raw file  "
            f"(operators of q{result.operator_quality}, gamma map {gw}x{gh})"
        )
    return 1 if failures else 0
