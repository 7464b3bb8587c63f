"""``rawjpeg-gui --self-test``: prove an installation works, without a display.

The check a release pipeline runs against the frozen build (and a user can run after
installing): the bundled resources are present, the libraries import, the bundled
model loads, the icon renders through Qt's SVG plugin, every app module imports, the
main window builds (offscreen, with scratch settings), and the bundled sample raw
survives an encode/decode round trip at quality 75 with a sane PSNR, also in a batch
worker process (a frozen app must be able to re-run itself for those). One line per
check; :func:`run_self_test` returns the process exit status (0 passed, 1 failed).

Paths are package-relative, so the same code works in the source tree, in an installed
wheel (``rawjpeg_gui/resources``) and in a PyInstaller bundle (``sys._MEIPASS``).
"""

from __future__ import annotations

import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from .core.package_data import candidate_dirs, data_dir

#: Quality of the round-trip check.
SELF_TEST_QUALITY = 75
#: Lowest acceptable PSNR (dB) of the round trip. The analytic fallback model gives 38-40 dB
#: on the sample at quality 75 (39.5 dB measured); a broken codec, model or library far less.
MIN_PSNR_DB = 35.0
ICON_NAME = "rawjpeg.svg"
DESKTOP_NAME = "rawjpeg-gui.desktop"
SAMPLE_NAME = "astronaut.dng"
#: Modules the desktop app needs (the frozen build must contain them all).
GUI_MODULES = ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg", "pyqtgraph")
CORE_MODULES = (
    "numpy",
    "onnxruntime",
    "rawpy",
    "PIL.Image",
    "tifffile",
    "platformdirs",
    "exifread",
    "exiv2",
)


def is_frozen() -> bool:
    """True inside a PyInstaller (or similar) bundle."""
    return bool(getattr(sys, "frozen", False))


def resource_dir() -> Path:
    """The folder holding the icon, the .desktop template and ``sample/``.

    Raises:
        FileNotFoundError: no candidate folder contains the icon.
    """
    folder = data_dir("resources", ICON_NAME)
    if folder is None:
        tried = ", ".join(str(d) for d in candidate_dirs("resources"))
        raise FileNotFoundError(f"rawjpeg's resources folder is missing (looked in {tried}).")
    return folder


def sample_raw_path() -> Path:
    """The bundled sample raw (``resources/sample/astronaut.dng``)."""
    return resource_dir() / "sample" / SAMPLE_NAME


# -- the checks: each returns a one-line detail or raises -------------------------------


def check_resources() -> str:
    """Icon, .desktop template and sample raw are present."""
    folder = resource_dir()
    missing = [
        rel
        for rel in (ICON_NAME, DESKTOP_NAME, f"sample/{SAMPLE_NAME}")
        if not (folder / rel).is_file()
    ]
    if missing:
        raise FileNotFoundError(f"missing in {folder}: {', '.join(missing)}")
    return f"{folder} (icon, desktop file, sample)"


def check_libraries(gui: bool) -> str:
    """The core (and GUI) libraries import; names their versions and whether LibRaw
    decodes into zero-filled heap blocks (:mod:`core.heapguard`)."""
    import importlib

    names = CORE_MODULES + (GUI_MODULES if gui else ())
    for name in names:
        importlib.import_module(name)
    import numpy
    import onnxruntime
    import rawpy

    parts = [
        f"numpy {numpy.__version__}",
        f"onnxruntime {onnxruntime.__version__}",
        f"rawpy {rawpy.__version__} (LibRaw {'.'.join(map(str, rawpy.libraw_version))})",
    ]
    from .core.heapguard import status as heap_status

    unguarded = heap_status()
    parts.append(
        f"raw buffers not zero-filled: {unguarded}" if unguarded else "raw buffers zero-filled"
    )
    if gui:
        import pyqtgraph
        import PySide6

        parts += [f"PySide6 {PySide6.__version__}", f"pyqtgraph {pyqtgraph.__version__}"]
    return ", ".join(parts)


def check_model() -> str:
    """The bundled adapter model is found and loads."""
    from .core.model import AdapterModel, default_model_path

    path = default_model_path()
    model = AdapterModel(path)
    return f"{model.info.name} ({path})"


def check_icon() -> str:
    """The SVG icon renders through Qt's image plugins (needs no display)."""
    from PySide6.QtGui import QImage

    path = resource_dir() / ICON_NAME
    image = QImage(str(path))
    if image.isNull():
        raise RuntimeError(f"Qt could not render {path.name} (is the SVG image plugin bundled?)")
    return f"{path.name} renders at {image.width()}x{image.height()}"


def check_app_modules() -> str:
    """Every module of the desktop app imports (catches what a frozen build left out)."""
    import importlib
    import pkgutil

    importlib.import_module("rawjpeg_gui.app")
    names = []
    for package in ("gui", "workers"):
        pkg = importlib.import_module(f"rawjpeg_gui.{package}")
        for info in pkgutil.iter_modules(pkg.__path__):
            names.append(f"rawjpeg_gui.{package}.{info.name}")
    for name in names:
        importlib.import_module(name)
    return f"rawjpeg_gui.app and {len(names)} gui/worker modules"


