"""Packaging: one version source, the runtime wheel's contents, the GUI extra's absence."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from realdata import ROOT

import rawjpeg_gui
from rawjpeg_gui.app import MISSING_GUI


def test_the_version_has_one_source() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    out = subprocess.run(
        [sys.executable, "-m", "rawjpeg_gui.cli", "--version"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout  # fmt: skip
    assert out.strip() == f"rawjpeg {rawjpeg_gui.__version__}"


@pytest.mark.parametrize("missing", ["PySide6", "pyqtgraph"])
def test_the_gui_without_its_extra_says_how_to_install_it(missing: str) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "from rawjpeg_gui.app import main\n"
        "sys.exit(main([]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1
    assert run.stderr.strip() == MISSING_GUI and "Traceback" not in run.stderr
    assert run.stdout == ""


@pytest.mark.slow
def test_the_runtime_wheel_carries_no_training_code(tmp_path: Path) -> None:
    """Build the wheel as ``pip install .`` does and list it."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("rawjpeg-*.whl")
    assert wheel.name.startswith(f"rawjpeg-{rawjpeg_gui.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if "training" in n or n.endswith(".toml")]
    for wanted in (
        "rawjpeg_gui/py.typed",
        "rawjpeg_gui/core/__init__.py",
        "rawjpeg_gui/models/adapter.onnx",
        "rawjpeg_gui/resources/sample/astronaut.dng",
        f"rawjpeg-{rawjpeg_gui.__version__}.dist-info/licenses/LICENSE",
    ):
        assert wanted in names, wanted
    meta = zipfile.ZipFile(wheel).read(f"rawjpeg-{rawjpeg_gui.__version__}.dist-info/METADATA")
    assert b"License-Expression: MIT" in meta and b"Classifier: Typing :: Typed" in meta
