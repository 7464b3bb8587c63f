"""``rawjpeg-gui``: arguments, logging, QApplication, settings and the main window.

Usage::

    rawjpeg-gui [PATH ...] [--screenshot FILE.png] [--self-test]

PATHs (files or folders) are opened at start. ``--screenshot`` saves a picture of
the window once the first image, its reconstruction and the plots are shown, then
exits 0 (works with ``QT_QPA_PLATFORM=offscreen``); 1 if nothing was ready within
``--timeout`` seconds, 2 if the image could not be opened (the picture shows why). ``--self-test`` runs the
installer's self test and exits with its status.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("rawjpeg_gui")

#: The packages of the ``[gui]`` extra.
GUI_MODULES = ("PySide6", "pyqtgraph")
MISSING_GUI = (
    "rawjpeg-gui needs the desktop extra, which is not installed: "
    'run pip install "rawjpeg[gui]" (the rawjpeg command works without it).'
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="rawjpeg-gui", description="View camera raws as adapter-JPEGs and what comes back."
    )
    parser.add_argument("paths", nargs="*", type=Path, help="raw files, adapter-JPEGs or folders")
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="save a picture of the window once everything is shown, then exit",
    )
    parser.add_argument("--self-test", action="store_true", help="run the self test and exit")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="with --screenshot: give up after this many seconds (default 300)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    return parser.parse_args(argv)


def save_screenshot(window, dest: Path) -> bool:  # type: ignore[no-untyped-def]
    """Grab ``window`` into a PNG file; True on success."""
    from rawjpeg_gui.core.fileio import write_atomic_with

    image = window.grab().toImage()
    write_atomic_with(dest, lambda tmp: image.save(str(tmp), "PNG") or None)
    return dest.is_file() and dest.stat().st_size > 0


def main(argv: list[str] | None = None) -> int:
    """Run the app; returns the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.self_test:
        from rawjpeg_gui.selftest import run_self_test  # provided by the installer work

        return int(run_self_test())

    try:
        from PySide6.QtCore import QCoreApplication, Qt, QTimer
        from PySide6.QtGui import QGuiApplication, QIcon
        from PySide6.QtWidgets import QApplication

        from rawjpeg_gui.gui.main_window import MainWindow
        from rawjpeg_gui.gui.resources import resources_dir
        from rawjpeg_gui.gui.theme import follow_system_scheme
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in GUI_MODULES:
            raise
        print(MISSING_GUI, file=sys.stderr)
        return 1

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QCoreApplication.setOrganizationName("rawjpeg")
    QCoreApplication.setApplicationName("rawjpeg-gui")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    app.setDesktopFileName("rawjpeg-gui")
    icon = (resources_dir() or Path(".")) / "rawjpeg.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    follow_system_scheme(app)
    window = MainWindow()
    status = {"code": 0}
    failures: list[str] = []
    if args.screenshot is not None:
        dest = args.screenshot.resolve()
        window.resize(1400, 900)  # documentation pictures do not depend on a saved layout

        def shoot() -> None:
            try:
                ok = save_screenshot(window, dest)
                print(f"Saved {dest}" if ok else f"Could not save {dest}", flush=True)
                status["code"] = 0 if ok else 1
            except Exception as exc:  # one sentence, not a traceback
                print(f"Could not save the screenshot: {exc}", file=sys.stderr)
                status["code"] = 1
            window.close()
            app.quit()

        def give_up() -> None:
            print("The window was not ready in time; no screenshot saved.", file=sys.stderr)
            status["code"] = 1
            window.close()
            app.quit()

        window.ready.connect(lambda: QTimer.singleShot(300, shoot))
        window.session.failed.connect(lambda _path, message: failures.append(message))
        QTimer.singleShot(int(args.timeout * 1000), give_up)
        if not args.paths:
            QTimer.singleShot(500, shoot)
    window.show()
    if args.paths:
        missing = [p for p in args.paths if not p.exists()]
        for p in missing:
            print(f"{p}: no such file or folder.", file=sys.stderr)
        present = [p for p in args.paths if p.exists()]
        if present:
            QTimer.singleShot(0, lambda: window.open_paths(present))
    code = app.exec()
    if args.screenshot is not None and failures and not status["code"]:
        print(f"The image could not be shown: {failures[0]}", file=sys.stderr)
        return 2
    return status["code"] or int(code)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
