"""pyqtgraph plots of the adapter: gamma map, tone LUTs, error map and the RD curve."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from rawjpeg_gui.workers.jobs import RD_PROXY_SIDE, CodedImage

#: Pen colour of each LUT channel and RD method.
_CHANNEL_COLOURS = ("#e53935", "#43a047", "#1e88e5")
_METHOD_STYLE = {
    "adapter": ("#ff9800", "o", "adapter-JPEG"),
    "gamma22": ("#1e88e5", "t", "JPEG of γ 1/2.2"),
    "linear": ("#8e24aa", "s", "JPEG of linear"),
}


class PlotsPanel(QWidget):
    """Four plots in a row.

    Attributes:
        gamma_plot, lut_plot, error_plot, rd_plot: the pyqtgraph plot items.
        gamma_image, error_image: image items of the gamma map and the error map.
        lut_curves: one curve per channel (R, G, B).
        rd_points: RDPoints shown, in arrival order.
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
            values=(0.3, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False, width=12
        )
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
            values=(0.0, 0.01), colorMap=pg.colormap.get("inferno"), interactive=False, width=12
        )
        self.error_bar.setImageItem(self.error_image, insert_in=self.error_plot)

        self.rd_plot = c.addPlot(row=0, col=3)
        self.rd_plot.setLabel("bottom", "bits per pixel")
        self.rd_plot.setLabel("left", "PSNR (dB)")
        self.rd_plot.showGrid(x=True, y=True, alpha=0.25)
        self.rd_plot.addLegend(offset=(-5, -5), labelTextSize="8pt")
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
        self.rd_points: list = []
        self._titles = {
            id(self.gamma_plot): "Gamma map",
            id(self.lut_plot): "Tone LUTs (R, G, B)",
            id(self.error_plot): "Error map",
            id(self.rd_plot): "Rate-distortion",
        }
        self._fg = "#000000"
        self.apply_palette(self.palette())
        self.clear()

    def _title(self, plot: pg.PlotItem, text: str) -> None:
        self._titles[id(plot)] = text
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
        self.rd_plot.legend.setLabelTextColor(fg)

    def clear(self) -> None:
        """Remove everything plotted."""
        self.gamma_image.clear()
        self.error_image.clear()
        for curve in self.lut_curves:
            curve.setData([], [])
        self.clear_rd()
        self._title(self.gamma_plot, "Gamma map")
        self._title(self.error_plot, "Error map")

    def clear_rd(self, note: str = "") -> None:
        """Remove the rate-distortion points."""
        self.rd_points = []
        for curve in self.rd_curves.values():
            curve.setData([], [])
        self.rd_current.setData([], [])
        self._title(self.rd_plot, f"Rate-distortion {note}".strip())

    def show_coded(self, coded: CodedImage) -> None:
        """Plot the operators and the error of ``coded``."""
        gm = np.asarray(coded.params.gamma_map, np.float32)
        lo, hi = float(gm.min()), float(gm.max())
        if hi - lo < 1e-3:
            lo, hi = lo - 0.05, hi + 0.05
        self.gamma_image.setImage(gm, autoLevels=False)
        self.gamma_bar.setLevels((lo, hi))
        self._title(self.gamma_plot, f"Gamma map {gm.shape[1]}×{gm.shape[0]} ({lo:.2f}–{hi:.2f})")
        lut = np.asarray(coded.params.lut, np.float32)
        x = np.linspace(0.0, 1.0, lut.shape[1])
        for curve, channel in zip(self.lut_curves, lut, strict=True):
            curve.setData(x, channel)
        if coded.error is not None:
            err = np.asarray(coded.error, np.float32)
            vmax = coded.error_vmax
            self.error_image.setImage(err, autoLevels=False)
            self.error_bar.setLevels((0.0, vmax))
            self._title(
                self.error_plot, f"Error map — PSNR {coded.psnr:.2f} dB, SSIM {coded.ssim:.4f}"
            )
        else:
            self.error_image.clear()
            self._title(self.error_plot, "Error map (needs the original raw)")
        # The curve is measured on a proxy of large images, where full-size bpp would not
        # fall on it: mark the current quality only when the curve is of the image itself.
        raw = coded.reconstruction
        if (
            coded.psnr is not None
            and math.isfinite(coded.psnr)
            and max(raw.width, raw.height) <= RD_PROXY_SIDE
        ):
            self.rd_current.setData([coded.bpp], [coded.psnr])
        else:
            self.rd_current.setData([], [])

    def add_rd_point(self, point) -> None:  # type: ignore[no-untyped-def]
        """Add one RDPoint and redraw its method's curve."""
        self.rd_points.append(point)
        pts = sorted((p for p in self.rd_points if p.method == point.method), key=lambda p: p.bpp)
        finite = [p for p in pts if math.isfinite(p.psnr)]
        curve = self.rd_curves.get(point.method)
        if curve is not None:
            curve.setData([p.bpp for p in finite], [p.psnr for p in finite])
