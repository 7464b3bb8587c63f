"""Workers hand numpy arrays and dataclasses to the GUI: no QImage/QPixmap/widgets there."""

from __future__ import annotations

import ast
from pathlib import Path

import rawjpeg_gui.workers

FORBIDDEN = ("PySide6.QtGui", "PySide6.QtWidgets", "pyqtgraph", "rawjpeg_gui.gui")


def test_workers_import_only_qtcore():
    folder = Path(rawjpeg_gui.workers.__file__).parent
    offenders = []
    for source in sorted(folder.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{source.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert not offenders, offenders
