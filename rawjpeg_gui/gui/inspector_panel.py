"""Camera metadata and coding numbers of the current image."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from rawjpeg_gui.workers.jobs import CodedImage, LoadedImage


def _size(num_bytes: int | None) -> str:
    if not num_bytes:
        return "–"
    return f"{num_bytes / 1e6:.2f} MB" if num_bytes >= 1e6 else f"{num_bytes / 1e3:.1f} kB"


def _exposure(seconds: float | None) -> str:
    if not seconds:
        return "–"
    return f"1/{round(1 / seconds)} s" if seconds < 0.5 else f"{seconds:.3g} s"


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
        """Show why ``name`` could not be opened."""
        self.clear()
        self.fields["file"].setText(name or "–")
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
        f["source_size"].setText(_size(m.source_size))
        f["camera"].setText(m.camera or "–")
        f["lens"].setText(m.lens or "–")
        f["datetime"].setText(m.datetime or "–")
        aperture = f", f/{m.f_number:.2g}" if m.f_number else ""
        f["exposure"].setText(_exposure(m.exposure_time) + aperture)
        f["iso"].setText(f"{m.iso:g}" if m.iso else "–")
        f["focal"].setText(f"{m.focal_length:.3g} mm" if m.focal_length else "–")
        f["cfa"].setText(m.cfa_pattern or "–")
        f["wb"].setText(m.wb_text or "–")
        f["orientation"].setText(str(m.orientation))

    def show_coded(self, coded: CodedImage, source_size: int) -> None:
        """Fill the adapter-JPEG section."""
        f = self.fields
        f["quality"].setText(str(coded.quality))
        f["jpeg_size"].setText(_size(coded.file_bytes))
        ratio = source_size / coded.file_bytes if source_size and coded.file_bytes else None
        f["ratio"].setText(f"{ratio:.1f} : 1 (vs. raw file)" if ratio else "–")
        f["bpp"].setText(f"{coded.bpp:.2f}")
        f["psnr"].setText(f"{coded.psnr:.2f} dB" if coded.psnr is not None else "– (no original)")
        f["ssim"].setText(f"{coded.ssim:.4f}" if coded.ssim is not None else "– (no original)")
        f["model"].setText(coded.model_name or "–")
        f["time"].setText(f"{coded.seconds:.2f} s")
