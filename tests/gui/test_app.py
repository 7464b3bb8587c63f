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
    base = resources_dir()  # the sample ships with every install: missing is a failure
    assert base is not None and (base / "sample").is_dir()
    sample = sample_raw()
    assert sample is not None and sample.parent == base / "sample"


@pytest.mark.slow
def test_welcome_panel_opens_the_sample(window):
    assert window.stack.currentWidget() is window.welcome
    assert sample_raw() is not None and window.welcome.sample_button.isEnabled()
    window.welcome.sample_button.click()
    assert window.stack.currentWidget() is window.compare
    assert window.session.image is not None and window.session.image.path == sample_raw()
    assert window.session.current is not None


@pytest.mark.slow
def test_save_reconstructed_raw_as_dng(window, kdc: Path, tmp_path: Path):
    window.open_paths([kdc])
    dest = tmp_path / "back.dng"
    window.outputs.save_dng(dest)
    assert dest.is_file() and dest.read_bytes()[:4] in (b"II*\x00", b"MM\x00*")
    import rawpy

    with rawpy.imread(str(dest)) as raw:
        assert raw.sizes.width > 0


@pytest.mark.slow
def test_batch_dialog_opens_with_the_listed_files(qtbot, window, kdc: Path):
    assert window.acts.batch.isEnabled()  # the batch dialog always ships
    window.open_paths([kdc])
    window.acts.batch.trigger()
    dialog = window._batch_dialog
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    dialog.close()
