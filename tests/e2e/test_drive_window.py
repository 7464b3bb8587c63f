"""Runs ``drive_window.py``: the real window on Xvfb, driven with xdotool, photographed.

The pictures are for people (look at them after a change to the GUI); this test checks
what the app itself logged while being driven: the broken file got its sentence, the
keys moved through the folder, the slider re-coded, and the file dropped from another
window was opened with its folder listed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RAWS = HERE.parents[1].parent / "shared" / "data" / "raw"


def test_a_user_drives_the_real_window(tmp_path: Path) -> None:
    missing = [t for t in ("Xvfb", "xdotool", "import") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs them)")
    if not (RAWS / "dcc_canon_g2_0304.crw").is_file():
        pytest.skip(f"the shared raws are absent from {RAWS}")
    done = subprocess.run([sys.executable, str(HERE / "drive_window.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    shots = sorted(tmp_path.glob("*.png"))
    assert len(shots) == 9 and all(p.stat().st_size > 10_000 for p in shots)
    log = (tmp_path / "app.log").read_text()
    assert "status (error): bad.crw is not a camera raw file rawjpeg can read" in log
    assert "b'" not in log.split("status (error):", 1)[1].splitlines()[0]
    for name in ("dcc_canon_g2_0304.crw", "dcc_kodak_dc120_p003908.kdc", "dcc_canon_s40_0119.crw"):
        assert f"Opening {name}" in log
    assert "Quality 65:" in log  # Ctrl+Shift+Down re-coded at 75 - 10
    assert "Traceback" not in log.split("Opening dcc_canon_s40_0119.crw", 1)[1]
