"""The frozen app (PyInstaller) builds and passes the offscreen smoke test.

Marked ``installer``; runs only on request (``pytest -m installer`` or
``RAWJPEG_TEST_FROZEN=1``). Reuses ``dist/rawjpeg-gui`` when it is newer than every
source it is built from, else runs ``installer/build.sh`` (about 70 s on 2 busy cores).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dist" / "rawjpeg-gui" / "rawjpeg-gui"

pytestmark = pytest.mark.installer


def _sources() -> list[Path]:
    files = [ROOT / "installer" / "rawjpeg-gui.spec", ROOT / "installer" / "launch.py"]
    files += [p for p in (ROOT / "rawjpeg_gui").rglob("*.py") if "training" not in p.parts]
    for folder in ("models", "resources"):
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file()]
    return files


def bundle_is_fresh() -> bool:
    """True when dist/rawjpeg-gui exists and is newer than all of its sources."""
    if not APP.is_file():
        return False
    built = APP.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in _sources())


def test_frozen_app_passes_smoke_test(frozen_requested: bool) -> None:
    if not frozen_requested:
        pytest.skip("builds the PyInstaller bundle: run with -m installer or RAWJPEG_TEST_FROZEN=1")
    if sys.platform != "linux":
        pytest.skip("the smoke test script is for the Linux build")
    env = dict(os.environ, PYTHON=sys.executable)
    if not bundle_is_fresh():
        build = subprocess.run(
            ["bash", str(ROOT / "installer" / "build.sh")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    smoke = subprocess.run(
        ["bash", str(ROOT / "installer" / "smoke_test.sh"), str(APP)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert smoke.returncode == 0, smoke.stdout[-4000:] + smoke.stderr[-4000:]
    assert "smoke_test: PASS" in smoke.stdout
