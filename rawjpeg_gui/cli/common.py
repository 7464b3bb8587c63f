"""Small helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputFileError, OutputError
from ..core.model import AdapterModel
from ..core.quality import check_quality


def quality_arg(text: str) -> int:
    """argparse type: an integer JPEG quality 1-100."""
    try:
        return check_quality(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_model_arg(parser: argparse.ArgumentParser) -> None:
    """The shared ``--model`` option."""
    parser.add_argument(
        "--model", type=Path, default=None, help="adapter model (.onnx); default: the bundled model"
    )


def add_search_arg(parser: argparse.ArgumentParser) -> None:
    """The shared ``--no-search`` option (core/search.py)."""
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="use the operators predicted for the quality instead of the encoder's search "
        "over the model's operating points (faster, usually larger files at equal quality)",
    )


def load_model(path: Path | None) -> AdapterModel:
    """Load ``path`` or the bundled model."""
    from ..core.codec import default_model

    return AdapterModel(path) if path is not None else default_model()


def human_bytes(n: float) -> str:
    """1234567 -> '1.2 MB'."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} GB"


# ---------------------------------------------------------------- conventions shared by sub-commands

#: The name for standard input or output where a single file flows.
STDIO = "-"


def add_verbosity_args(parser: argparse.ArgumentParser, top_level: bool = False) -> None:
    """``--quiet`` and ``-v/--verbose`` (``-q`` stays the quality).

    Given on the top-level parser and on each sub-command, so both
    ``rawjpeg --quiet encode ...`` and ``rawjpeg encode ... --quiet`` work; the
    sub-command's copies default to "not given" so they never reset the top level's.
    """
    default = {} if top_level else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print only errors (and the data asked for)",
        **({"default": False} if top_level else default),
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        help="say more: timings, what LibRaw reported, full details of unexpected errors (-vv: warnings too)",
        **({"default": 0} if top_level else default),
    )


def is_quiet(args: argparse.Namespace) -> bool:
    """``--quiet`` was given."""
    return bool(getattr(args, "quiet", False))


def verbosity(args: argparse.Namespace) -> int:
    """How many ``-v`` were given (0 when ``--quiet``)."""
    return 0 if is_quiet(args) else int(getattr(args, "verbose", 0) or 0)


def say(args: argparse.Namespace, text: str, to_stderr: bool = False) -> None:
    """Print an informational line unless ``--quiet`` (stderr when stdout carries data)."""
    if not is_quiet(args):
        print(text, file=sys.stderr if to_stderr else sys.stdout, flush=True)


def escape_text(text: object) -> str:
    """A stored string made safe for a terminal: control characters as ``\\xNN`` escapes."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in str(text)
    )


def json_ready(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (strict JSON has no NaN literal)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value


def dump_json(doc: Any) -> bytes:
    """Strict JSON (``null`` for NaN, never a NaN literal), UTF-8, ending in a newline."""
    return (
        json.dumps(json_ready(doc), indent=1, allow_nan=False, ensure_ascii=False) + "\n"
    ).encode("utf-8")


def write_json(
    dest: str | Path, doc: Any, inputs: Sequence[Path] = (), overwrite: bool = True
) -> None:
    """Write ``doc`` as strict JSON to ``dest`` atomically, or to stdout when ``dest`` is ``-``;
    an existing ``dest`` is replaced only when ``overwrite``."""
    data = dump_json(doc)
    if str(dest) == STDIO:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from ..core.fileio import write_atomic

    write_atomic(Path(dest), data, inputs=inputs, overwrite=overwrite)


def write_stdout_binary(data: bytes, what: str) -> None:
    """Write a binary file to stdout, refusing a terminal (it would print garbage)."""
    if sys.stdout.isatty():
        raise OutputError(
            f"Refusing to write the {what} to a terminal; redirect it to a file or a pipe."
        )
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def read_stdin(limit: int) -> bytes:
    """All of standard input, refusing more than ``limit`` bytes."""
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise InputFileError(
            f"Standard input holds more than {limit >> 20} MB; rawjpeg reads no larger file."
        )
    if not data:
        raise InputFileError("Standard input is empty.")
    return data


def output_clashes(pairs: Sequence[tuple[Path, Path]]) -> list[str]:
    """One sentence per output that two or more inputs of one run would write."""
    by_dest: dict[str, tuple[Path, list[Path]]] = {}
    for src, dest in pairs:
        by_dest.setdefault(os.path.normcase(os.path.abspath(dest)), (dest, []))[1].append(src)
    return [
        f"{' and '.join(str(s) for s in srcs)} would {'both' if len(srcs) == 2 else 'all'} be written to "
        f"{dest}; nothing was written "
        "(encode them into different folders, or one at a time with -o)."
        for dest, srcs in by_dest.values()
        if len(srcs) > 1
    ]
