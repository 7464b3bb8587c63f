"""End to end through the desktop app on real camera raws (offscreen Qt, real threads).

Open a raw, move the quality slider, export the adapter-JPEG next to it, open the
export (the raw beside it is found and compared), save a screenshot; and the
``python -m rawjpeg_gui --screenshot`` command line does the same unattended.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: Slow: whole-app runs, fresh processes or several workers (not in -m 'not slow').
pytestmark = pytest.mark.slow

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[2]
SHARED_RAW = REPO / ".." / "shared" / "data" / "raw"
RAW_NAME = "dcc_kodak_dc120_p003911.kdc"


@pytest.fixture
def raw_copy(tmp_path: Path, monkeypatch) -> Path:
    """A real raw copied into a scratch folder (exports go next to it); private cache."""
    monkeypatch.setenv("RAWJPEG_CACHE_DIR", str(tmp_path / "cache"))
    source = SHARED_RAW / RAW_NAME
    if not source.is_file():
        pytest.skip(f"the shared raw {source} is absent")
    dest = tmp_path / "photos" / RAW_NAME
    dest.parent.mkdir()
    shutil.copy2(source, dest)
    return dest


def _non_blank(image) -> bool:  # type: ignore[no-untyped-def]
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)
    }
    return len(colours) > 20


def test_open_slide_export_reopen_screenshot(qtbot, raw_copy: Path, tmp_path: Path):
    from PySide6.QtCore import QSettings

    from rawjpeg_gui.core import codec
    from rawjpeg_gui.gui.main_window import MainWindow
    from rawjpeg_gui.gui.settings import AppSettings

    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    try:
        with qtbot.waitSignal(win.ready, timeout=120000):
            win.open_paths([raw_copy.parent])
        assert win.session.current is not None and len(win.plots.rd_points) == 18
        first = win.session.current.file_bytes

        with qtbot.waitSignal(win.session.coded, timeout=60000) as blocker:
            win.quality.slider.setValue(35)
        coded = blocker.args[0]
        assert coded.quality == 35 and coded.file_bytes < first
        assert win.inspector.fields["quality"].text() == "35"

        export = raw_copy.with_suffix(".jpg")
        with qtbot.waitSignal(win.outputs.saved, timeout=30000):
            win.outputs.export_adapter_jpeg(export)
        assert codec.is_adapter_jpeg(export) and codec.decode_file(export).quality == 35

        with qtbot.waitSignal(win.session.coded, timeout=60000):
            win.open_file(export)
        image = win.session.image
        assert image.kind == "adapter" and image.original_path == raw_copy
        assert win.quality.quality() == 35
        assert win.inspector.fields["psnr"].text().endswith("dB")

        shot = tmp_path / "e2e.png"
        picture = win.grab().toImage()
        assert picture.save(str(shot)) and shot.stat().st_size > 10_000
        assert _non_blank(picture)
    finally:
        win.session.cancel()
        for pool in win.pools.values():
            pool.wait_for_done(60000)


def test_command_line_screenshot(raw_copy: Path, tmp_path: Path):
    shot = tmp_path / "cli.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rawjpeg_gui",
            str(raw_copy),
            "--screenshot",
            str(shot),
            "--timeout",
            "150",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_command_line_screenshot_of_a_corrupt_raw_says_why(tmp_path: Path):
    bad = tmp_path / "broken.cr2"
    bad.write_bytes(b"II*\x00" + bytes(4000))
    shot = tmp_path / "bad.png"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        RAWJPEG_CACHE_DIR=str(tmp_path / "cache"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "rawjpeg_gui", str(bad), "--screenshot", str(shot)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "broken.cr2" in done.stderr
    assert shot.is_file()  # the window, showing the message
