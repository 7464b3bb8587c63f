"""Original and reconstruction side by side, as a split, or as a difference heat map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QImage, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .image_view import ImageItem, ImageView
from .images import to_qimage

#: Compare modes, as stored in the settings.
MODES = ("side", "split", "difference")
_MODE_LABELS = {"side": "Side by side", "split": "Split", "difference": "Difference"}


class ElidedLabel(QLabel):
    """A one-line label that ends its text with "…" where the text does not fit; the
    whole text stays in :meth:`text` and in the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setText(text)

    def text(self) -> str:  # type: ignore[override]
        """The whole text, however much of it is shown."""
        return self._full

    def setText(self, text: str) -> None:  # type: ignore[override]  # noqa: N802 (Qt's name)
        """Show ``text``, elided to the label's width."""
        self._full = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, self.width())
        super().setText(shown if self.width() > 0 else self._full)


class CompareView(QWidget):
    """Two synchronised :class:`ImageView` panes over the original and the reconstruction.

    In "split" and "difference" mode only the left pane is shown: it paints the
    reconstruction right of a movable divider, or the error heat map.

    Attributes:
        mode: "side", "split" or "difference".
        image_size: full-resolution upright (width, height) of the current image.
        left, right: the two panes.

    Signals:
        mode_changed(str): the user picked another mode.
        full_resolution_wanted(): the zoom goes beyond the preview's resolution.
    """

    mode_changed = Signal(str)
    full_resolution_wanted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = "side"
        self.image_size = (1, 1)
        self._preview_width = 1
        self._syncing = False
        self._original_caption = "Original raw"
        # The arrays behind the (uncopied) QImages shown, kept alive while shown.
        self._buffers: dict[str, list[np.ndarray]] = {}
        self.left, self.right = ImageView(self), ImageView(self)
        self._original, self._split_recon, self._error = ImageItem(), ImageItem(), ImageItem()
        self._recon = ImageItem()
        for item in (self._original, self._split_recon, self._error):
            self.left.add_item(item)
        self.right.add_item(self._recon)
        self.left_caption = ElidedLabel("Original raw")
        self.right_caption = ElidedLabel("Reconstruction")

        self.mode_box = QComboBox()
        for mode in MODES:
            self.mode_box.addItem(_MODE_LABELS[mode], mode)
        self.mode_box.setToolTip("How to compare the original raw and the reconstruction")
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setRange(0, 1000)
        self.split_slider.setValue(500)
        self.split_slider.setToolTip("Position of the split between original and reconstruction")
        self.zoom_label = QLabel("Fit")

        bar = QHBoxLayout()
        bar.addWidget(self.mode_box)
        bar.addWidget(self.split_slider, 1)
        bar.addStretch(0)
        bar.addWidget(self.zoom_label)
        panes = QSplitter(Qt.Orientation.Horizontal)
        for caption, view in ((self.left_caption, self.left), (self.right_caption, self.right)):
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(2)
            # A long caption must not make its pane wider than the other one.
            caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            lay.addWidget(caption)
            lay.addWidget(view, 1)
            panes.addWidget(box)
            panes.setStretchFactor(panes.count() - 1, 1)
        self._right_box: QWidget = panes.widget(1)  # type: ignore[assignment]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(panes, 1)

        self.mode_box.currentIndexChanged.connect(self._on_mode_box_changed)
        self.split_slider.valueChanged.connect(self._on_split_slider_changed)
        self.left.view_changed.connect(self._on_left_view_changed)
        self.right.view_changed.connect(self._on_right_view_changed)
        self.left.zoom_changed.connect(self._on_view_zoom_changed)
        self.right.zoom_changed.connect(self._on_view_zoom_changed)
        self._dragging_split = False
        self.left.viewport().installEventFilter(self)
        self.left.viewport().setMouseTracking(True)
        self.set_mode("side")

    # -- content ----------------------------------------------------------------------------

    def clear(self) -> None:
        """Show nothing: no pixels, no captions."""
        for item in (self._original, self._split_recon, self._error, self._recon):
            item.set_image(QImage(), self.image_size)
        self._buffers.clear()
        self._original_caption = ""
        self.left_caption.setText("")
        self.right_caption.setText("")

    def set_original(
        self,
        pixels: np.ndarray,
        size: tuple[int, int],
        caption: str,
        levels: Sequence[np.ndarray] = (),
    ) -> None:
        """Show the original (``pixels`` may be a preview of a ``size`` image; ``levels``
        its halvings, see :func:`~rawjpeg_gui.workers.jobs.screen_levels`)."""
        new_size = size != self.image_size
        self.image_size = size
        self._preview_width = pixels.shape[1]
        images = self._qimages("original", pixels, levels)
        self._original.set_image(images[0], size, images)
        self._original_caption = caption
        if self.mode == "side":
            self.left_caption.setText(caption)
        for view in (self.left, self.right):
            view.set_extent(size)
        if new_size:
            self.left.fitted = self.right.fitted = True
            self.fit()
        self._on_split_slider_changed(self.split_slider.value())

    def set_reconstruction(
        self, pixels: np.ndarray | None, caption: str, levels: Sequence[np.ndarray] = ()
    ) -> None:
        """Show the reconstruction (``None`` clears it; ``levels``: its halvings)."""
        self.set_reconstruction_pixels(pixels, levels)
        self.right_caption.setText(caption)

    def set_error(self, pixels: np.ndarray | None, levels: Sequence[np.ndarray] = ()) -> None:
        """Show the heat-coloured error map in difference mode (``levels``: its halvings)."""
        images = self._qimages("error", pixels, levels)
        self._error.set_image(images[0], self.image_size, images)

    def _qimages(
        self, name: str, pixels: np.ndarray | None, levels: Sequence[np.ndarray] = ()
    ) -> list[QImage]:
        """QImages of ``pixels`` and of its halvings ``levels`` (the views' pyramid)."""
        arrays = [np.ascontiguousarray(a) for a in (pixels, *levels) if a is not None]
        arrays = arrays or [np.zeros((1, 1, 4), np.uint8)]
        self._buffers[name] = arrays
        return [to_qimage(a, copy=a.ndim != 3 or a.shape[2] != 4) for a in arrays]

    # -- modes and zoom ---------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """Switch to "side", "split" or "difference"."""
        mode = mode if mode in MODES else "side"
        self.mode = mode
        self.mode_box.blockSignals(True)
        self.mode_box.setCurrentIndex(MODES.index(mode))
        self.mode_box.blockSignals(False)
        self._right_box.setVisible(mode == "side")
        self.split_slider.setVisible(mode == "split")
        self._split_recon.setVisible(mode == "split")
        self._error.setVisible(mode == "difference")
        self._original.setVisible(mode != "difference")
        captions = {
            "side": self._original_caption,
            "split": "Original (left) | reconstruction (right)",
            "difference": "Absolute error (heat map, brighter is larger)",
        }
        self.left_caption.setText(captions[mode])
        self.left.fitted = True
        self.left.fit()
        if mode == "side":
            self.right.follow(self.left)

    def fit(self) -> None:
        """Fit the image in both panes."""
        self.left.fit()
        self.right.follow(self.left)

    def actual_size(self) -> None:
        """One image pixel per device pixel in both panes."""
        self.left.actual_size()
        self.right.follow(self.left)

    def zoom_by(self, factor: float) -> None:
        """Zoom both panes in (``factor`` > 1) or out."""
        self.left.zoom_by(factor)

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        """Keep a fitted image fitted once the panes have their final size."""
        super().resizeEvent(event)
        if self.left.fitted:
            QTimer.singleShot(0, self.fit)

    # -- dragging the split line -----------------------------------------------------------

    #: How close (screen pixels) to the split line a press grabs it.
    GRAB_PIXELS = 10

    def _split_x(self) -> float:
        return self.image_size[0] * self.split_slider.value() / 1000.0

    def _near_split(self, event: QMouseEvent) -> bool:
        line = self.left.mapFromScene(self._split_x(), 0).x()
        return abs(event.position().x() - line) <= self.GRAB_PIXELS

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """In split mode the line on the image is dragged with the mouse."""
        if self.mode != "split" or watched is not self.left.viewport():
            return False
        kind = event.type()
        if not isinstance(event, QMouseEvent):
            return False
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            if self._near_split(event):
                self._dragging_split = True
                return True
        elif kind == QEvent.Type.MouseMove:
            if self._dragging_split:
                x = self.left.mapToScene(event.position().toPoint()).x()
                self.split_slider.setValue(round(1000 * x / max(1, self.image_size[0])))
                return True
            near = self._near_split(event)
            self.left.viewport().setCursor(
                QCursor(Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.OpenHandCursor)
            )
        elif kind == QEvent.Type.MouseButtonRelease and self._dragging_split:
            self._dragging_split = False
            return True
        return False

    # -- slots ------------------------------------------------------------------------------

    def _on_mode_box_changed(self, index: int) -> None:
        mode = self.mode_box.itemData(index)
        self.set_mode(mode)
        self.mode_changed.emit(mode)

    def _on_split_slider_changed(self, value: int) -> None:
        self._split_recon.set_clip_left(self.image_size[0] * value / 1000.0)

    def _on_left_view_changed(self) -> None:
        self._sync(self.left, self.right)

    def _on_right_view_changed(self) -> None:
        self._sync(self.right, self.left)

    def _sync(self, source: ImageView, target: ImageView) -> None:
        # Only the visible pane leads: a hidden one (split and difference modes) has no
        # meaningful viewport and must not drag the other along.
        if self._syncing or self.mode != "side" or not source.isVisible():
            return
        self._syncing = True
        try:
            target.follow(source)
        finally:
            self._syncing = False

    def _on_view_zoom_changed(self, zoom: float) -> None:
        fitted = self.left.fitted
        self.zoom_label.setText("Fit" if fitted else f"{zoom * 100:.0f} %")
        if zoom * self.image_size[0] > self._preview_width * 1.05:
            self.full_resolution_wanted.emit()

    def is_full_resolution(self) -> bool:
        """True when the panes show full-resolution pixels."""
        return self._preview_width >= self.image_size[0]

    def set_full_original(self, pixels: np.ndarray, levels: Sequence[np.ndarray] = ()) -> None:
        """Swap in the full-resolution original (``levels``: its halvings)."""
        self._preview_width = pixels.shape[1]
        images = self._qimages("original", pixels, levels)
        self._original.set_image(images[0], self.image_size, images)

    def set_reconstruction_pixels(
        self, pixels: np.ndarray | None, levels: Sequence[np.ndarray] = ()
    ) -> None:
        """Swap the reconstruction's pixels (``levels``: their halvings), keeping the caption."""
        images = self._qimages("reconstruction", pixels, levels)
        self._recon.set_image(images[0], self.image_size, images)
        self._split_recon.set_image(images[0], self.image_size, images)
