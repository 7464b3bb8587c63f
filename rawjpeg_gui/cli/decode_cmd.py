"""``rawjpeg decode INPUT -o OUTPUT.{tiff,png,dng}``.

INPUT is an adapter-JPEG (the raw is reconstructed) or a raw file (the reference
linear image that ``encode`` compresses is written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.codec import decode_file
from ..core.errors import OutputError, RawJpegError
from ..core.fileio import write_image16
from ..core.rawio import RawImage, read_raw

IMAGE_SUFFIXES = (".tif", ".tiff", ".png")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sub-command."""
    p = sub.add_parser("decode", help="adapter-JPEG (or raw) -> 16-bit linear TIFF/PNG or DNG")
    p.add_argument("input", type=Path, metavar="INPUT")
    p.add_argument("-o", "--output", type=Path, required=True, help=".tiff, .png or .dng")
    p.add_argument(
        "--force", action="store_true",
        help="reconstruct even when the pixels were changed after the file was written",
    )  # fmt: skip
    p.set_defaults(run=run)


def load_linear(path: Path, force: bool = False) -> RawImage:
    """The linear image of an adapter-JPEG (reconstructed) or of a raw file (reference).

    ``force``: reconstruct from changed pixels too (see :func:`decode_file`); the
    decoder's warnings go to stderr.
    """

    def reconstruct() -> RawImage:
        result = decode_file(path, force)
        for warning in result.warnings:
            print(f"rawjpeg: warning: {path}: {warning}", file=sys.stderr)
        return result.raw

    if path.suffix.lower() in (".jpg", ".jpeg", ".jpe", ".jxl"):
        return reconstruct()
    try:
        return read_raw(path)
    except Exception:
        if path.is_file() and path.read_bytes()[:2] == b"\xff\xd8":
            return reconstruct()
        raise


def run(args: argparse.Namespace) -> int:
    """Decode and write atomically."""
    out: Path = args.output
    suffix = out.suffix.lower()
    if suffix not in IMAGE_SUFFIXES + (".dng",):
        raise OutputError(f"{out.name}: the output must end in .tiff, .tif, .png or .dng.")
    try:
        image = load_linear(args.input, getattr(args, "force", False))
    except RawJpegError as exc:
        raise type(exc)(f"{args.input}: {exc}") from None
    if suffix == ".dng":
        from ..core.dng import write_dng

        write_dng(out, image, inputs=[args.input])
    else:
        write_image16(out, image.data, inputs=[args.input])
    print(f"{args.input} -> {out}  {image.width}x{image.height} linear camera RGB")
    return 0
