"""Thumbnails of raw files and adapter-JPEGs, made cheaply and cached on disk (no Qt).

A camera raw's thumbnail is its embedded preview (LibRaw extracts it without
decoding the sensor data); files without one are decoded and rendered small. An
adapter-JPEG's thumbnail is a reduced-size JPEG decode (Pillow ``draft``) through the
file's own ICC profile, as the main view and colour-managed viewers show it. Each
thumbnail is stored as a small JPEG in the user cache folder (``RAWJPEG_CACHE_DIR``
overrides it), keyed by path, size and modification time.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np

from rawjpeg_gui.core import display, icc, rawio
from rawjpeg_gui.core.fileio import write_atomic

#: Largest side of a thumbnail in pixels.
THUMBNAIL_SIDE = 256
#: Bump when the way thumbnails are made changes, so old cache entries are ignored.
_CACHE_VERSION = "2"


def cache_dir() -> Path:
    """The thumbnail cache folder (``$RAWJPEG_CACHE_DIR`` or the platform's user cache)."""
    override = os.environ.get("RAWJPEG_CACHE_DIR")
    if override:
        return Path(override) / "thumbnails"
    import platformdirs

    return Path(platformdirs.user_cache_dir("rawjpeg", appauthor=False)) / "thumbnails"


def _shrink(image: np.ndarray, side: int) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(image))
    im.thumbnail((side, side), Image.Resampling.BILINEAR)
    return np.asarray(im.convert("RGB"))


def make_thumbnail(path: Path, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """Make an upright uint8 H x W x 3 thumbnail of ``path`` (raises on unreadable files)."""
    from PIL import Image, ImageOps

    if path.suffix.lower() in (".jpg", ".jpeg"):
        with Image.open(path) as im:
            profile = im.info.get("icc_profile")
            im.draft("RGB", (side, side))  # DCT-domain reduced decode: 1/2, 1/4 or 1/8 size
            upright = ImageOps.exif_transpose(im.convert("RGB"))
            # An adapter-JPEG stores camera RGB; its profile says how it looks.
            viewed = icc.to_srgb(np.asarray(upright), bytes(profile) if profile else None)
            return _shrink(viewed, side)
    preview = rawio.read_embedded_preview(path)
    if preview is not None and max(preview.shape[:2]) >= side // 2:
        return _shrink(preview, side)
    # No usable embedded preview (or a postage stamp): decode and render small.
    raw = rawio.read_raw(path)
    gain = display.auto_gain(raw.data, raw.meta)
    return _shrink(display.render(raw.data, raw.meta, max_side=side * 2, base_gain=gain), side)


class ThumbnailCache:
    """Disk cache of thumbnails.

    Attributes:
        folder: where the JPEG files live (created on first write).
        side: thumbnail size.
    """

    def __init__(self, folder: Path | None = None, side: int = THUMBNAIL_SIDE) -> None:
        self.folder = folder or cache_dir()
        self.side = side

    def key(self, path: Path) -> str:
        """Cache key of the file's current version."""
        st = path.stat()
        ident = f"{_CACHE_VERSION}|{self.side}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
        return hashlib.sha1(ident.encode("utf-8", "surrogateescape")).hexdigest()

    def get(self, path: Path) -> np.ndarray | None:
        """The cached thumbnail, or ``None``."""
        from PIL import Image

        try:
            entry = self.folder / f"{self.key(path)}.jpg"
            if not entry.is_file():
                return None
            with Image.open(entry) as im:
                return np.asarray(im.convert("RGB"))
        except (OSError, ValueError):
            return None

    def put(self, path: Path, image: np.ndarray) -> None:
        """Store a thumbnail (best effort: a read-only cache only costs speed)."""
        from PIL import Image

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            Image.fromarray(image).save(buf, "JPEG", quality=85)
            write_atomic(self.folder / f"{self.key(path)}.jpg", buf.getvalue())
        except Exception:
            return

    def load(self, path: Path) -> np.ndarray:
        """Cached thumbnail of ``path``, made and stored when missing."""
        cached = self.get(path)
        if cached is not None:
            return cached
        image = make_thumbnail(path, self.side)
        self.put(path, image)
        return image
