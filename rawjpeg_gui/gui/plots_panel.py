"""pyqtgraph plots of the adapter: gamma map, tone LUTs, error map and the RD curve."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from rawjpeg_gui.workers.jobs import CodedImage

#: Pen colour of each LUT channel and RD method.
_CHANNEL_COLOURS = ("#e53935", "#43a047", "#1e88e5")
_METHOD_STYLE = {
    "adapter": ("#ff9800", "o", "adapter-JPEG"),
    "gamma22": ("#1e88e5", "t", "JPEG of γ 1/2.2"),
    "linear": ("#8e24aa", "s", "JPEG of linear"),
}


class _TitleLabel(pg.LabelItem):
    """A plot title whose text never changes the plots' widths.

    pyqtgraph sizes a title to its text, so each new title ("PSNR 38.12 dB ...") would
    re-lay out the whole canvas: all four plots resized and redrawn on the GUI thread at
    every coding. Only the height enters the layout here; a title wider than its plot
    is clipped.
    """

    def __init__(self) -> None:
        super().__init__("", size="11pt")
        self.setFlag(self.GraphicsItemFlag.ItemClipsChildrenToShape)

    def updateMin(self) -> None:  # noqa: N802 (pyqtgraph API)
        """Keep the height of the text as the minimum, not its width."""
        super().updateMin()
        self.setMinimumWidth(0)

    def sizeHint(self, hint: Qt.SizeHint, constraint: QSizeF) -> QSizeF:  # noqa: N802 (Qt API)
        """The text's height; no width of its own."""
        size = super().sizeHint(hint, constraint)
        if hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            size.setWidth(0)
        return size


def _use_title_label(plot: pg.PlotItem) -> None:
    """Replace ``plot``'s title by a :class:`_TitleLabel` in the same place."""
    old = plot.titleLabel
    plot.layout.removeItem(old)
    if old.scene() is not None:
        old.scene().removeItem(old)
    plot.titleLabel = _TitleLabel()
    plot.titleLabel.setParentItem(plot)
    plot.layout.addItem(plot.titleLabel, 0, 1)
    plot.setTitle(None)


