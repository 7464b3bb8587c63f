"""The view shown instead of the compare panes when a file could not be opened."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class FailedPanel(QWidget):
    """One sentence saying which file could not be opened and why.

    Attributes:
        title: "Could not open NAME".
        message: the one-sentence reason.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint = QLabel("Pick another file in the browser, or drop one here.")
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for label in (self.title, self.message, hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addStretch(2)

    def show_failure(self, name: str, message: str) -> None:
        """Say that ``name`` could not be opened, and why."""
        self.title.setText(f"Could not open {name}")
        self.message.setText(message)
