"""The batch dialog's report table: one row per finished file, in the order they finish."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)  # fmt: skip

from rawjpeg_gui.core.batch import FileResult

from .formats import ratio

#: The table's column headers.
REPORT_HEADERS = ("File", "Status", "Input", "Output", "Ratio", "PSNR (dB)")


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n else ""


class BatchReportTable(QTableWidget):
    """A read-only table of :class:`~rawjpeg_gui.core.batch.FileResult` values.

    Each row shows the file's name, its status (with the reason when it was not
    written), sizes, ratio and PSNR; its tooltip holds the output path, or the full
    reason, or the source.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(REPORT_HEADERS), parent)
        self.setHorizontalHeaderLabels(REPORT_HEADERS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)  # the full reason is in each row's tooltip
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()

    def add_result(self, r: FileResult) -> None:
        """Append one finished file and scroll to it."""
        row = self.rowCount()
        self.insertRow(row)
        cells = (
            r.source.name, r.status.value + (f": {r.reason}" if r.reason else ""),
            _size(r.input_bytes), _size(r.output_bytes), ratio(r.ratio) if r.ratio else "",
            f"{r.psnr:.2f}" if r.psnr is not None else "",
        )  # fmt: skip
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(str(r.destination or r.reason or r.source))
            self.setItem(row, col, item)
        self.scrollToBottom()
