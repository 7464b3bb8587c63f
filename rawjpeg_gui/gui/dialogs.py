"""Small standard dialogs of the main window: open, shortcuts, about."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

import rawjpeg_gui

_OPEN_FILTER = (
    "Raw photos and adapter-JPEGs (*.dng *.arw *.cr2 *.cr3 *.crw *.nef *.nrw *.raf *.orf *.rw2 "
    "*.pef *.kdc *.dcr *.srw *.jpg *.jpeg);;All files (*)"
)


def ask_open_file(parent: QWidget, start: Path) -> Path | None:
    """Ask for a raw or adapter-JPEG to open."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open a raw or adapter-JPEG", str(start), _OPEN_FILTER
    )
    return Path(path) if path else None


def ask_open_folder(parent: QWidget, start: Path) -> Path | None:
    """Ask for a folder of raws."""
    folder = QFileDialog.getExistingDirectory(parent, "Open a folder of raws", str(start))
    return Path(folder) if folder else None


def show_shortcuts(parent: QWidget, rows: list[tuple[str, str]]) -> None:
    """List (action, shortcut) rows."""
    body = "".join(f"<tr><td>{t}</td><td><b>{k}</b></td></tr>" for t, k in rows)
    QMessageBox.information(parent, "Keyboard shortcuts", f"<table>{body}</table>")


def show_about(parent: QWidget) -> None:
    """Version and one line about the method."""
    QMessageBox.about(
        parent,
        "About rawjpeg",
        f"<b>rawjpeg {rawjpeg_gui.__version__}</b><p>Camera raws stored as ordinary JPEGs "
        "with the Raw-JPEG Adapter; the raw comes back on opening.</p><p>MIT licence.</p>",
    )


def ask_overwrite(parent: QWidget, path: Path) -> bool:
    """Ask whether to replace the existing file ``path``; True to replace it."""
    answer = QMessageBox.question(
        parent,
        "Replace the file?",
        f"{path.name} already exists in {path.parent}. Replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_resume_policy(parent: QWidget, existing: int, total: int) -> str | None:
    """Some outputs of a batch exist already: "skip", "rename" or "overwrite", or None to stop."""
    box = QMessageBox(parent)
    box.setWindowTitle("Some outputs exist already")
    box.setText(
        f"{existing} of the {total} files to export already have an output in this folder "
        "(an earlier, perhaps interrupted, batch)."
    )
    box.setInformativeText("Skip them and export only the rest?")
    skip = box.addButton("Skip existing", QMessageBox.ButtonRole.AcceptRole)
    rename = box.addButton("Keep both", QMessageBox.ButtonRole.ActionRole)
    overwrite = box.addButton("Overwrite", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(skip)
    box.exec()
    return {skip: "skip", rename: "rename", overwrite: "overwrite"}.get(box.clickedButton())
