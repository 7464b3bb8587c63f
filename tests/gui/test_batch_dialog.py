"""The batch export dialog (pytest-qt, offscreen): preview, run, report, cancel, settings."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402

from rawjpeg_gui.core import codec  # noqa: E402
from rawjpeg_gui.core.batch import FileStatus  # noqa: E402
from rawjpeg_gui.gui.batch_dialog import BatchExportDialog, BatchSettings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHARED_RAW = ROOT.parent / "shared" / "data" / "raw"
GOOD = ("dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc")
TIMEOUT_MS = 60_000


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    if not all((SHARED_RAW / n).is_file() for n in GOOD):
        pytest.skip(f"real raws absent from {SHARED_RAW}; see DATA.md")
    folder = tmp_path / "src"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(SHARED_RAW / name, folder / name)
    (folder / "broken.kdc").write_bytes(b"\x00" * 1000)
    return folder


@pytest.fixture
def batch_settings(tmp_path: Path) -> BatchSettings:
    return BatchSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def _dialog(
    qtbot, sources: list[Path], batch_settings: BatchSettings, dest: Path
) -> BatchExportDialog:  # type: ignore[no-untyped-def]
    dialog = BatchExportDialog(None, sources=sources, settings=batch_settings)
    qtbot.addWidget(dialog)
    dialog.dest_edit.setText(str(dest))
    dialog.workers_spin.setValue(1)
    dialog.show()
    return dialog


def test_preview_follows_the_template(
    qtbot, sources: Path, batch_settings: BatchSettings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, [sources], batch_settings, tmp_path / "out")
    dialog.template_edit.setText("{index}_{stem}_q{quality}")
    dialog.quality_spin.setValue(70)
    qtbot.waitUntil(lambda: "001_broken_q70.jpg" in dialog.preview_label.text())
    assert dialog.preview_label.text().startswith("001_broken_q70.jpg, 002_dcc_kodak")
    assert dialog.count_label.text() == "3 files" and dialog.start_button.isEnabled()
    dialog.template_edit.setText("{lens}")
    qtbot.waitUntil(lambda: "{lens}" in dialog.preview_label.text())
    assert not dialog.start_button.isEnabled()
    dialog.ext_edit.setText("nef")
    dialog.template_edit.setText("{stem}")
    qtbot.waitUntil(lambda: dialog.count_label.text() == "0 files")


def test_malformed_settings_fall_back_to_defaults(batch_settings: BatchSettings) -> None:
    batch_settings.store.setValue("batch/quality", "loud")
    batch_settings.store.setValue("batch/on_exists", "explode")
    batch_settings.store.setValue("batch/workers", "0")
    batch_settings.store.setValue("batch/verify", "true")
    c = batch_settings.load()
    assert (c.quality, c.on_exists, c.workers, c.verify) == (90, "rename", 1, True)


def test_dropped_folder_becomes_a_source(
    qtbot, sources: Path, batch_settings: BatchSettings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    exported = tmp_path / "old.jpg"
    dialog = _dialog(qtbot, [exported, sources / GOOD[0]], batch_settings, tmp_path / "out")
    assert dialog.source_list.count() == 1  # the selection's JPEGs are not offered
    dialog.source_list.clear()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sources))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    dialog.dropEvent(event)
    assert dialog.source_list.item(0).text() == str(sources)
    assert len(dialog.collected_sources()) == 3


@pytest.mark.slow
def test_export_report_and_settings(
    qtbot, sources: Path, batch_settings: BatchSettings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    before = {p.name: p.read_bytes() for p in sources.iterdir()}
    dest = tmp_path / "out"
    dialog = _dialog(qtbot, [sources], batch_settings, dest)
    dialog.quality_spin.setValue(66)
    dialog.verify_check.setChecked(True)
    dialog.start()
    assert dialog.cancel_button.isEnabled() and not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=TIMEOUT_MS)
    finished = dialog.results
    assert finished is not None and not finished.cancelled
    assert dialog.table.rowCount() == 3 and dialog.progress_bar.value() == 3
    statuses = [dialog.table.item(r, 1).text() for r in range(3)]
    assert sum(s == "written" for s in statuses) == 2
    assert any(s.startswith("failed: broken.kdc") for s in statuses)
    psnrs = [dialog.table.item(r, 5).text() for r in range(3) if statuses[r] == "written"]
    assert all(float(p) > 30 for p in psnrs)
    for p in dest.iterdir():
        assert codec.decode_bytes(p.read_bytes()).quality == 66
    report = tmp_path / "report.csv"
    assert dialog.save_button.isEnabled()
    dialog.save_report(report)
    assert len(list(csv.DictReader(report.open()))) == 3
    assert {p.name: p.read_bytes() for p in sources.iterdir()} == before
    saved = batch_settings.load()
    assert saved.quality == 66 and saved.verify is True
    assert saved.destination == str(dest) and saved.on_exists == "rename"
    again = BatchExportDialog(None, settings=batch_settings)
    qtbot.addWidget(again)
    assert again.quality_spin.value() == 66 and again.dest_edit.text() == str(dest)


@pytest.mark.slow
def test_cancel_stops_within_one_file(
    qtbot, sources: Path, batch_settings: BatchSettings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    many = tmp_path / "many"
    many.mkdir()
    for i in range(8):
        shutil.copy(sources / GOOD[i % 2], many / f"shot{i}.kdc")
    dest = tmp_path / "out"
    dialog = _dialog(qtbot, [many], batch_settings, dest)
    dialog.add_sources([many])  # duplicates are ignored
    assert dialog.source_list.count() == 1
    dialog.start()
    qtbot.waitUntil(lambda: dialog.table.rowCount() >= 1, timeout=TIMEOUT_MS)
    dialog.cancel()
    assert "Cancelling" in dialog.current_label.text()
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=TIMEOUT_MS)
    finished = dialog.results
    assert finished.cancelled and len(finished.results) <= 2 and finished.not_started >= 6
    assert finished.summary().startswith("Cancelled")
    written = [r for r in finished.results if r.status is FileStatus.WRITTEN]
    assert sorted(p.name for p in dest.iterdir()) == sorted(r.destination.name for r in written)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]
    assert dialog.start_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_closing_while_running_cancels_first(
    qtbot, sources: Path, batch_settings: BatchSettings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, [sources], batch_settings, tmp_path / "out")
    dialog.start()
    dialog.reject()
    assert dialog.isVisible() and dialog.worker.cancelled
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=TIMEOUT_MS)
    assert dialog.results is not None and dialog.results.cancelled


def test_resuming_offers_skip_existing_and_makes_no_duplicates(
    qtbot, sources: Path, batch_settings: BatchSettings, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from rawjpeg_gui.gui import dialogs

    dest = tmp_path / "out"
    first = _dialog(qtbot, [sources / GOOD[0]], batch_settings, dest)
    first.start()
    qtbot.waitUntil(lambda: first.results is not None, timeout=TIMEOUT_MS)
    written = sorted(p.name for p in dest.iterdir())
    assert len(written) == 1
    asked: list[tuple[int, int]] = []
    monkeypatch.setattr(
        dialogs, "ask_resume_policy", lambda _w, n, total: asked.append((n, total)) or "skip"
    )
    second = _dialog(qtbot, [sources / n for n in GOOD], batch_settings, dest)
    assert second.policy_combo.currentData() == "rename"
    second.start()
    qtbot.waitUntil(lambda: second.results is not None, timeout=TIMEOUT_MS)
    assert asked == [(1, 2)] and second.policy_combo.currentData() == "skip"
    names = sorted(p.name for p in dest.iterdir())
    assert len(names) == 2 and not any("(1)" in n for n in names)


def test_the_dialog_starts_from_the_windows_working_quality(
    qtbot, sources: Path, batch_settings: BatchSettings
) -> None:  # type: ignore[no-untyped-def]
    dialog = BatchExportDialog(None, [sources], settings=batch_settings, quality=37)
    qtbot.addWidget(dialog)
    assert dialog.quality_spin.value() == 37