def check_window() -> str:
    """The main window builds offscreen with scratch settings and offers the sample."""
    import os
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # The self-test never shows anything: draw offscreen unless told otherwise.
        previous = os.environ.get("QT_QPA_PLATFORM")
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        try:
            app = QApplication([sys.argv[0] if sys.argv else "rawjpeg-gui"])
        finally:
            if previous is None:
                os.environ.pop("QT_QPA_PLATFORM", None)
    if not isinstance(app, QApplication):
        raise RuntimeError("a QGuiApplication without widgets is running; cannot build windows")
    platform_name = app.platformName()

    from .gui.main_window import MainWindow
    from .gui.resources import sample_raw
    from .gui.settings import AppSettings

    with tempfile.TemporaryDirectory(prefix="rawjpeg-selftest-") as tmp:
        store = QSettings(os.path.join(tmp, "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=AppSettings(store))
        try:
            window.resize(1000, 700)
            window.show()
            app.processEvents()
            title = window.windowTitle()
        finally:
            window.close()
            window.deleteLater()
            app.processEvents()
            del store
    if sample_raw() is None:
        raise FileNotFoundError("the app's welcome panel finds no sample raw")
    return f"'{title}' built on the {platform_name} platform; welcome panel offers the sample"


def check_round_trip() -> str:
    """Encode and decode the sample at quality 75; the PSNR must reach the threshold."""
    from .core import codec, metrics, rawio

    start = time.perf_counter()
    raw = rawio.read_raw(sample_raw_path())
    encoded = codec.encode_image(raw, SELF_TEST_QUALITY)
    restored = codec.decode_bytes(encoded.jpeg)
    value = metrics.psnr(raw.data, restored.raw.data)
    elapsed = time.perf_counter() - start
    detail = (
        f"{SAMPLE_NAME} at quality {SELF_TEST_QUALITY}: {len(encoded.jpeg):,} bytes, "
        f"PSNR {value:.1f} dB (needs {MIN_PSNR_DB:.1f}), {elapsed:.1f} s"
    )
    if not value >= MIN_PSNR_DB:
        raise RuntimeError(detail)
    return detail


def check_batch_worker() -> str:
    """A batch export in a worker process ("spawn": a frozen app must re-enter itself)."""
    import tempfile

    from .core import batch

    with tempfile.TemporaryDirectory(prefix="rawjpeg-selftest-") as tmp:
        options = batch.BatchOptions(
            destination=Path(tmp), quality=SELF_TEST_QUALITY, workers=1, verify=True
        )
        finished = None
        for event in batch.run_batch([sample_raw_path()], options):
            if isinstance(event, batch.BatchFinished):
                finished = event
        if finished is None or finished.count(batch.FileStatus.WRITTEN) != 1:
            reasons = "; ".join(r.reason for r in (finished.results if finished else ()))
            raise RuntimeError(f"the worker process wrote nothing ({reasons or 'no result'})")
        result = finished.results[0]
        if result.psnr is None or not result.psnr >= MIN_PSNR_DB:
            raise RuntimeError(f"the worker's output has PSNR {result.psnr} dB")
        return f"1 file written and verified by a worker process ({finished.summary()})"


def _checks(gui: bool) -> list[tuple[str, Callable[[], str]]]:
    checks: list[tuple[str, Callable[[], str]]] = [
        ("resources", check_resources),
        ("libraries", lambda: check_libraries(gui)),
        ("model", check_model),
    ]
    if gui:
        checks += [
            ("icon", check_icon),
            ("app modules", check_app_modules),
            ("window", check_window),
        ]
    checks += [("round trip", check_round_trip), ("batch worker", check_batch_worker)]
    return checks


class _Report:
    """Where the report goes: a stream, plus ``$RAWJPEG_SELFTEST_LOG`` when set.

    A windowed Windows build has no ``sys.stdout``; the log file is how a build script
    reads the report there.
    """

    def __init__(self, out: TextIO | None) -> None:
        self.streams: list[TextIO] = [s for s in (out or sys.stdout,) if s is not None]
        self._log: TextIO | None = None
        log_path = os.environ.get("RAWJPEG_SELFTEST_LOG")
        if log_path:
            self._log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
            self.streams.append(self._log)

    def line(self, text: str) -> None:
        for stream in self.streams:
            print(text, file=stream)

    def close(self) -> None:
        for stream in self.streams:
            stream.flush()
        if self._log is not None:
            self._log.close()


def run_self_test(gui: bool = True, out: TextIO | None = None, verbose: bool = False) -> int:
    """Run every check, print one line per check, return 0 if all passed else 1.

    Args:
        gui: also check the Qt libraries and the icon (the desktop app's self-test).
        out: where to print (default ``sys.stdout``; also ``$RAWJPEG_SELFTEST_LOG`` if set).
        verbose: print the traceback of a failed check.
    """
    report = _Report(out)
    try:
        return _run(gui, report, verbose)
    finally:
        report.close()


def _run(gui: bool, report: _Report, verbose: bool) -> int:
    from . import __version__

    where = "frozen bundle" if is_frozen() else "source/installed package"
    report.line(
        f"rawjpeg {__version__} self-test ({where}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()})"
    )
    failed = 0
    for name, check in _checks(gui):
        try:
            detail = check()
        except Exception as exc:  # a self-test reports every failure, whatever its type
            failed += 1
            report.line(f"  FAIL  {name}: {type(exc).__name__}: {exc}")
            if verbose:
                report.line(traceback.format_exc().rstrip())
        else:
            report.line(f"  ok    {name}: {detail}")
    report.line("self-test passed" if not failed else f"self-test FAILED ({failed} checks)")
    return 0 if not failed else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m rawjpeg_gui.selftest [--no-gui] [-v]``."""
    args = sys.argv[1:] if argv is None else argv
    return run_self_test(gui="--no-gui" not in args, verbose="-v" in args)


if __name__ == "__main__":
    raise SystemExit(main())
