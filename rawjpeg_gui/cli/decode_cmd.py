"""``rawjpeg decode INPUT -o OUTPUT.{tiff,png,dng} [--overwrite]``.

INPUT is an adapter-JPEG (the raw is reconstructed) or a raw file (the reference
linear image that ``encode`` compresses is written); ``-`` reads an adapter-JPEG from
standard input. The output is never the input (compared by inode) and an existing
file is replaced only with ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.codec import decode_bytes, decode_file
from ..core.errors import OutputError, RawJpegError, UnsupportedFileError
from ..core.fileio import MAX_INPUT_BYTES, check_input_file, check_output, write_image16
from ..core.rawio import LINEAR_EXTENSIONS, RAW_EXTENSIONS, RawImage, read_raw
from .common import STDIO, add_verbosity_args, read_stdin, say

IMAGE_SUFFIXES = (".tif", ".tiff", ".png")
JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jxl")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sub-command."""
    p = sub.add_parser("decode", help="adapter-JPEG (or raw) -> 16-bit linear TIFF/PNG or DNG")
    p.add_argument(
        "input", type=Path, metavar="INPUT", help="adapter-JPEG or raw file; - reads standard input"
    )
    p.add_argument("-o", "--output", type=Path, required=True, help=".tiff, .png or .dng")
    p.add_argument(
        "--force", action="store_true",
        help="reconstruct even when the pixels were changed after the file was written",
    )  # fmt: skip
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing output file (never the input)"
    )
    add_verbosity_args(p)
    p.set_defaults(run=run)


def _starts_like_jpeg(path: Path) -> bool:
    check_input_file(path)
    with open(path, "rb") as fh:
        return fh.read(2) == b"\xff\xd8"


def _is_raw_file(path: Path) -> bool:
    """True when :func:`load_linear` reads ``path`` as a raw file, not an adapter-JPEG."""
    suffix = path.suffix.lower()
    return str(path) != STDIO and (suffix in RAW_EXTENSIONS or suffix in LINEAR_EXTENSIONS)


def load_linear(path: Path, force: bool = False) -> RawImage:
    """The linear image of an adapter-JPEG (reconstructed) or of a raw file (reference).

    ``path`` ``-`` reads an adapter-JPEG from standard input. ``force``: reconstruct
    from changed pixels too (see :func:`decode_file`); the decoder's warnings go to
    stderr.
    """
    if str(path) == STDIO:
        result = decode_bytes(read_stdin(MAX_INPUT_BYTES), "Standard input", force)
    else:
        suffix = path.suffix.lower()
        if _is_raw_file(path):
            return read_raw(path)
        if suffix not in JPEG_SUFFIXES and not _starts_like_jpeg(path):
            raise UnsupportedFileError(
                f"{path.name} is neither an adapter-JPEG nor a camera raw file rawjpeg can read."
            )
        result = decode_file(path, force)
    for warning in result.warnings:
        print(f"rawjpeg: warning: {path}: {warning}", file=sys.stderr)
    return result.raw


def run(args: argparse.Namespace) -> int:
    """Decode and write atomically."""
    out: Path = args.output
    suffix = out.suffix.lower()
    if str(out) == STDIO:
        raise OutputError("decode writes a file: give an output ending in .tiff, .png or .dng.")
    if suffix not in IMAGE_SUFFIXES + (".dng",):
        raise OutputError(f"{out.name}: the output must end in .tiff, .tif, .png or .dng.")
    inputs = [] if str(args.input) == STDIO else [args.input]
    name = "standard input" if not inputs else str(args.input)
    try:
        check_output(out, inputs, args.overwrite)
        image = load_linear(args.input, args.force)
        if suffix == ".dng":
            from ..core.dng import write_dng

            check_output(out, inputs, args.overwrite)
            write_dng(out, image, inputs=inputs, reconstructed=not _is_raw_file(args.input))
        else:
            write_image16(out, image.data, inputs=inputs, overwrite=args.overwrite)
    except RawJpegError as exc:
        if name in str(exc) or Path(name).name in str(exc):
            raise
        raise type(exc)(f"{name}: {exc}") from None
    say(args, f"{name} -> {out}  {image.width}x{image.height} linear camera RGB")
    return 0
