"""The desktop app in a real X11 window (Xvfb), end to end from the command line.

The other GUI tests use Qt's offscreen platform. This one starts ``python -m rawjpeg_gui``
with Qt's xcb platform on an X server (the one CI's ``xvfb-run`` provides, or a private
``xvfb-run`` here), opens a real raw, waits for the reconstruction and the plots, and
saves a screenshot: it catches missing X/EGL libraries and platform-plugin problems that
offscreen runs cannot see.
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

REPO = Path(__file__).resolve().parents[2]
RAW = REPO / ".." / "shared" / "data" / "raw" / "dcc_kodak_dc120_p003908.kdc"


def _command(out: Path) -> list[str]:
    app = [
        sys.executable,
        "-m",
        "rawjpeg_gui",
        str(RAW),
        "--screenshot",
        str(out),
        "--timeout",
        "240",
    ]
    if os.environ.get("DISPLAY"):
        return app
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        pytest.skip("no X display and no xvfb-run (apt-get install xvfb; .ci/run does)")
    return [xvfb, "-a", "-s", "-screen 0 1600x1000x24", *app]


def test_app_runs_in_a_real_x11_window(tmp_path: Path) -> None:
    if not RAW.is_file():
        pytest.skip(f"the shared raw {RAW} is absent")
    out = tmp_path / "window.png"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="xcb",
        RAWJPEG_CONFIG_DIR=str(tmp_path / "cfg"),
        RAWJPEG_CACHE_DIR=str(tmp_path / "cache"),
    )
    done = subprocess.run(
        _command(out), env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    from PIL import Image

    with Image.open(out) as im:
        assert im.size[0] >= 1000 and im.size[1] >= 700
        colours = im.convert("RGB").resize((64, 40)).getcolors(64 * 40)
    assert colours is not None and len(colours) > 200  # a photograph and plots, not a blank window
