"""``rawjpeg pack FILE.jpg ...`` and ``rawjpeg unpack FILE.jxl ...``: lossless JPEG XL.

``pack`` writes ``<stem>.jxl`` beside each adapter-JPEG (or into ``-d DIR``): the
same JPEG, losslessly recompressed, smaller; ``unpack`` gives back ``<stem>.jpg``
byte for byte. ``rawjpeg decode FILE.jxl`` reads a packed file directly. Inputs are
never changed or removed; an existing output is refused unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core import pack
from ..core.codec import read_file_bytes
from ..core.errors import OutputError, RawJpegError
from ..core.fileio import write_atomic
from .common import human_bytes


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``pack`` and ``unpack``."""
    for name, help_text, func in (
        ("pack", "adapter-JPEG(s) -> lossless JPEG XL (.jxl), smaller, byte-exact", run_pack),
        (
            "unpack",
            "packed .jxl file(s) -> the original adapter-JPEG(s), byte for byte",
            run_unpack,
        ),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("inputs", nargs="+", type=Path, metavar="FILE")
        p.add_argument("-d", "--dir", type=Path, help="output folder (default: beside each input)")
        p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
        p.set_defaults(run=func)


def _destination(src: Path, folder: Path | None, suffix: str) -> Path:
    return (folder or src.parent) / f"{src.stem}{suffix}"


def _convert(args: argparse.Namespace, suffix: str, packing: bool) -> int:
    if args.dir is not None and not args.dir.is_dir():
        print(f"rawjpeg: error: the folder {args.dir} does not exist.", file=sys.stderr)
        return 2
    targets = [_destination(src, args.dir, suffix) for src in args.inputs]
    if len(set(targets)) != len(targets):
        print("rawjpeg: error: two inputs would be written to the same file.", file=sys.stderr)
        return 2
    failures = 0
    total_in = total_out = 0
    for src, dest in zip(args.inputs, targets, strict=True):
        try:
            if dest.exists() and not args.overwrite:
                raise OutputError(f"{dest} exists; pass --overwrite to replace it.")
            if packing:
                data = read_file_bytes(src)
                if pack.is_jxl(data) or src.suffix.lower() == pack.SUFFIX:
                    raise OutputError("the file is already packed.")
                out = pack.pack(data)
                in_size = len(data)
            else:
                with open(src, "rb") as fh:  # the signature only; read_file_bytes unpacks
                    if not pack.is_jxl(fh.read(16)):
                        raise OutputError("the file is not a JPEG XL file made by rawjpeg pack.")
                out = read_file_bytes(src)
                in_size = src.stat().st_size
            write_atomic(dest, out, inputs=args.inputs)
        except RawJpegError as exc:
            print(f"rawjpeg: error: {src}: {exc}", file=sys.stderr)
            failures += 1
            continue
        except OSError as exc:
            print(
                f"rawjpeg: error: {src}: could not be read ({exc.strerror or exc}).",
                file=sys.stderr,
            )
            failures += 1
            continue
        total_in += in_size
        total_out += len(out)
        change = 100.0 * (len(out) - in_size) / in_size
        print(
            f"{src} -> {dest}  {human_bytes(in_size)} -> {human_bytes(len(out))} ({change:+.1f} %)"
        )
    if len(args.inputs) > 1 and total_in:
        change = 100.0 * (total_out - total_in) / total_in
        print(
            f"{len(args.inputs) - failures} files: {human_bytes(total_in)} -> {human_bytes(total_out)} ({change:+.1f} %)"
        )
    return 1 if failures else 0


def run_pack(args: argparse.Namespace) -> int:
    """Pack every input; one bad file does not stop the others."""
    return _convert(args, pack.SUFFIX, packing=True)


def run_unpack(args: argparse.Namespace) -> int:
    """Unpack every input; one bad file does not stop the others."""
    return _convert(args, ".jpg", packing=False)
