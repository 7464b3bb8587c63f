"""Where rawjpeg's bundled data folders (``models``, ``resources``) are.

One locator for the installed package (the wheel puts them inside ``rawjpeg_gui/``), a
PyInstaller bundle (``sys._MEIPASS``) and the source tree (beside the package).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The ``rawjpeg_gui`` package folder.
PACKAGE_DIR = Path(__file__).resolve().parent.parent


def candidate_dirs(name: str) -> list[Path]:
    """Where the data folder ``name`` may be, most specific first."""
    dirs = [PACKAGE_DIR / name]
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        dirs += [Path(meipass) / "rawjpeg_gui" / name, Path(meipass) / name]
    dirs.append(PACKAGE_DIR.parent / name)
    return dirs


def data_dir(name: str, holding: str | None = None) -> Path | None:
    """The first data folder ``name`` that exists (and holds the file ``holding``), or None."""
    for folder in candidate_dirs(name):
        if (folder / holding).is_file() if holding else folder.is_dir():
            return folder
    return None
