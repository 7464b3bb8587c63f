"""GUI tests run headless (offscreen), with settings and caches in temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path_factory) -> None:
    """Thumbnails go to a per-session temporary folder, never the user's cache."""
    monkeypatch.setenv("RAWJPEG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


#: The shared real raws, next to the repository.
SHARED_RAW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "raw"


@pytest.fixture
def shared_raw() -> Path:
    """Folder of real camera raws (skips when absent)."""
    if not SHARED_RAW.is_dir():
        pytest.skip(f"the shared raw folder {SHARED_RAW} is absent")
    return SHARED_RAW.resolve()


@pytest.fixture
def kdc(shared_raw: Path) -> Path:
    """A small real raw (Kodak DC120, 1.3 MP)."""
    path = shared_raw / "dcc_kodak_dc120_p003908.kdc"
    if not path.is_file():
        pytest.skip(f"{path.name} is absent from the shared raws")
    return path


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
    qtbot.addWidget(win)
    win.show()
    return win
