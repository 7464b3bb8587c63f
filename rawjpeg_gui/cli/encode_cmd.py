"""``rawjpeg encode INPUT [INPUT ...] -q Q (-o OUTPUT.jpg | -o - | -d DIR) [--overwrite]``.

Every output is checked before any work: it is never one of the run's inputs
(compared by inode, so links count), two inputs never map to one output (the run is
refused and nothing is written), and an existing file is replaced only with
``--overwrite``. ``-o -`` writes the adapter-JPEG to standard output (one input).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.codec import encode_file
from ..core.errors import OutputError, RawJpegError
from ..core.fileio import check_output, write_atomic
from .common import (
    STDIO,
    add_model_arg,
    add_search_arg,
    add_verbosity_args,
    human_bytes,
    load_model,
    output_clashes,
    quality_arg,
    say,
    verbosity,
    write_stdout_binary,
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sub-command."""
    p = sub.add_parser("encode", help="raw file(s) -> adapter-JPEG(s)")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    p.add_argument("-q", "--quality", type=quality_arg, required=True, help="JPEG quality 1-100")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument(
        "-o", "--output", type=Path, help="output .jpg (one input only), or - for standard output"
    )
    dest.add_argument("-d", "--dir", type=Path, help="output folder (<stem>.jpg per input)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace existing output files (never an input)"
    )
    add_model_arg(p)
    add_search_arg(p)
    add_verbosity_args(p)
    p.set_defaults(run=run)


def _plan(args: argparse.Namespace) -> list[tuple[Path, Path]] | None:
    """(input, output) pairs, or ``None`` after printing why the run cannot start."""
    if args.output is not None and len(args.inputs) != 1:
        print(
            "rawjpeg: error: -o takes exactly one input; use -d DIR for several.", file=sys.stderr
        )
        return None
    if args.dir is not None and not args.dir.is_dir():
        print(f"rawjpeg: error: the folder {args.dir} does not exist.", file=sys.stderr)
        return None
    pairs = [
        (src, args.output if args.output is not None else args.dir / f"{src.stem}.jpg")
        for src in args.inputs
    ]
    clashes = output_clashes(pairs)
    for problem in clashes:
        print(f"rawjpeg: error: {problem}", file=sys.stderr)
    return None if clashes else pairs


def run(args: argparse.Namespace) -> int:
    """Encode every input; one bad file does not stop the others."""
    pairs = _plan(args)
    if pairs is None:
        return 2
    to_stdout = str(args.output) == STDIO
    model = None
    failures = 0
    for src, dest in pairs:
        try:
            if not to_stdout:
                if dest.suffix.lower() not in (".jpg", ".jpeg"):
                    raise OutputError(f"{dest.name}: an adapter-JPEG must end in .jpg or .jpeg.")
                check_output(dest, args.inputs, args.overwrite)
            model = model or load_model(args.model)
            result = encode_file(src, args.quality, model, searched=not args.no_search)
            if to_stdout:
                write_stdout_binary(result.jpeg, "adapter-JPEG")
            else:
                write_atomic(dest, result.jpeg, inputs=args.inputs, overwrite=args.overwrite)
        except RawJpegError as exc:
            print(f"rawjpeg: error: {src}: {exc}", file=sys.stderr)
            failures += 1
            continue
        ratio = src.stat().st_size / len(result.jpeg)
        size = f"{ratio:.1f}x smaller" if ratio >= 1 else f"{1 / ratio:.1f}x larger"
        gh, gw = result.params.gamma_map.shape
        say(
            args,
            f"{src} -> {'(standard output)' if to_stdout else dest}  q={args.quality}  "
            f"{human_bytes(len(result.jpeg))}  {result.bpp:.3f} bpp  {size} than the raw file  "
            f"(operators of q{result.operator_quality}, gamma map {gw}x{gh})",
            to_stderr=to_stdout,
        )
        if verbosity(args):
            times = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
            say(args, f"  timings: {times}", to_stderr=True)
    return 1 if failures else 0
