"""numpy -> QImage on the GUI thread (the only place pixels become Qt objects)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter


def to_qimage(array: np.ndarray, copy: bool = True) -> QImage:
    """A QImage of a uint8 array (a copy, or with ``copy=False`` a view that the caller
    must keep the array alive for).

    H x W x 4 arrays are in the workers' ``screen_pixels`` layout (Qt's fast native
    ``Format_RGB32``); H x W x 3 is packed RGB; H x W is grey.
    """
    a = np.ascontiguousarray(array)
    if a.dtype != np.uint8:
        raise ValueError("to_qimage needs uint8 pixels")
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8).copy()
    if a.shape[2] == 4:
        image = QImage(a.data, w, h, a.strides[0], QImage.Format.Format_RGB32)
        return image.copy() if copy else image
    return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_RGB888).copy()


def with_badge(image: QImage, text: str, colour: QColor) -> QImage:
    """A copy of ``image`` with a small coloured ``text`` badge in its top-left corner."""
    out = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(max(9, min(14, out.height() // 10)))
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    w, h = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(3, 3, w, h, 3, 3)
    painter.setPen(QColor("white"))
    painter.drawText(3, 3, w, h, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return out
