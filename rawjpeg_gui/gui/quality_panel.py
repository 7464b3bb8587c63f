"""Quality slider and spin box, and the display exposure control."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

from .formats import ev


def parse_ev(text: str) -> float | None:
    """The EV written as ``+1⅓ EV``, ``-0.5``, ``⅔`` ...; ``None`` when it is not one."""
    t = text.replace("EV", "").replace("−", "-").replace(" ", "").strip()
    if not t:
        return None
    sign = -1.0 if t.startswith("-") else 1.0
    t = t.lstrip("+-")
    frac = 0.0
    for mark, value in (("⅓", 1 / 3), ("⅔", 2 / 3)):
        if t.endswith(mark):
            t, frac = t[: -len(mark)], value
    try:
        whole = float(t) if t else 0.0
    except ValueError:
        return None
    return sign * (whole + frac)


class ExposureSpinBox(QDoubleSpinBox):
    """Display exposure in thirds of a stop, written as photographers write it (+1⅓ EV)."""

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt API)
        """Move by whole thirds, landing exactly on a third."""
        self.setValue(round(self.value() * 3 + steps) / 3)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        """``+1⅓ EV`` (values between thirds are shown at the nearest third)."""
        return ev(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt API)
        """Read ``+1⅓ EV``, ``1.5`` or ``-⅔``."""
        value = parse_ev(text)
        return self.value() if value is None else value

    def validate(self, text: str, pos: int) -> object:
        """Accept what :func:`parse_ev` reads (and the partial text of typing it)."""
        if parse_ev(text) is not None:
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


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
        self.exposure = ExposureSpinBox()
        self.exposure.setRange(-5.0, 5.0)
        self.exposure.setDecimals(4)
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