class PlotsPanel(QWidget):
    """Four plots, in a row or stacked (:meth:`set_columns`).

    The rate-distortion plot ranges itself on each image's curve and marks the
    current quality ("you are here") with the same bits per pixel and PSNR as the
    inspector; the curve and the mark are measured on the same full-resolution image.
    Mouse zoom and pan stay, pyqtgraph's own context menus do not.

    Attributes:
        gamma_plot, lut_plot, error_plot, rd_plot: the pyqtgraph plot items.
        gamma_image, error_image: image items of the gamma map and the error map.
        lut_curves: one curve per channel (R, G, B).
        rd_points: RDPoints shown, in arrival order.
        rd_current: the "you are here" mark; rd_current_label its text.
        columns: plots per row (4 or fewer).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
        self.canvas = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        c = self.canvas
        self.gamma_plot = c.addPlot(row=0, col=0)
        self.gamma_image = pg.ImageItem()
        self.gamma_plot.addItem(self.gamma_image)
        self.gamma_plot.invertY(True)
        self.gamma_plot.setAspectLocked(True)
        self.gamma_plot.hideAxis("bottom")
        self.gamma_plot.hideAxis("left")
        self.gamma_bar = pg.ColorBarItem(
            values=(0.3, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False, width=12,
            label="gamma", colorMapMenu=False,
        )  # fmt: skip
        self.gamma_note = pg.TextItem(anchor=(0.5, 0.5))
        self.gamma_plot.addItem(self.gamma_note, ignoreBounds=True)
        self.gamma_bar.setImageItem(self.gamma_image, insert_in=self.gamma_plot)

        self.lut_plot = c.addPlot(row=0, col=1)
        self.lut_plot.setLabel("bottom", "input (linear)")
        self.lut_plot.setLabel("left", "output")
        self.lut_plot.setXRange(0, 1)
        self.lut_plot.setYRange(0, 1)
        self.lut_curves = [
            self.lut_plot.plot(pen=pg.mkPen(colour, width=2), name=name)
            for colour, name in zip(_CHANNEL_COLOURS, "RGB", strict=True)
        ]

        self.error_plot = c.addPlot(row=0, col=2)
        self.error_image = pg.ImageItem()
        self.error_plot.addItem(self.error_image)
        self.error_plot.invertY(True)
        self.error_plot.setAspectLocked(True)
        self.error_plot.hideAxis("bottom")
        self.error_plot.hideAxis("left")
        self.error_bar = pg.ColorBarItem(
            values=(0.0, 0.01), colorMap=pg.colormap.get("inferno"), interactive=False, width=12,
            label="|error|, fraction of white", colorMapMenu=False,
        )  # fmt: skip
        self.error_bar.setImageItem(self.error_image, insert_in=self.error_plot)

        self.rd_plot = c.addPlot(row=0, col=3)
        self.rd_plot.setLabel("bottom", "bits per pixel")
        self.rd_plot.setLabel("left", "PSNR (dB)")
        self.rd_plot.showGrid(x=True, y=True, alpha=0.25)
        self.rd_plot.addLegend(offset=(-5, -5), labelTextSize="9pt")
        self.rd_curves = {
            method: self.rd_plot.plot(
                pen=pg.mkPen(colour, width=2),
                symbol=symbol,
                symbolSize=6,
                symbolBrush=colour,
                name=label,
            )
            for method, (colour, symbol, label) in _METHOD_STYLE.items()
        }
        self.rd_current = pg.ScatterPlotItem(
            size=14, symbol="star", brush=pg.mkBrush("#ffeb3b"), pen=pg.mkPen("k")
        )
        self.rd_plot.addItem(self.rd_current)
        self.rd_current_label = pg.TextItem(anchor=(0, 1))
        self.rd_plot.addItem(self.rd_current_label, ignoreBounds=True)
        self.rd_points: list = []
        self.columns = 4
        self._plots = [self.gamma_plot, self.lut_plot, self.error_plot, self.rd_plot]
        for plot in self._plots:
            _use_title_label(plot)
            plot.setMenuEnabled(False)  # pyqtgraph's raw menu means nothing to a user
            plot.getViewBox().setMenuEnabled(False)
            for name in ("left", "bottom"):
                plot.getAxis(name).enableAutoSIPrefix(False)
        self.lut_plot.setToolTip(
            "The tone curve each channel of the linear raw goes through before JPEG coding. "
            "It includes the encoder's scaling by the square root of the white balance, so a "
            "channel the camera records brightest (usually green) stops below 1."
        )
        self._titles = {
            id(self.gamma_plot): "Gamma map",
            id(self.lut_plot): "Tone LUTs (R, G, B)",
            id(self.error_plot): "Error map",
            id(self.rd_plot): "Rate-distortion",
        }
        # Axes are redrawn from their tick text on every repaint of the canvas (about a
        # millisecond each, on the GUI thread); drawn once into a pixmap they are blitted.
        axes = [plot.getAxis(n) for plot in self._plots for n in ("left", "bottom", "right", "top")]
        axes += [bar.axis for bar in (self.gamma_bar, self.error_bar)]
        axes += [bar.getAxis("left") for bar in (self.gamma_bar, self.error_bar)]
        for axis in axes:
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._fg = "#000000"
        self._shown_titles: dict[int, tuple[str, str]] = {}
        self._shown_params: object = None
        self.apply_palette(self.palette())
        self.clear()

    def _title(self, plot: pg.PlotItem, text: str) -> None:
        self._titles[id(plot)] = text
        # Setting a title re-lays out the whole canvas: only when it reads differently.
        if self._shown_titles.get(id(plot)) != (text, self._fg):
            self._shown_titles[id(plot)] = (text, self._fg)
            plot.setTitle(text, color=self._fg, size="9pt")

    def apply_palette(self, palette: QPalette) -> None:
        """Follow the application's light or dark palette."""
        bg = palette.color(QPalette.ColorRole.Base)
        fg = palette.color(QPalette.ColorRole.Text)
        self.canvas.setBackground(bg)
        for plot in (self.gamma_plot, self.lut_plot, self.error_plot, self.rd_plot):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(fg)
                axis.setTextPen(fg)
            self._fg = fg.name()
            self._title(plot, self._titles[id(plot)])
        legend = self.rd_plot.legend
        legend.setLabelTextColor(fg)
        for _sample, label in legend.items:  # labels made before the colour was set
            label.setText(label.text, color=fg.name())
        legend.setBrush(pg.mkBrush(bg.red(), bg.green(), bg.blue(), 220))
        legend.setPen(pg.mkPen(fg.red(), fg.green(), fg.blue(), 90))
        for label in (self.rd_current_label, self.gamma_note):
            label.setColor(fg)
        for bar in (self.gamma_bar, self.error_bar):
            for axis in (bar.axis, bar.getAxis("left")):
                axis.setPen(fg)
                axis.setTextPen(fg)
        self._palette_colours = (bg, fg)

    def set_columns(self, columns: int) -> None:
        """Lay the four plots out ``columns`` to a row (4: one row; 1: stacked)."""
        columns = max(1, min(4, int(columns)))
        if columns == self.columns:
            return
        layout = self.canvas.ci
        for plot in self._plots:
            layout.removeItem(plot)
        for i, plot in enumerate(self._plots):
            layout.addItem(plot, row=i // columns, col=i % columns)
        self.columns = columns

    def clear(self) -> None:
        """Remove everything plotted."""
        self._shown_params = None
        self.gamma_image.clear()
        self.error_image.clear()
        for curve in self.lut_curves:
            curve.setData([], [])
        self.clear_rd()
        self.gamma_note.setText("")
        self.error_bar.setLevels((0.0, 0.01))
        self._title(self.gamma_plot, "Gamma map")
        self._title(self.error_plot, "Error map")
        self._title(self.lut_plot, "Tone LUTs (R, G, B)")

    def clear_rd(self, note: str = "") -> None:
        """Remove the rate-distortion points."""
        self.rd_points = []
        for curve in self.rd_curves.values():
            curve.setData([], [])
        self.rd_current.setData([], [])
        self.rd_current_label.setText("")
        self.rd_plot.enableAutoRange()  # each image's curve is shown whole, whatever the zoom
        self._title(self.rd_plot, f"Rate-distortion {note}".strip())

    def clear_rd_note(self) -> None:
        """Title the finished curve."""
        self._title(self.rd_plot, "Rate-distortion (full image)")
        self.rd_plot.enableAutoRange()
        self.rd_plot.autoRange()

    def show_coded(self, coded: CodedImage, measuring: bool = False) -> None:
        """Plot the operators, and the error once ``coded`` is measured (``measuring``:
        its numbers are on their way)."""
        if coded.params is not self._shown_params:  # the measured copy has the same ones
            self._shown_params = coded.params
            self._show_params(coded)
        if coded.error is not None:
            err = np.asarray(coded.error, np.float32)
            self.error_image.setImage(err, autoLevels=False)
            self.error_bar.setLevels((0.0, coded.error_vmax))
            self.error_plot.autoRange()
            self._title(
                self.error_plot, f"Error map — PSNR {coded.psnr:.2f} dB, SSIM {coded.ssim:.4f}"
            )
        elif measuring:
            self.error_image.clear()
            self._title(self.error_plot, "Error map (measuring…)")
        else:
            self.error_image.clear()
            self._title(self.error_plot, "Error map (needs the original raw)")
        self.show_current(coded)

    def _show_params(self, coded: CodedImage) -> None:
        """Plot the gamma map and the tone curves of ``coded``."""
        gm = np.asarray(coded.params.gamma_map, np.float32)
        lo, hi = float(gm.min()), float(gm.max())
        if hi - lo < 1e-3:
            lo, hi = lo - 0.05, hi + 0.05
        self.gamma_image.setImage(gm, autoLevels=False)
        self.gamma_bar.setLevels((lo, hi))
        if gm.shape[0] * gm.shape[1] == 1:
            # One value for the whole frame: say so rather than paint a flat square.
            self.gamma_note.setText(f"γ {float(gm.ravel()[0]):.3f}\nover the whole frame")
            self.gamma_note.setPos(0.5, 0.5)
            self._title(self.gamma_plot, "Gamma map 1×1 (one value)")
        else:
            self.gamma_note.setText("")
            self._title(
                self.gamma_plot, f"Gamma map {gm.shape[1]}×{gm.shape[0]} ({lo:.2f}–{hi:.2f})"
            )
        self.gamma_plot.autoRange()
        lut = np.asarray(coded.params.lut, np.float32)
        x = np.linspace(0.0, 1.0, lut.shape[1])
        for curve, channel in zip(self.lut_curves, lut, strict=True):
            curve.setData(x, channel)

    def show_current(self, coded: CodedImage | None) -> None:
        """Mark where ``coded`` (bpp, PSNR of the full image) sits on the curve."""
        if coded is None or coded.psnr is None or not math.isfinite(coded.psnr):
            if len(self.rd_current.data):  # clearing an empty mark still repaints the plot
                self.rd_current.setData([], [])
            if self.rd_current_label.textItem.toPlainText():
                self.rd_current_label.setText("")
            return
        self.rd_current.setData([coded.bpp], [coded.psnr])
        self.rd_current_label.setText(f"q{coded.quality} (you are here)")
        self.rd_current_label.setPos(coded.bpp, coded.psnr)

    def add_rd_point(self, point) -> None:  # type: ignore[no-untyped-def]
        """Add one RDPoint and redraw its method's curve."""
        self.rd_points.append(point)
        pts = sorted((p for p in self.rd_points if p.method == point.method), key=lambda p: p.bpp)
        finite = [p for p in pts if math.isfinite(p.psnr)]
        curve = self.rd_curves.get(point.method)
        if curve is not None:
            curve.setData([p.bpp for p in finite], [p.psnr for p in finite])
