"""Render ``resources/rawjpeg.svg`` into the icons the platform installers need.

Writes into ``build/icons/`` (ignored by git, made at build time):
``png/rawjpeg-<size>.png`` (16-1024 px), ``rawjpeg.ico`` (Windows: exe and setup icon)
and ``rawjpeg.icns`` (macOS app bundle). Qt renders the SVG (offscreen; no display
needed), Pillow writes the ICO and ICNS containers.

Usage: python installer/make_icons.py [--out build/icons]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_pngs(svg: Path, out: Path) -> dict[int, Path]:
    """Render ``svg`` at every size in :data:`SIZES`; returns size -> PNG path."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: Qt cannot read {svg}")
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out / f"rawjpeg-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"make_icons: could not write {path}")
        paths[size] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "icons")
    args = parser.parse_args(argv)
    from PIL import Image

    pngs = render_pngs(ROOT / "resources" / "rawjpeg.svg", args.out / "png")
    with Image.open(pngs[256]) as big:
        big.save(args.out / "rawjpeg.ico", sizes=[(s, s) for s in ICO_SIZES])
    with Image.open(pngs[1024]) as huge:
        huge.save(args.out / "rawjpeg.icns")
    for name in ("rawjpeg.ico", "rawjpeg.icns"):
        print(f"wrote {args.out / name} ({(args.out / name).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
