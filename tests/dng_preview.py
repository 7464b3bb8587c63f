"""Checks of a DNG's IFD0 preview shared by the DNG tests (import as ``from dng_preview
import check_preview``).

The preview is one strip holding one baseline JPEG (Compression 7, YCbCr 4:2:0), the
form Adobe's converter stores previews in: exiftool extracts it as ``PreviewImage``,
LibRaw's ``extract_thumb`` returns it as a JPEG, Pillow decodes it at the IFD's size,
and exiv2's preview manager (darktable's and digiKam's way to embedded previews) gives
it as a one-page TIFF of the same pixels.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import exiv2
import numpy as np
import rawpy
import tifffile
from PIL import Image

#: Most bytes a 256-pixel preview's JPEG may take: an uncompressed one is 105-126 kB.
MAX_PREVIEW_BYTES = 32_000


def check_preview(dng: Path) -> np.ndarray:
    """Assert that ``dng``'s IFD0 preview is a readable baseline JPEG; returns its pixels."""
    with tifffile.TiffFile(dng) as tif:
        ifd0 = tif.pages[0]
        assert ifd0.subfiletype == 1
        assert ifd0.compression == 7 and ifd0.photometric == 6  # JPEG, YCbCr
        assert ifd0.tags["YCbCrSubSampling"].value == (2, 2)
        assert ifd0.tags["BitsPerSample"].value == (8, 8, 8)
        assert len(ifd0.dataoffsets) == 1  # one strip: one complete JPEG
        tif.filehandle.seek(ifd0.dataoffsets[0])
        jpeg = tif.filehandle.read(ifd0.databytecounts[0])
        shape = ifd0.shape
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    assert len(jpeg) <= MAX_PREVIEW_BYTES
    with Image.open(io.BytesIO(jpeg)) as im:
        assert im.format == "JPEG" and im.mode == "RGB"
        assert im.info.get("progressive", 0) == 0  # baseline
        assert im.size == (shape[1], shape[0])
        assert im.layers == 3 and im.layer[1][1:3] == im.layer[2][1:3] == (1, 1)
        assert im.layer[0][1:3] == (2, 2)  # luma 2 x 2 over chroma: 4:2:0
        pixels = np.asarray(im.convert("RGB"))
    with rawpy.imread(str(dng)) as raw:
        thumb = raw.extract_thumb()
    assert thumb.format == rawpy.ThumbFormat.JPEG
    with Image.open(io.BytesIO(bytes(thumb.data))) as im:
        assert im.size == (shape[1], shape[0])
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), pixels)
    exiv2.LogMsg.setLevel(exiv2.LogMsg.Level.mute)
    image = exiv2.ImageFactory.open(str(dng))
    image.readMetadata()
    manager = exiv2.PreviewManager(image)
    (listed,) = manager.getPreviewProperties()
    assert (listed.width_, listed.height_) == (shape[1], shape[0])
    wrapped = bytes(manager.getPreviewImage(listed).data())
    np.testing.assert_array_equal(tifffile.imread(io.BytesIO(wrapped)), pixels)
    if shutil.which("exiftool"):
        extracted = subprocess.run(
            ["exiftool", "-b", "-PreviewImage", str(dng)], capture_output=True, check=True
        ).stdout
        assert extracted == jpeg
        warnings = subprocess.run(
            ["exiftool", "-s3", "-Warning", "-Error", str(dng)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert warnings == ""
    return pixels
