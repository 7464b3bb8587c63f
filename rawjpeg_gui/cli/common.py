"""Small helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path

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
        "--no-search", action="store_true",
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
