"""The window as a user meets it: failed opens, highlight, R-D plot, layout, small points."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from rawjpeg_gui.core import codec


@pytest.fixture
def folder(tmp_path: Path, kdc: Path) -> Path:
    src = tmp_path / "photos"
    src.mkdir()
    for name in ("dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc"):
        shutil.copy(kdc.parent / name, src / name)
    (src / "bad.crw").write_bytes(b"\x00" * 4096)
    return src


def test_a_failed_open_replaces_every_panel_with_one_sentence(qtbot, window, folder: Path):
    window.open_paths([folder / "dcc_kodak_dc120_p003908.kdc"])
    assert window.session.current is not None and window.plots.rd_points == []
    assert window.inspector.fields["psnr"].text().endswith("dB")
    window.open_file(folder / "bad.crw")
    assert window.stack.currentWidget() is window.failed_view
    assert window.failed_view.title.text() == "Could not open bad.crw"
    message = window.failed_view.message.text()
    assert "bad.crw" in message and "b'" not in message and message.endswith(".")
    assert window.inspector.fields["psnr"].text() == "–"
    assert window.inspector.fields["camera"].text() == "–"
    assert window.compare.left_caption.text() == "" and window.compare.right_caption.text() == ""
    assert window.plots.error_image.image is None and window.plots.rd_points == []
    assert "bad.crw" in window.windowTitle() and not window.acts.export_jpeg.isEnabled()
    # Opening a good file afterwards brings the compare view back.
    window.open_file(folder / "dcc_kodak_dc120_p003911.kdc")
    assert window.stack.currentWidget() is window.compare
    assert window.inspector.fields["file"].text() == "dcc_kodak_dc120_p003911.kdc"


def test_thumbnail_highlight_follows_alt_arrows(qtbot, window, folder: Path):
    window.open_paths([folder])
    qtbot.waitUntil(lambda: len(window.browser.paths) == 3, timeout=10000)
    assert window.browser.current_path() == window.current_path == folder / "bad.crw"
    for expected in ("dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc"):
        window.acts.next.trigger()
        assert window.current_path.name == expected
        assert window.browser.current_path() == window.current_path
        assert window.browser.grid.selectionModel().isSelected(window.browser.grid.currentIndex())
    window.acts.previous.trigger()
    assert window.browser.current_path().name == "dcc_kodak_dc120_p003908.kdc"


def test_opening_one_file_lists_its_folder_and_the_tree_is_not_at_root(window, folder: Path):
    window.open_paths([folder / "dcc_kodak_dc120_p003911.kdc"])
    names = sorted(p.name for p in window.browser.paths)
    assert names == ["bad.crw", "dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc"]
    assert window.browser.current_path().name == "dcc_kodak_dc120_p003911.kdc"
    assert window.browser.tree_root != Path("/")
    assert window.browser.grid.textElideMode() == Qt.TextElideMode.ElideMiddle


def test_rd_plot_ranges_per_image_marks_the_current_quality_and_has_no_raw_menu(
    window, folder: Path
):
    window.open_paths([folder / "dcc_kodak_dc120_p003908.kdc"])
    window.acts.rd_curve.trigger()
    plots = window.plots
    assert len(plots.rd_points) == 18
    coded = window.session.current
    xs, ys = plots.rd_current.getData()
    assert list(xs) == [coded.bpp] and list(ys) == [coded.psnr]
    assert float(window.inspector.fields["bpp"].text()) == pytest.approx(coded.bpp, abs=0.005)
    assert "you are here" in plots.rd_current_label.toPlainText()
    plots.rd_plot.getViewBox().scaleBy((0.1, 0.1))  # a user zooms far in...
    window.open_file(folder / "dcc_kodak_dc120_p003911.kdc")
    window.acts.rd_curve.trigger()
    QApplication.processEvents()
    (x0, x1), (y0, y1) = plots.rd_plot.getViewBox().viewRange()
    bpps = [p.bpp for p in plots.rd_points]
    assert x0 <= min(bpps) and x1 >= max(bpps)  # ...and the next image's curve is whole
    assert plots.rd_plot.getViewBox().menu is None or not plots.rd_plot.getViewBox().menuEnabled()
    assert not plots.rd_plot.getAxis("bottom").autoSIPrefix
    assert "(x0.001)" not in plots.rd_plot.getAxis("bottom").labelString()


def test_one_by_one_gamma_map_and_labelled_error_bar(window, kdc: Path, tmp_path: Path):
    from rawjpeg_gui.core import rawio
    from rawjpeg_gui.core.params import sanitize

    lut = np.stack([np.linspace(0, 1, 64) ** 0.45] * 3)
    params = sanitize(lut, np.full((1, 1), 0.8))
    jpg = tmp_path / "flat.jpg"
    raw = rawio.read_raw(kdc)
    jpg.write_bytes(codec.encode_with_params(raw, 70, params, None, "4:2:0", "test").jpeg)
    shutil.copy(kdc, tmp_path / "flat.kdc")
    window.open_file(jpg)
    plots = window.plots
    assert "one value" in plots.gamma_plot.titleLabel.text
    assert "whole frame" in plots.gamma_note.toPlainText()
    assert "error" in plots.error_bar.getAxis("left").labelText


def test_layout_adapts_to_small_windows_and_resets(qtbot, window):
    window.resize(800, 500)
    qtbot.waitUntil(lambda: window.layout_.wide is False, timeout=3000)
    browser, inspector, plots = window.docks
    assert inspector in window.tabifiedDockWidgets(browser)
    QApplication.processEvents()
    assert window.compare.width() >= 450  # the photo keeps most of the window
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: window.layout_.wide is True, timeout=3000)
    assert window.plots.columns == 4
    window.resizeDocks([browser], [40], Qt.Orientation.Horizontal)
    window.acts.reset_layout.trigger()
    QApplication.processEvents()
    assert browser.width() >= 140 and plots.isVisible()


def test_working_quality_belongs_to_the_user(window, kdc: Path, tmp_path: Path):
    jpg = tmp_path / "alone.jpg"
    jpg.write_bytes(codec.encode_file(kdc, 90).jpeg)
    window.quality.spin.setValue(63)
    window.open_file(jpg)
    assert window.inspector.fields["quality"].text() == "90"
    assert window.settings.quality == 63 and window.quality.quality() == 63
    window.open_file(kdc)
    assert window.session.current.quality == 63
    window.open_batch_dialog()
    assert window._batch_dialog.quality_spin.value() == 63
    window._batch_dialog.close()


def test_export_asks_before_replacing_a_file(qtbot, window, kdc: Path, tmp_path: Path, monkeypatch):
    from rawjpeg_gui.gui import dialogs

    window.open_file(kdc)
    dest = tmp_path / "old.jpg"
    dest.write_bytes(b"keep me")
    asked: list[Path] = []
    monkeypatch.setattr(dialogs, "ask_overwrite", lambda _w, p: asked.append(p) or False)
    window.outputs.export_adapter_jpeg(dest)
    assert asked == [dest] and dest.read_bytes() == b"keep me"
    monkeypatch.setattr(dialogs, "ask_overwrite", lambda _w, p: True)
    with qtbot.waitSignal(window.outputs.saved, timeout=10000):
        window.outputs.export_adapter_jpeg(dest)
    assert codec.is_adapter_jpeg(dest)


def test_exposure_steps_in_thirds_and_numbers_read_one_way(window):
    from rawjpeg_gui.gui import formats

    spin = window.quality.exposure
    spin.setValue(0.0)
    for _ in range(3):
        spin.stepBy(1)
    assert spin.value() == pytest.approx(1.0) and spin.text() == "+1 EV"
    spin.stepBy(1)
    assert spin.text() == "+1⅓ EV"
    assert formats.ratio(3.456) == "3.5×"
    assert formats.shutter_and_aperture(1.0, 1.0) == "unknown"
    assert formats.shutter_and_aperture(1 / 125, 5.6) == "1/125 s, f/5.6"


def test_split_line_is_dragged_on_the_image(qtbot, window, kdc: Path):
    window.open_file(kdc)
    window.set_compare_mode("split")
    compare = window.compare
    view = compare.left
    QApplication.processEvents()
    line = view.mapFromScene(compare.image_size[0] / 2, compare.image_size[1] / 2)
    target = view.mapFromScene(compare.image_size[0] * 0.25, compare.image_size[1] / 2)

    def send(kind, pos: QPoint, buttons):
        event = QMouseEvent(
            kind, QPointF(pos), QPointF(view.viewport().mapToGlobal(pos)),
            Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier,
        )  # fmt: skip
        QApplication.sendEvent(view.viewport(), event)

    left = Qt.MouseButton.LeftButton
    send(QMouseEvent.Type.MouseButtonPress, line, left)
    send(QMouseEvent.Type.MouseMove, target, left)
    send(QMouseEvent.Type.MouseButtonRelease, target, Qt.MouseButton.NoButton)
    assert compare.split_slider.value() == pytest.approx(250, abs=15)


def test_inspector_says_when_its_numbers_are_the_previous_qualitys(qtbot, window, kdc: Path):
    window.open_file(kdc)
    window.session._quality_timer.setInterval(200)
    window.session._preview_timer.setInterval(200)
    before = window.session.current.quality
    window.quality.spin.setValue(before - 20)
    assert window.inspector.fields["quality"].text() == f"{before} (coding {before - 20}…)"
    assert window.compare.right_caption.text().endswith(f"coding quality {before - 20}…")
    qtbot.waitUntil(
        lambda: window.inspector.fields["quality"].text() == str(before - 20), timeout=20000
    )


def test_the_dng_without_shooting_data_reads_unknown(window, shared_raw: Path):
    window.open_file(shared_raw / "tinydng_colorchart.dng")
    assert window.inspector.fields["exposure"].text() == "unknown"
    assert "f/1" not in window.inspector.fields["exposure"].text()
