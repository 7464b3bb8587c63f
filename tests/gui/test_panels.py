"""Panels on their own: quality controls, compare view modes and zoom sync, settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from rawjpeg_gui.gui.compare_view import CompareView
from rawjpeg_gui.gui.images import to_qimage, with_badge
from rawjpeg_gui.gui.quality_panel import QualityPanel


def test_quality_slider_and_spin_box_stay_in_step(qtbot):
    panel = QualityPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.quality_changed) as blocker:
        panel.slider.setValue(33)
    assert blocker.args == [33] and panel.spin.value() == 33
    with qtbot.waitSignal(panel.quality_changed) as blocker:
        panel.spin.setValue(90)
    assert blocker.args == [90] and panel.slider.value() == 90
    with qtbot.assertNotEmitted(panel.quality_changed):
        panel.set_quality(12)
    assert panel.quality() == 12 and panel.slider.value() == 12
    panel.spin.setValue(100)
    panel.step_quality(5)
    assert panel.quality() == 100  # clamped


def _image(w: int, h: int, value: int) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def test_compare_view_modes_and_synchronised_zoom(qtbot):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(800, 400)
    view.show()
    view.set_original(_image(200, 100, 40), (2000, 1000), "Original raw")
    view.set_reconstruction(_image(200, 100, 200), "Reconstruction")
    view.set_error(_image(200, 100, 90))
    assert view.left.fitted and view.left.zoom() < 1
    view.actual_size()
    assert abs(view.left.zoom() - 1.0 / view.devicePixelRatioF()) < 1e-6
    assert abs(view.right.zoom() - view.left.zoom()) < 1e-9
    view.left.centerOn(1500, 500)
    qtbot.wait(10)
    assert abs(view.right.center().x() - view.left.center().x()) < 2
    view.zoom_by(2.0)
    assert abs(view.right.zoom() - view.left.zoom()) < 1e-9
    with qtbot.waitSignal(view.mode_changed) as blocker:
        view.mode_box.setCurrentIndex(1)
    assert blocker.args == ["split"] and not view.right.isVisible()
    assert view.left.fitted and view.left.zoom() < 1  # the hidden right pane does not lead
    view.split_slider.setValue(250)
    assert view._split_recon.clip_left == 500
    view.set_mode("difference")
    assert view._error.isVisible() and not view._original.isVisible()
    view.set_mode("side")
    assert view.right.isVisible() and view.left_caption.text() == "Original raw"


def test_zooming_past_the_preview_asks_for_full_resolution(qtbot):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.set_original(_image(200, 100, 40), (2000, 1000), "Original raw")
    with qtbot.waitSignal(view.full_resolution_wanted, timeout=1000):
        view.actual_size()
    view.set_full_original(_image(2000, 1000, 40))
    assert view.is_full_resolution()


def test_badge_and_qimage_conversion(qapp):
    qimg = to_qimage(_image(30, 20, 128))
    assert (qimg.width(), qimg.height()) == (30, 20)
    assert qimg.pixelColor(5, 5).red() == 128
    badged = with_badge(qimg, "RAW", Qt.GlobalColor.darkGreen)
    assert badged.size() == qimg.size() and badged.pixelColor(5, 5) != qimg.pixelColor(5, 5)


def test_settings_round_trip(settings, tmp_path: Path):
    settings.quality = 63
    settings.exposure_ev = 1.5
    settings.compare_mode = "split"
    settings.add_recent_folder(tmp_path)
    assert settings.quality == 63 and settings.exposure_ev == 1.5
    assert settings.compare_mode == "split"
    assert settings.recent_folders == [tmp_path] and settings.last_folder == tmp_path
    settings.store.setValue("coding/quality", "not a number")
    assert settings.quality == 75


def test_dark_palette_recolours_the_plots(qtbot, window):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from rawjpeg_gui.gui.theme import dark_palette

    app = QApplication.instance()
    old = app.palette()
    try:
        app.setPalette(dark_palette())
        qtbot.wait(10)
        bg = window.plots.canvas.backgroundBrush().color()
        assert bg == dark_palette().color(QPalette.ColorRole.Base)
    finally:
        app.setPalette(old)


def test_a_long_caption_is_elided_in_a_narrow_view_and_kept_whole(qtbot):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(1400, 500)
    view.show()
    qtbot.waitExposed(view)
    long = "Reconstruction from adapter-JPEG, quality 65 (re-encoded) — coding quality 70…"
    view.right_caption.setText(long)
    assert QLabel.text(view.right_caption) == long  # wide: shown whole
    view.resize(500, 400)
    qtbot.waitUntil(lambda: view.right_caption.width() < 300)
    shown = QLabel.text(view.right_caption)
    assert shown.endswith("…") and len(shown) < len(long)
    assert view.right_caption.text() == long and view.right_caption.toolTip() == long
    view.resize(1400, 500)
    qtbot.waitUntil(lambda: QLabel.text(view.right_caption) == long)
