"""GUI tests: settings in temporary files, synchronous pools, a ready MainWindow.

Headless Qt, the private cache and the real-raw fixtures come from ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def settings(tmp_path: Path):
    """AppSettings stored in a temporary INI file (never the user's settings)."""
    from PySide6.QtCore import QSettings

    from rawjpeg_gui.gui.settings import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def sync_pools(qapp):
    """Synchronous pools: every job runs at once on the GUI thread."""
    from rawjpeg_gui.workers.pool import SynchronousPool

    return {n: SynchronousPool(n) for n in ("load", "code", "rd", "thumbnails", "save", "scan")}


@pytest.fixture
def window(qtbot, settings, sync_pools, monkeypatch):
    """A MainWindow with synchronous pools and no debounce delay worth waiting for."""
    from rawjpeg_gui.gui.main_window import MainWindow

    win = MainWindow(settings=settings, pools=sync_pools)
    win.session._quality_timer.setInterval(1)
    win.session._exposure_timer.setInterval(1)
    win.session.auto_rd = False  # tests that want the curve ask for it
    # Synchronous means in this thread: no encoder child process (tests/workers covers it).
    win.encoder.min_pixels = win.rd_encoder.min_pixels = 2**62
    qtbot.addWidget(win)
    win.show()
    return win
