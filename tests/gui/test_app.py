"""The app's entry points: arguments, --self-test, the welcome panel and its sample."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from rawjpeg_gui import app
from rawjpeg_gui.gui.resources import resources_dir, sample_raw


def test_arguments():
    args = app.parse_args(["a.dng", "folder", "--screenshot", "x.png"])
    assert args.paths == [Path("a.dng"), Path("folder")] and args.screenshot == Path("x.png")
    assert not app.parse_args([]).self_test


def test_self_test_exit_code_comes_from_selftest(monkeypatch):
    fake = types.ModuleType("rawjpeg_gui.selftest")
    fake.run_self_test = lambda: 3
    monkeypatch.setitem(sys.modules, "rawjpeg_gui.selftest", fake)
    assert app.main(["--self-test"]) == 3


def test_sample_is_found_next_to_the_package():
    base = resources_dir()
    if base is None or not (base / "sample").is_dir():
        pytest.skip("no resources/sample folder in this checkout")
    sample = sample_raw()
    assert sample is not None and sample.parent == base / "sample"


def test_welcome_panel_opens_the_sample(window):
    assert window.stack.currentWidget() is window.welcome
    if sample_raw() is None:
        assert not window.welcome.sample_button.isEnabled()
        return
    window.welcome.sample_button.click()
    assert window.stack.currentWidget() is window.compare
    assert window.session.image is not None and window.session.image.path == sample_raw()
    assert window.session.current is not None


def test_save_reconstructed_raw_as_dng(window, kdc: Path, tmp_path: Path):
    from rawjpeg_gui.workers.outputs import dng_available

    if not dng_available():
        pytest.skip("rawjpeg_gui.core.dng is not installed")
    window.open_paths([kdc])
    dest = tmp_path / "back.dng"
    window.outputs.save_dng(dest)
    assert dest.is_file() and dest.read_bytes()[:4] in (b"II*\x00", b"MM\x00*")
    import rawpy

    with rawpy.imread(str(dest)) as raw:
        assert raw.sizes.width > 0


def test_batch_dialog_opens_with_the_listed_files(qtbot, window, kdc: Path):
    if not window.acts.batch.isEnabled():
        pytest.skip("the batch dialog is not installed")
    window.open_paths([kdc])
    window.acts.batch.trigger()
    dialog = window._batch_dialog
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    dialog.close()
