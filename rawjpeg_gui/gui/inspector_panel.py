"""Camera metadata and coding numbers of the current image."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rawjpeg_gui.workers.jobs import CodedImage, LoadedImage

from .formats import ratio, shutter_and_aperture, size


class InspectorPanel(QScrollArea):
    """Read-only form: file, camera, shooting data and the adapter-JPEG's numbers.

    Attributes:
        fields: value labels by field name (e.g. "psnr", "bpp", "camera").
        error_label: shows why the current file could not be opened.
    """

    _GROUPS = (
        (
            "File",
            (
                ("file", "File"),
                ("kind", "Kind"),
                ("dimensions", "Pixels"),
                ("source_size", "Raw file size"),
            ),
        ),
        (
            "Camera",
            (
                ("camera", "Camera"),
                ("lens", "Lens"),
                ("datetime", "Taken"),
                ("exposure", "Exposure"),
                ("iso", "ISO"),
                ("focal", "Focal length"),
                ("cfa", "Sensor"),
                ("wb", "As-shot WB"),
                ("orientation", "Orientation"),
            ),
        ),
        (
            "Adapter-JPEG",
            (
                ("quality", "Quality"),
                ("jpeg_size", "File size"),
                ("ratio", "Compression ratio"),
                ("bpp", "Bits per pixel"),
                ("psnr", "PSNR"),
                ("ssim", "SSIM"),
                ("model", "Model"),
                ("time", "Coding time"),
            ),
        ),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        # Long values (file names) wrap or clip; the panel never scrolls sideways.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d32f2f; font-weight: bold;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.fields: dict[str, QLabel] = {}
        for title, rows in self._GROUPS:
            group = QGroupBox(title)
            form = QFormLayout(group)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for key, label in rows:
                value = QLabel("–")
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                value.setWordWrap(True)
                value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
                self.fields[key] = value
                form.addRow(label, value)
            layout.addWidget(group)
        layout.addStretch(1)
        self.setWidget(body)

    def clear(self) -> None:
        """Blank every field."""
        for label in self.fields.values():
            label.setText("–")
        self.error_label.hide()

    def show_error(self, name: str, message: str) -> None:
        """Show why ``name`` could not be opened (every other field blank)."""
        self.clear()
        self.fields["file"].setText(name or "–")
        self.fields["kind"].setText("Could not be opened")
        self.error_label.setText(message)
        self.error_label.show()

    def show_image(self, image: LoadedImage) -> None:
        """Fill the file and camera sections."""
        self.clear()
        m = image.meta
        f = self.fields
        f["file"].setText(image.path.name)
        kind = "Camera raw" if image.kind == "raw" else "Adapter-JPEG"
        if image.kind == "adapter":
            kind += (
                f" (original: {image.original_path.name})"
                if image.original_path
                else (" (original raw not found beside it)")
            )
        f["kind"].setText(kind)
        f["dimensions"].setText(f"{m.width} × {m.height} ({m.width * m.height / 1e6:.1f} MP)")
        f["source_size"].setText(size(m.source_size))
        f["camera"].setText(m.camera or "–")
        f["lens"].setText(m.lens or "–")
        f["datetime"].setText(m.datetime or "–")
        f["exposure"].setText(shutter_and_aperture(m.exposure_time, m.f_number))
        f["iso"].setText(f"{m.iso:g}" if m.iso else "–")
        f["focal"].setText(f"{m.focal_length:.3g} mm" if m.focal_length else "–")
        f["cfa"].setText(m.cfa_pattern or "–")
        f["wb"].setText(m.wb_text or "–")
        f["orientation"].setText(str(m.orientation))

    def show_coded(self, coded: CodedImage, source_size: int, measuring: bool = False) -> None:
        """Fill the adapter-JPEG section (``measuring``: PSNR and SSIM are on their way)."""
        f = self.fields
        f["quality"].setText(str(coded.quality))
        f["jpeg_size"].setText(size(coded.file_bytes))
        factor = source_size / coded.file_bytes if source_size and coded.file_bytes else None
        f["ratio"].setText(f"{ratio(factor)} smaller than the raw file" if factor else "–")
        f["bpp"].setText(f"{coded.bpp:.2f}")
        missing = "measuring…" if measuring else "– (no original)"
        f["psnr"].setText(f"{coded.psnr:.2f} dB" if coded.psnr is not None else missing)
        f["ssim"].setText(f"{coded.ssim:.4f}" if coded.ssim is not None else missing)
        f["model"].setText(coded.model_name or "–")
        f["time"].setText(f"{coded.seconds:.2f} s")
