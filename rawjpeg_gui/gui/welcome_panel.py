"""The first-run panel: drop a folder here, or open the sample."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomePanel(QWidget):
    """Shown until the first image is opened.

    Signals:
        open_folder_requested(): the user wants to pick a folder.
        sample_requested(): the user wants the bundled sample raw.
    """

    open_folder_requested = Signal()
    sample_requested = Signal()

    def __init__(self, sample_available: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h2>Raw photos as ordinary JPEGs</h2>")
        text = QLabel(
            "Drop camera raw files or a folder anywhere on this window, or open a folder.<br>"
            "rawjpeg encodes each raw as an adapter-JPEG and shows what comes back."
        )
        text.setWordWrap(True)
        text.setMinimumWidth(440)
        self.folder_button = QPushButton("Open folder…")
        self.sample_button = QPushButton("Open the sample raw")
        self.sample_button.setEnabled(sample_available)
        if not sample_available:
            self.sample_button.setToolTip("No sample raw is installed.")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (title, text, self.folder_button, self.sample_button):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
            if isinstance(widget, QLabel):
                widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(2)
        self.folder_button.clicked.connect(self.open_folder_requested)
        self.sample_button.clicked.connect(self.sample_requested)
