"""A zoomable, pannable view of images laid out in full-resolution pixel coordinates."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QWidget

from rawjpeg_gui.workers.jobs import MIN_LEVEL_SIDE

#: Zoom limits (screen pixels per image pixel).
MIN_ZOOM, MAX_ZOOM = 0.01, 32.0


class ImageItem(QGraphicsItem):
    """Paints a QImage (possibly a downsampled preview) over the full-size rectangle.

    Attributes:
        image: what is painted (null until set).
        size: (width, height) of the full-resolution image, the item's extent.
        clip_left: scene x left of which nothing is painted (split mode), or ``None``.
        scaled_here: pyramid levels this item had to make itself, on the GUI thread
            (none when the workers sent them with the image).
    """

    def __init__(self) -> None:
        super().__init__()
        self.image = QImage()
        self.size = (1, 1)
        self.clip_left: float | None = None
        self.scaled_here = 0
        self._levels: list[QImage] = []

    def set_image(
        self, image: QImage, size: tuple[int, int], levels: list[QImage] | None = None
    ) -> None:
        """Show ``image`` stretched over a ``size`` (full resolution) rectangle.

        ``levels`` is the pyramid: ``image`` and its successive halvings (made by the
        workers), or a list that items showing the same image share and fill as needed.
        """
        self.prepareGeometryChange()
        self.image, self.size = image, (max(1, size[0]), max(1, size[1]))
        if levels is None or not levels or levels[0] is not image:
            levels = [image] if levels is None else levels
            levels[:] = [image]
        self._levels = levels
        self.update()

    def set_clip_left(self, x: float | None) -> None:
        """Hide everything left of scene ``x`` (``None`` shows all)."""
        self.clip_left = x
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        """The full-resolution rectangle."""
        return QRectF(0, 0, self.size[0], self.size[1])

    def _level_for(self, device_scale: float) -> QImage:
        """The smallest pyramid level still at least as sharp as the screen needs.

        Smooth-scaling a large image down on every repaint is slow; halving it once
        per level and drawing from the nearest level keeps repaints cheap.
        """
        level = self._levels[0]
        i = 0
        while device_scale * 2 <= 1.0 and min(level.width(), level.height()) > MIN_LEVEL_SIDE:
            i += 1
            if i >= len(self._levels):
                self.scaled_here += 1
                self._levels.append(
                    level.scaled(
                        max(1, level.width() // 2),
                        max(1, level.height() // 2),
                        Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
            level = self._levels[i]
            device_scale *= 2
        return level

    def paint(self, painter: QPainter, option, widget=None) -> None:  # type: ignore[no-untyped-def]
        """Draw the (clipped) image, smooth when shrunk, sharp pixels when enlarged."""
        if self.image.isNull():
            return
        target = self.boundingRect()
        # Screen pixels per pixel of the stored image.
        device_scale = painter.worldTransform().m11() * target.width() / self.image.width()
        image = self._level_for(device_scale)
        sx = image.width() / target.width()
        sy = image.height() / target.height()
        if self.clip_left is not None:
            target.setLeft(min(max(self.clip_left, 0.0), target.width()))
        source = QRectF(target.left() * sx, 0, target.width() * sx, target.height() * sy)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, device_scale < 1.0)
        painter.drawImage(target, image, source)
        if self.clip_left is not None:
            pen = QPen(QColor(255, 255, 255, 200))
            pen.setCosmetic(True)
            pen.setWidth(2)
            painter.setPen(pen)
            painter.drawLine(QPointF(target.left(), 0), QPointF(target.left(), target.height()))


class ImageView(QGraphicsView):
    """Wheel zooms around the cursor, dragging pans, :meth:`fit` and :meth:`actual_size`.

    Attributes:
        fitted: True while the view keeps the image fitted to the window.

    Signals:
        view_changed(): the zoom or the visible area changed (for synchronised views).
        zoom_changed(float): the new zoom (screen pixels per image pixel).
    """

    view_changed = Signal()
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(self.palette().dark())
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.fitted = True
        self.horizontalScrollBar().valueChanged.connect(self._on_scroll_changed)
        self.verticalScrollBar().valueChanged.connect(self._on_scroll_changed)

    def add_item(self, item: QGraphicsItem) -> QGraphicsItem:
        """Put ``item`` into this view's scene."""
        self.scene().addItem(item)
        return item

    def set_extent(self, size: tuple[int, int]) -> None:
        """Set the scene to a full-resolution image of ``size`` (width, height)."""
        self.scene().setSceneRect(QRectF(0, 0, size[0], size[1]))
        if self.fitted:
            self.fit()

    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def set_zoom(self, zoom: float, keep_fit: bool = False) -> None:
        """Zoom to ``zoom`` around the view centre."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        self.setTransformationAnchor(anchor)
        self.fitted = keep_fit
        self.zoom_changed.emit(zoom)
        self.view_changed.emit()

    def fit(self) -> None:
        """Show the whole image."""
        rect = self.sceneRect()
        if rect.width() <= 0 or rect.height() <= 0:
            return
        vp = self.viewport().rect()
        if vp.width() < 2 or vp.height() < 2:  # hidden or collapsed: fit when shown
            self.fitted = True
            return
        zoom = min(vp.width() / rect.width(), vp.height() / rect.height())
        self.set_zoom(zoom, keep_fit=True)
        self.centerOn(rect.center())

    def actual_size(self) -> None:
        """One image pixel per screen pixel (device pixels on HiDPI screens)."""
        self.set_zoom(1.0 / max(self.devicePixelRatioF(), 1.0))

    def zoom_by(self, factor: float) -> None:
        """Multiply the zoom by ``factor``."""
        self.set_zoom(self.zoom() * factor)

    def center(self) -> QPointF:
        """Scene point at the viewport's centre."""
        return self.mapToScene(self.viewport().rect().center())

    def follow(self, other: ImageView) -> None:
        """Take over ``other``'s zoom and centre (synchronised views)."""
        self.fitted = other.fitted
        self.setTransform(other.transform())
        self.centerOn(other.center())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        """Zoom around the cursor."""
        steps = event.angleDelta().y() / 120.0
        if steps:
            factor = 1.25**steps
            zoom = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
            self.scale(zoom / self.zoom(), zoom / self.zoom())
            self.fitted = False
            self.zoom_changed.emit(self.zoom())
            self.view_changed.emit()
        event.accept()

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        """Keep a fitted image fitted."""
        super().resizeEvent(event)
        if self.fitted:
            self.fit()

    def _on_scroll_changed(self, _value: int) -> None:
        self.view_changed.emit()
