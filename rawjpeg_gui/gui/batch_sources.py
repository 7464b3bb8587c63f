"""The batch dialog's sources: files and folders, sub-folder recursion, an extension filter."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from rawjpeg_gui.core.batch import collect_sources
from rawjpeg_gui.core.rawio import RAW_EXTENSIONS


class BatchSourcesPanel(QGroupBox):
    """The list of files and folders a batch exports, with how folders are searched.

    The panel only keeps the list; :meth:`collected_sources` expands it with
    :func:`~rawjpeg_gui.core.batch.collect_sources`. Dropping files is the dialog's
    business (the whole dialog is a drop target).

    Attributes:
        source_list: the files and folders, one per item, as typed paths.
        recursive_check: search sub-folders of source folders.
        ext_edit: suffix filter as typed ("" for every raw format).
        count_label: where the owner shows how many files the sources hold.

    Signals:
        changed(): the list or how it is expanded changed (the preview should follow).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Sources (drop files or folders here)", parent)
        self.source_list = QListWidget()
        self.source_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.recursive_check = QCheckBox("Include sub-folders")
        self.ext_edit = QLineEdit(placeholderText="all raw formats (or e.g. nef, cr2)")
        self.count_label = QLabel()
        buttons = QHBoxLayout()
        for text, slot in (("Add files…", self._on_add_files_clicked),
                           ("Add folder…", self._on_add_folder_clicked),
                           ("Remove", self._on_remove_clicked)):  # fmt: skip
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(self.count_label)
        filters = QHBoxLayout()
        filters.addWidget(self.recursive_check)
        filters.addWidget(QLabel("Extensions:"))
        filters.addWidget(self.ext_edit)
        box = QVBoxLayout(self)
        box.addWidget(self.source_list)
        box.addLayout(buttons)
        box.addLayout(filters)
        self.recursive_check.toggled.connect(self._on_filter_changed)
        self.ext_edit.textChanged.connect(self._on_filter_changed)

    def add_sources(self, paths: list[Path]) -> None:
        """Add files or folders to the source list (duplicates are ignored)."""
        present = {self.source_list.item(i).text() for i in range(self.source_list.count())}
        for p in paths:
            if str(p) not in present:
                self.source_list.addItem(str(p))
                present.add(str(p))
        self.changed.emit()

    def collected_sources(self) -> list[Path]:
        """The files the batch would export now (folders expanded, filter applied)."""
        items = [Path(self.source_list.item(i).text()) for i in range(self.source_list.count())]
        text = self.ext_edit.text().replace(",", " ").split()
        return collect_sources(items, self.recursive_check.isChecked(), text or None)

    @Slot()
    def _on_filter_changed(self) -> None:
        self.changed.emit()

    @Slot()
    def _on_add_files_clicked(self) -> None:
        patterns = " ".join(f"*{e}" for e in sorted(RAW_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(
            self.window(),
            "Add raw files",
            "",
            f"Camera raw files ({patterns} {patterns.upper()});;All files (*)",
        )
        self.add_sources([Path(f) for f in files])

    @Slot()
    def _on_add_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window(), "Add a folder of raw files")
        if folder:
            self.add_sources([Path(folder)])

    @Slot()
    def _on_remove_clicked(self) -> None:
        for item in self.source_list.selectedItems():
            self.source_list.takeItem(self.source_list.row(item))
        self.changed.emit()
