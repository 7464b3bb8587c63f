"""The status bar's contents: a message, the files skipped, a progress bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar


class StatusPanel:
    """Fills a QStatusBar; errors show in red, skipped files in orange.

    Attributes:
        message: the current status sentence.
        skipped: names of files that were not camera raws or adapter-JPEGs.
        progress: busy/percent indicator, hidden when idle.
    """

    def __init__(self, bar: QStatusBar) -> None:
        self.message = QLabel()
        self.skipped = QLabel()
        self.skipped.setStyleSheet("color: #ef6c00;")
        self.skipped.hide()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.hide()
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.skipped)
        bar.addPermanentWidget(self.progress)

    def show_message(self, text: str, error: bool = False) -> None:
        """Show ``text`` (in red when ``error``)."""
        self.message.setStyleSheet("color: #d32f2f;" if error else "")
        self.message.setText(text)

    def show_progress(self, text: str, percent: int) -> None:
        """Show ``text`` with a progress bar (-1 busy, 100 done and hidden)."""
        self.show_message(text)
        if percent >= 100:
            self.progress.hide()
            return
        self.progress.setRange(0, 0 if percent < 0 else 100)
        if percent >= 0:
            self.progress.setValue(percent)
        self.progress.show()

    def show_skipped(self, rejected: list[Path]) -> None:
        """List unsupported files (hidden when there are none)."""
        self.skipped.setVisible(bool(rejected))
        if rejected:
            names = ", ".join(p.name for p in rejected[:5]) + (" …" if len(rejected) > 5 else "")
            self.skipped.setText(f"Skipped {len(rejected)} unsupported: {names}")
            self.skipped.setToolTip("\n".join(str(p) for p in rejected[:200]))
