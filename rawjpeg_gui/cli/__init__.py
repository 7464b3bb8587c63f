"""The ``rawjpeg`` command: a thin argparse layer over :mod:`rawjpeg_gui.core`.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``. Errors from the core become one line on stderr naming the
file and the problem, and a non-zero exit status: 1 for a refused file, 2 for a
usage problem, 70 for an unexpected internal error (its details with ``-v``).
Library warnings (numpy's RuntimeWarnings) are not printed unless ``-vv``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence

import numpy as np

from .. import __version__
from ..core.errors import RawJpegError
from . import batch_cmd, decode_cmd, encode_cmd, eval_cmd, info_cmd, pack_cmd
from .common import add_verbosity_args, verbosity

COMMANDS = (encode_cmd, decode_cmd, info_cmd, eval_cmd, batch_cmd, pack_cmd)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used by the docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="rawjpeg",
        description="Store camera raw photos as ordinary JPEG files and bring the raw back.",
    )
    parser.add_argument("--version", action="version", version=f"rawjpeg {__version__}")
    add_verbosity_args(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    for command in sub.choices.values():
        taken = command._option_string_actions  # a sub-command may define its own
        if not {"--quiet", "-v", "--verbose"} & set(taken):
            add_verbosity_args(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rawjpeg`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = verbosity(args)
    if level:
        logging.basicConfig(
            level=logging.INFO if level == 1 else logging.DEBUG, format="rawjpeg: %(message)s"
        )
    elif not logging.getLogger().handlers:
        # Libraries' log records (tifffile's complaints about a damaged file) would reach
        # stderr through logging's last-resort handler beside our one sentence.
        logging.getLogger().addHandler(logging.NullHandler())
    try:
        with warnings.catch_warnings(), np.errstate(**({} if level >= 2 else {"all": "ignore"})):
            if level < 2:
                warnings.simplefilter("ignore")
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
    except MemoryError:
        print(f"rawjpeg: error: {args.command}: not enough memory for this file.", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one sentence, the traceback only on request
        if level:
            traceback.print_exc()
        print(
            f"rawjpeg: internal error: {args.command} stopped on an unexpected problem "
            f"({type(exc).__name__}); run it again with -v and report the output.",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":
    sys.exit(main())
