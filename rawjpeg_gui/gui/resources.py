"""Where the app's bundled files are: the installed package or the source tree."""

from __future__ import annotations

from pathlib import Path

from rawjpeg_gui.core.package_data import data_dir
from rawjpeg_gui.core.rawio import is_raw_path


def resources_dir() -> Path | None:
    """``resources/`` inside the installed package, else the repository's ``resources/``."""
    return data_dir("resources")


def sample_raw() -> Path | None:
    """The first camera raw in ``resources/sample/``, if one is installed."""
    base = resources_dir()
    folder = base / "sample" if base is not None else None
    if folder is None or not folder.is_dir():
        return None
    raws = sorted(p for p in folder.iterdir() if p.is_file() and is_raw_path(p))
    return raws[0] if raws else None
