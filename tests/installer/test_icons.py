"""installer/make_icons.py renders the SVG into the Windows and macOS icon files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ico_and_icns_are_made(qapp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # qapp first: make_icons would otherwise start a bare QGuiApplication, which later
    # widget tests in this process cannot use.
    import PySide6.QtSvg  # noqa: F401  (part of PySide6-Essentials: the icon needs it)
    from PIL import Image

    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "installer/make_icons.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path)]) == 0
    with Image.open(tmp_path / "rawjpeg.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    with Image.open(tmp_path / "rawjpeg.icns") as icns:
        assert icns.size == (1024, 1024)
    with Image.open(tmp_path / "png" / "rawjpeg-48.png") as small:
        rgba = small.convert("RGBA")
        assert rgba.getpixel((0, 0))[3] == 0  # transparent corner
        assert rgba.getpixel((24, 30))[3] == 255  # opaque middle
