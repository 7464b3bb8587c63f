"""The one folder walker: files and folders -> the ordered list of files to work on.

Both the batch (:func:`collect_sources`, :func:`walk_sources`) and the GUI's file
opening (``workers/jobs.collect_paths``) walk folders here, with the same rules:

- files named directly are kept whatever their suffix (the caller reports a bad one);
- from folders, only regular files whose suffix is wanted: FIFOs, sockets and devices
  are never listed, so nothing downstream can block reading one;
- hidden entries (``.name``, files and folders) are ignored;
- sub-folders are searched only when ``recursive``; a folder reached twice (a symlink
  loop, a folder given twice) is walked once;
- entries are sorted by name (case-insensitively), each file is listed once.

Each file comes with its folder relative to the folder it was found under, so a
batch can mirror the source tree under its destination.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

#: Put in ``extensions`` to take every regular file, whatever its suffix.
ANY_SUFFIX = "*"


@dataclass(frozen=True)
class SourceFile:
    """One file to work on.

    Attributes:
        path: the file.
        folder: its folder relative to the folder named by the user ("" for a file
            named directly or found at the top of a named folder).
    """

    path: Path
    folder: PurePath = PurePath()


def walk_sources(
    paths: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    extensions: Iterable[str] | None = None,
) -> list[SourceFile]:
    """Expand files and folders into :class:`SourceFile` values, without duplicates.

    Args:
        paths: files and folders, in the order wanted.
        recursive: also walk sub-folders.
        extensions: suffixes taken from folders (``"nef"`` or ``".NEF"``); ``None`` means
            every camera raw format, :data:`ANY_SUFFIX` every regular file.
    """
    if extensions is None:
        from ..rawio import RAW_EXTENSIONS

        extensions = RAW_EXTENSIONS
    wanted = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    any_suffix = "." + ANY_SUFFIX in wanted
    out: list[SourceFile] = []
    seen: set[str] = set()
    visited: set[str] = set()

    def add(p: Path, folder: PurePath) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            out.append(SourceFile(p, folder))

    def scan(folder: Path, relative: PurePath) -> None:
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
            try:
                mode = entry.stat().st_mode  # follows symlinks: a link to a FIFO is a FIFO
            except OSError:
                mode = 0  # a dangling link: listed if its suffix fits, reported by the caller
            path = Path(entry.path)
            if stat.S_ISDIR(mode):
                if recursive:
                    scan(path, relative / entry.name)
            elif (stat.S_ISREG(mode) or (mode == 0 and entry.is_symlink())) and (
                any_suffix or path.suffix.lower() in wanted
            ):
                add(path, relative)

    for item in paths:
        p = Path(item)
        if p.is_dir():
            scan(p, PurePath())
        else:
            add(p, PurePath())
    return out


def collect_sources(
    paths: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    extensions: Iterable[str] | None = None,
) -> list[Path]:
    """The files of :func:`walk_sources` as plain paths (the folder structure dropped)."""
    return [s.path for s in walk_sources(paths, recursive, extensions)]


def is_regular_file(path: Path) -> bool:
    """True when ``path`` (followed if a link) is a regular file: safe to read to the end."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
