"""Source collection: files and folders -> the ordered list of files a batch exports."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def collect_sources(
    paths: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    extensions: Iterable[str] | None = None,
) -> list[Path]:
    """Expand files and folders into the list of source files, without duplicates.

    Files named directly are kept whatever their suffix (a bad one is reported by the
    batch). Folders contribute the entries whose suffix is in ``extensions`` (default:
    every camera raw format), sorted by name; hidden entries (``.name``) are ignored;
    sub-folders are searched when ``recursive``.
    """
    if extensions is None:
        from ..rawio import RAW_EXTENSIONS

        extensions = RAW_EXTENSIONS
    wanted = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    out: list[Path] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            out.append(p)

    visited: set[str] = set()

    def scan(folder: Path) -> None:
        real = os.path.realpath(folder)
        if real in visited:  # a symlink loop, or a folder given twice
            return
        visited.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name.lower())
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_dir():
                if recursive:
                    scan(path)
            elif path.suffix.lower() in wanted:
                add(path)

    for item in paths:
        p = Path(item)
        scan(p) if p.is_dir() else add(p)
    return out
