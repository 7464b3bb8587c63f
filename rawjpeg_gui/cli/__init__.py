"""The ``rawjpeg`` command: a thin argparse layer over :mod:`rawjpeg_gui.core`.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``. Errors from the core become one line on stderr naming the
file and the problem, and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..core.errors import RawJpegError
from . import batch_cmd, decode_cmd, encode_cmd, eval_cmd, info_cmd, pack_cmd

COMMANDS = (encode_cmd, decode_cmd, info_cmd, eval_cmd, batch_cmd, pack_cmd)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used by the docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="rawjpeg",
        description="Store camera raw photos as ordinary JPEG files and bring the raw back.",
    )
    parser.add_argument("--version", action="version", version=f"rawjpeg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rawjpeg`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except RawJpegError as exc:
        print(f"rawjpeg: error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"rawjpeg: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rawjpeg: interrupted; no partial output was left.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``rawjpeg info X | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
