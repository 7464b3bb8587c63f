"""The "Batch export…" dialog: choose sources and options, watch progress, read the report.

The dialog only gathers values and shows events: the batch itself is
:func:`rawjpeg_gui.core.batch.run_batch`, run off the GUI thread by
:class:`~rawjpeg_gui.workers.batch_worker.BatchWorker`. Options are remembered as
meaningful values (a quality, a folder, a policy name) in QSettings.

The parts live beside it: the sources list in :mod:`.batch_sources`, the report
table in :mod:`.batch_report`, the remembered choices in :mod:`.batch_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from rawjpeg_gui.core.batch import (
    BatchFinished,
    BatchOptions,
    BatchStarted,
    FileDone,
    FileStarted,
    OnExists,
    default_workers,
    write_report,
)  # fmt: skip
from rawjpeg_gui.core.naming import NameFields, check_template, preview_names
from rawjpeg_gui.core.rawio import LINEAR_EXTENSIONS, RAW_EXTENSIONS
from rawjpeg_gui.gui import dialogs
from rawjpeg_gui.gui.batch_report import BatchReportTable
from rawjpeg_gui.gui.batch_settings import BatchChoices, BatchSettings
from rawjpeg_gui.gui.batch_sources import BatchSourcesPanel
from rawjpeg_gui.workers.batch_worker import BatchWorker
from rawjpeg_gui.workers.pool import TaskPool

#: How many output names the live preview shows.
PREVIEW_COUNT = 3
_POLICY_LABELS = {
    OnExists.RENAME: "Keep both (name (1).jpg)",
    OnExists.SKIP: "Skip the file",
    OnExists.OVERWRITE: "Overwrite the old output",
}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    s = int(round(seconds))
    return f"{s // 60} min {s % 60:02d} s left" if s >= 60 else f"{s} s left"


class BatchExportDialog(QDialog):
    """Exports many raws as adapter-JPEGs with progress, cancel and a report.

    Attributes:
        worker: the running (or last) :class:`BatchWorker`, or ``None``.
        results: the finished batch, or ``None``.
        settings: where the options are remembered.
        sources_panel: the sources list and filter (its widgets are also
            ``source_list``, ``recursive_check``, ``ext_edit`` and ``count_label``).
        table: the report, one row per finished file.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        sources: list[Path] | None = None,
        settings: BatchSettings | None = None,
        pool: TaskPool | None = None,
        quality: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch export")
        self.setAcceptDrops(True)
        self.resize(760, 680)
        self.settings = settings or BatchSettings()
        self.worker: BatchWorker | None = None
        self.results: BatchFinished | None = None
        self._pool = pool
        self._close_when_done = False
        self._fields_cache: dict[Path, NameFields] = {}
        self._in_flight: dict[int, str] = {}
        self._preview_timer = QTimer(self, singleShot=True, interval=250)
        self._preview_timer.timeout.connect(self._update_preview)
        self._build()
        self._load_settings()
        if quality is not None:  # the working quality of the window, not the last batch's
            self.quality_spin.setValue(int(quality))
        # The window's selection may list adapter-JPEGs beside the raws: offer the raws.
        readable = RAW_EXTENSIONS | LINEAR_EXTENSIONS
        self.add_sources([p for p in sources or [] if p.is_dir() or p.suffix.lower() in readable])

    # --- building ------------------------------------------------------------------

    def _build(self) -> None:
        self.sources_panel = BatchSourcesPanel()
        # The panel's widgets, under the names the dialog has always had.
        self.source_list = self.sources_panel.source_list
        self.recursive_check = self.sources_panel.recursive_check
        self.ext_edit = self.sources_panel.ext_edit
        self.count_label = self.sources_panel.count_label

        self.dest_edit = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._on_browse_clicked)
        dest_row = QHBoxLayout()
        dest_row.addWidget(self.dest_edit)
        dest_row.addWidget(browse)
        self.template_edit = QLineEdit()
        self.template_edit.setToolTip("Fields: {stem} {camera} {date} {quality} {index}")
        self.preview_label = QLabel()
        self.preview_label.setTextFormat(Qt.TextFormat.PlainText)
        self.preview_label.setWordWrap(True)
        self.quality_spin = QSpinBox(minimum=1, maximum=100)
        self.policy_combo = QComboBox()
        for policy, label in _POLICY_LABELS.items():
            self.policy_combo.addItem(label, policy.value)
        self.workers_spin = QSpinBox(minimum=1, maximum=max(1, 2 * default_workers()))
        self.verify_check = QCheckBox("Decode each file after writing and report its PSNR")
        options_box = QGroupBox("Output")
        form = QFormLayout(options_box)
        form.addRow("Folder:", dest_row)
        form.addRow("Name:", self.template_edit)
        form.addRow("", self.preview_label)
        form.addRow("Quality:", self.quality_spin)
        form.addRow("If the file exists:", self.policy_combo)
        form.addRow("Parallel workers:", self.workers_spin)
        form.addRow("", self.verify_check)

        self.progress_bar = QProgressBar(format="%v / %m files")
        self.current_label = QLabel()
        self.eta_label = QLabel()
        status_row = QHBoxLayout()
        status_row.addWidget(self.current_label, 1)
        status_row.addWidget(self.eta_label)
        self.table = BatchReportTable()

        self.button_box = QDialogButtonBox()
        self.start_button = self.button_box.addButton(
            "Export", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.cancel_button = self.button_box.addButton(
            "Cancel", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.save_button = self.button_box.addButton(
            "Save report…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.close_button = self.button_box.addButton(QDialogButtonBox.StandardButton.Close)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.close_button.clicked.connect(self.reject)
        self.cancel_button.setEnabled(False)
        self.save_button.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.sources_panel, 2)
        layout.addWidget(options_box)
        layout.addWidget(self.progress_bar)
        layout.addLayout(status_row)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.button_box)
        self._inputs = [options_box, self.sources_panel, self.start_button]
        for signal in (self.template_edit.textChanged, self.sources_panel.changed,
                       self.quality_spin.valueChanged):  # fmt: skip
            signal.connect(self._schedule_preview)

    def _load_settings(self) -> None:
        c = self.settings.load()
        self.dest_edit.setText(c.destination)
        self.template_edit.setText(c.template)
        self.quality_spin.setValue(c.quality)
        self.policy_combo.setCurrentIndex(self.policy_combo.findData(c.on_exists))
        self.workers_spin.setValue(min(c.workers, self.workers_spin.maximum()))
        self.verify_check.setChecked(c.verify)
        self.recursive_check.setChecked(c.recursive)
        self.ext_edit.setText(c.extensions)

    def choices(self) -> BatchChoices:
        """The dialog's current choices."""
        return BatchChoices(
            destination=self.dest_edit.text().strip(),
            template=self.template_edit.text(),
            quality=self.quality_spin.value(),
            on_exists=str(self.policy_combo.currentData()),
            workers=self.workers_spin.value(),
            verify=self.verify_check.isChecked(),
            recursive=self.recursive_check.isChecked(),
            extensions=self.ext_edit.text(),
        )

    # --- sources -------------------------------------------------------------------

    def add_sources(self, paths: list[Path]) -> None:
        """Add files or folders to the source list (duplicates are ignored)."""
        self.sources_panel.add_sources(paths)

    def collected_sources(self) -> list[Path]:
        """The files the batch would export now (folders expanded, filter applied)."""
        return self.sources_panel.collected_sources()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Accept dragged files and folders."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Add dropped files and folders as sources."""
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if self.worker is None or not self.worker.running:
            self.add_sources(paths)
        event.acceptProposedAction()

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.dest_edit.text())
        if folder:
            self.dest_edit.setText(folder)

    # --- preview -------------------------------------------------------------------

    @Slot()
    def _schedule_preview(self) -> None:
        self._preview_timer.start()

    @Slot()
    def _update_preview(self) -> None:
        """Count the sources and show the first output names (or why there are none)."""
        sources = self.collected_sources()
        self.count_label.setText(f"{len(sources)} file{'s' * (len(sources) != 1)}")
        try:
            check_template(self.template_edit.text())
            names = preview_names(
                sources, self.template_edit.text(), self.quality_spin.value(),
                PREVIEW_COUNT, self._fields_cache,
            )  # fmt: skip
        except ValueError as exc:
            self.preview_label.setText(str(exc))
            self.preview_label.setStyleSheet("color: #c0392b")
            self.start_button.setEnabled(False)
            return
        self.preview_label.setStyleSheet("color: palette(mid)")
        more = ", …" if len(sources) > len(names) else ""
        self.preview_label.setText(", ".join(names) + more if names else "(no sources yet)")
        self.start_button.setEnabled(bool(sources) and not self._running())

    # --- running -------------------------------------------------------------------

    def _running(self) -> bool:
        return self.worker is not None and self.worker.running

    def options(self) -> BatchOptions:
        """The options as chosen in the dialog (ValueError when one is unusable)."""
        dest = self.dest_edit.text().strip()
        if not dest:
            raise ValueError("Choose the folder to export to.")
        return BatchOptions(
            destination=Path(os.path.expanduser(dest)),
            quality=self.quality_spin.value(),
            template=self.template_edit.text(),
            on_exists=OnExists(self.policy_combo.currentData()),
            workers=self.workers_spin.value(),
            verify=self.verify_check.isChecked(),
        )

    @Slot()
    def start(self) -> None:
        """Start the batch with the current sources and options."""
        sources = self.collected_sources()
        try:
            options = self.options()
        except ValueError as exc:
            self.current_label.setText(str(exc))
            return
        if not sources:
            self.current_label.setText("There are no raw files in the sources.")
            return
        if options.on_exists == OnExists.RENAME:
            policy = self._resume_policy(sources, options)
            if policy is None:
                self.current_label.setText("Nothing exported.")
                return
            if policy != options.on_exists.value:
                self.policy_combo.setCurrentIndex(self.policy_combo.findData(policy))
                options = BatchOptions(**{**options.__dict__, "on_exists": OnExists(policy)})
        self.settings.save(self.choices())
        options = BatchOptions(
            **{**options.__dict__, "workers": min(options.workers, len(sources))}
        )
        self.results = None
        self._in_flight.clear()
        self.table.setRowCount(0)
        self.progress_bar.setRange(0, len(sources))
        self.progress_bar.setValue(0)
        self.worker = BatchWorker(sources, options, self._pool, self)
        self.worker.started.connect(self._on_worker_started)
        self.worker.file_started.connect(self._on_worker_file_started)
        self.worker.file_done.connect(self._on_worker_file_done)
        self.worker.finished.connect(self._on_worker_finished)
        self.worker.failed.connect(self._on_worker_failed)
        self._set_running(True)
        self.current_label.setText("Starting the worker processes…")
        self.worker.start()

    def existing_outputs(self, sources: list[Path], options: BatchOptions) -> int:
        """How many of ``sources`` already have their output in the destination."""
        try:
            names = preview_names(
                sources, options.template, options.quality, len(sources), self._fields_cache
            )
        except ValueError:
            return 0
        return sum((options.destination / name).exists() for name in names)

    def _resume_policy(self, sources: list[Path], options: BatchOptions) -> str | None:
        """Offer "skip existing" when outputs of an earlier run are there; None to stop."""
        existing = self.existing_outputs(sources, options)
        if not existing:
            return options.on_exists.value
        return dialogs.ask_resume_policy(self, existing, len(sources))

    @Slot()
    def cancel(self) -> None:
        """Stop the batch within the current file (the report still appears)."""
        if self._running():
            assert self.worker is not None
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.current_label.setText("Cancelling: finishing the current file…")

    def _set_running(self, running: bool) -> None:
        for widget in self._inputs:
            widget.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.save_button.setEnabled(not running and self.results is not None)

    @Slot(object)
    def _on_worker_started(self, event: BatchStarted) -> None:
        self.current_label.setText(f"Exporting {event.total} files with {event.workers} workers…")

    @Slot(object)
    def _on_worker_file_started(self, event: FileStarted) -> None:
        self._in_flight[event.index] = event.source.name
        self._show_in_flight()

    def _show_in_flight(self) -> None:
        if self._in_flight and not (self.worker and self.worker.cancelled):
            names = ", ".join(self._in_flight.values())
            self.current_label.setText(
                f"{self.progress_bar.value()}/{self.progress_bar.maximum()} done; now: {names}"
            )

    @Slot(object)
    def _on_worker_file_done(self, event: FileDone) -> None:
        self.progress_bar.setValue(event.progress.done)
        self._in_flight.pop(event.result.index, None)
        self._show_in_flight()
        self.eta_label.setText(_duration(event.progress.eta_seconds))
        self.table.add_result(event.result)

    @Slot(object)
    def _on_worker_finished(self, event: BatchFinished) -> None:
        self.results = event
        self._set_running(False)
        self.current_label.setText(event.summary())
        self.eta_label.setText("")
        if self._close_when_done:
            super().reject()

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self._set_running(False)
        self.current_label.setText(message)

    # --- report and closing ------------------------------------------------------------

    def save_report(self, path: Path) -> None:
        """Write the finished batch's report as CSV."""
        if self.results is not None:
            write_report(Path(path), self.results.results)

    @Slot()
    def _on_save_clicked(self) -> None:
        start = str(Path(self.dest_edit.text().strip() or ".") / "batch-report.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Save the report", start, "CSV (*.csv)")
        if path:
            try:
                self.save_report(Path(path))
            except Exception as exc:  # OutputError: one sentence for the status line
                self.current_label.setText(str(exc))

    def reject(self) -> None:
        """Close; a running batch is cancelled first and the dialog closes when it stops."""
        if self._running():
            self._close_when_done = True
            self.cancel()
            return
        super().reject()
