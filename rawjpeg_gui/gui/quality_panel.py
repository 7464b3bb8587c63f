"""Quality slider and spin box, and the display exposure control."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget


class QualityPanel(QWidget):
    """JPEG quality 1-100 (slider and spin box kept in step) and exposure in EV.

    Attributes:
        slider, spin: the two quality controls.
        exposure: display exposure in EV (-5 to +5).

    Signals:
        quality_changed(int): the user changed the quality.
        exposure_changed(float): the user changed the display exposure.
    """

    quality_changed = Signal(int)
    exposure_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(1, 100)
        self.slider.setPageStep(10)
        self.slider.setToolTip("JPEG quality of the adapter-JPEG (1-100)")
        self.slider.setMinimumWidth(160)
        self.spin = QSpinBox()
        self.spin.setRange(1, 100)
        self.spin.setToolTip(self.slider.toolTip())
        self.exposure = QDoubleSpinBox()
        self.exposure.setRange(-5.0, 5.0)
        self.exposure.setSingleStep(0.33)
        self.exposure.setDecimals(2)
        self.exposure.setSuffix(" EV")
        self.exposure.setToolTip("Display exposure (changes only what you see, not the file)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Quality"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        layout.addSpacing(16)
        layout.addWidget(QLabel("Exposure"))
        layout.addWidget(self.exposure)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.spin.valueChanged.connect(self._on_spin_value_changed)
        self.exposure.valueChanged.connect(self._on_exposure_value_changed)

    def quality(self) -> int:
        """The quality shown."""
        return self.spin.value()

    def set_quality(self, quality: int) -> None:
        """Show ``quality`` without emitting :attr:`quality_changed`."""
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
            widget.setValue(int(quality))
            widget.blockSignals(False)

    def set_exposure(self, ev: float) -> None:
        """Show ``ev`` without emitting :attr:`exposure_changed`."""
        self.exposure.blockSignals(True)
        self.exposure.setValue(float(ev))
        self.exposure.blockSignals(False)

    def step_quality(self, delta: int) -> None:
        """Raise or lower the quality by ``delta`` (emits)."""
        self.spin.setValue(self.spin.value() + delta)

    def _on_slider_value_changed(self, value: int) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.quality_changed.emit(value)

    def _on_spin_value_changed(self, value: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(value)
        self.slider.blockSignals(False)
        self.quality_changed.emit(value)

    def _on_exposure_value_changed(self, value: float) -> None:
        self.exposure_changed.emit(value)
