"""The main window with synchronous pools: open, re-code, export, drop, errors, actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from rawjpeg_gui.core import codec


def _drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_every_action_has_a_shortcut(window):
    table = window.acts.shortcut_table()
    assert len(table) >= 30
    missing = [text for text, keys in table if not keys]
    assert not missing, missing
    keys = [k for _t, k in table]
    assert len(keys) == len(set(keys)), "shortcuts must be unique"


@pytest.mark.slow
def test_open_raw_recode_and_export(qtbot, window, kdc: Path, tmp_path: Path):
    window.open_paths([kdc])
    assert window.session.current is not None
    assert window.inspector.fields["camera"].text().startswith("Eastman Kodak")
    assert window.inspector.fields["psnr"].text().endswith("dB")
    window.acts.rd_curve.trigger()
    assert len(window.plots.rd_points) == 18
    assert window.acts.export_jpeg.isEnabled()
    window.quality.slider.setValue(30)
    qtbot.waitUntil(lambda: window.session.current.quality == 30, timeout=10000)
    assert window.inspector.fields["quality"].text() == "30"
    assert window.settings.quality == 30
    dest = tmp_path / "out.jpg"
    with qtbot.waitSignal(window.outputs.saved, timeout=10000):
        window.outputs.export_adapter_jpeg(dest)
    assert codec.is_adapter_jpeg(dest) and codec.decode_file(dest).quality == 30
    tif = tmp_path / "out.tif"
    window.outputs.save_tiff(tif)
    assert tif.stat().st_size > 0


@pytest.mark.slow
def test_export_never_overwrites_the_input(qtbot, window, kdc: Path, tmp_path: Path):
    window.open_paths([kdc])
    with qtbot.waitSignal(window.outputs.failed, timeout=10000) as blocker:
        window.outputs.export_adapter_jpeg(kdc)
    assert "overwrite" in blocker.args[0]


@pytest.mark.slow
def test_drop_folder_lists_raws_and_reports_unsupported(qtbot, window, kdc: Path, tmp_path: Path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / kdc.name).write_bytes(kdc.read_bytes())
    (tmp_path / "notes.txt").write_text("hello")
    _drop(window, [tmp_path, tmp_path / "notes.txt"])
    qtbot.waitUntil(lambda: window.browser.paths != [], timeout=10000)
    assert [p.name for p in window.browser.paths] == [kdc.name]
    assert "notes.txt" in window.skipped_label.text() and window.skipped_label.isVisible()


def test_corrupt_file_shows_a_clear_message_and_writes_nothing(window, tmp_path: Path):
    bad = tmp_path / "broken.dng"
    bad.write_bytes(b"II*\x00garbage" * 10)
    before = sorted(tmp_path.iterdir())
    window.open_paths([bad])
    assert window.inspector.error_label.isVisible()
    assert "broken.dng" in window.inspector.error_label.text()
    assert "broken.dng" in window.status_label.text()
    assert not window.acts.export_jpeg.isEnabled()
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.slow
def test_adapter_jpeg_opens_with_its_raw_beside_it(window, kdc: Path, tmp_path: Path):
    raw = tmp_path / kdc.name
    raw.write_bytes(kdc.read_bytes())
    jpg = tmp_path / f"{kdc.stem}.jpg"
    jpg.write_bytes(codec.encode_file(raw, 45).jpeg)
    window.quality.spin.setValue(70)
    window.open_file(jpg)
    image = window.session.image
    assert image.kind == "adapter" and image.original_path == raw
    # The file's own quality is shown, the user's working quality is kept.
    assert window.inspector.fields["quality"].text() == "45"
    assert window.quality.quality() == 70 and window.settings.quality == 70
    assert window.session.quality == 70
    assert "stored in the file" in window.compare.right_caption.text()
    assert window.inspector.fields["ssim"].text() != "–"


@pytest.mark.slow
def test_modes_exposure_and_recent_folders(qtbot, window, kdc: Path, tmp_path: Path):
    for name in ("a.kdc", "b.kdc"):
        (tmp_path / name).write_bytes(kdc.read_bytes())
    window.open_paths([tmp_path])
    qtbot.waitUntil(lambda: window.session.current is not None, timeout=10000)
    window.acts.mode_difference.trigger()
    assert window.compare.mode == "difference" and window.settings.compare_mode == "difference"
    window.acts.exposure_up.trigger()
    assert window.settings.exposure_ev > 0
    assert window.settings.recent_folders == [tmp_path]
    assert window.acts.recent_menu.actions()[0].text() == str(tmp_path)
    assert window.current_path == tmp_path / "a.kdc"
    window.acts.next.trigger()
    assert window.current_path == tmp_path / "b.kdc"
    assert window.session.image.path == tmp_path / "b.kdc"


def test_output_actions_are_there(window):
    """Batch export and DNG output always ship: their actions are offered."""
    assert window.acts.batch.isEnabled()
    assert window.acts.save_dng.isVisible()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Qt 6 marks this constructor
def test_drag_enter_accepts_local_files(window, kdc: Path):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QDragEnterEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(kdc))])
    event = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(event)
    assert event.isAccepted()


def test_window_layout_and_settings_survive_a_restart(qtbot, settings, sync_pools):
    from rawjpeg_gui.gui.main_window import MainWindow

    first = MainWindow(settings=settings, pools=sync_pools)
    qtbot.addWidget(first)
    first.show()
    first.quality.spin.setValue(42)
    first.quality.exposure.setValue(-1.0)
    first.set_compare_mode("split")
    first.docks[2].hide()
    first.close()
    second = MainWindow(settings=settings, pools=sync_pools)
    qtbot.addWidget(second)
    second.show()
    assert second.quality.quality() == 42 and second.session.quality == 42
    assert second.quality.exposure.value() == -1.0 and second.compare.mode == "split"
    assert not second.docks[2].isVisible()


def test_drops_anywhere_reach_the_window(window):
    from PySide6.QtWidgets import QWidget

    takers = [w for w in window.findChildren(QWidget) if w.acceptDrops()]
    assert not takers, [type(w).__name__ for w in takers]
    assert window.acceptDrops()
