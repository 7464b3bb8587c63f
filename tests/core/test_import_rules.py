"""The core stays free of Qt and torch (also enforced by import-linter in .ci/run)."""

from __future__ import annotations

import subprocess
import sys

from realdata import ROOT


def test_core_and_cli_import_neither_qt_nor_torch() -> None:
    code = (
        "import sys, pkgutil, importlib, rawjpeg_gui.core as c, rawjpeg_gui.cli\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('rawjpeg_gui.core.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'torch', 'shiboken6')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
