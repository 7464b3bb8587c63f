"""``rawjpeg batch``: placeholder registration until the batch engine lands (issue 5)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register nothing yet: the batch command is added with the batch engine."""
    del sub
