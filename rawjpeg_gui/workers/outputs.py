"""Writing the current image's outputs (run on the "save" pool; no Qt)."""

from __future__ import annotations

from pathlib import Path

from rawjpeg_gui.core import dng, fileio
from rawjpeg_gui.core.rawio import RawImage


def export_adapter_jpeg(data: bytes, dest: Path, inputs: list[Path]) -> Path:
    """Write adapter-JPEG bytes atomically, never over an input."""
    return fileio.write_atomic(dest, data, inputs=inputs)


def save_tiff(raw: RawImage, dest: Path, inputs: list[Path]) -> Path:
    """Write the reconstructed linear image as a 16-bit TIFF (or PNG), atomically."""
    return fileio.write_image16(dest, raw.data, inputs=inputs)


def save_dng(raw: RawImage, dest: Path, inputs: list[Path]) -> Path:
    """Write the reconstructed raw as a DNG with ``core.dng.write_dng``."""
    result = dng.write_dng(dest, raw, inputs=inputs, reconstructed=True)
    return Path(result) if result is not None else dest
