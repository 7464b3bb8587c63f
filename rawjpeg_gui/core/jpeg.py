"""Baseline JPEG coding of 8-bit images (Pillow/libjpeg) and JPEG segment surgery.

Pillow writes the JPEG (quality, chroma subsampling, optional custom quantisation
tables, EXIF); this module then inserts the rawjpeg APP11 segment right after the
APP0/APP1 headers, and finds it again when reading. Anything that is not a JPEG,
or a JPEG without our segment, is refused with a precise error.
"""

from __future__ import annotations

import io
import struct
import tempfile
from fractions import Fraction

import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from .container import APP_MARKER, IDENTIFIER
from .errors import NotAJpeg, NotAnAdapterJpeg
from .metadata import RawMeta

#: Pillow's names for chroma subsampling.
SUBSAMPLING = {"4:4:4": 0, "4:2:0": 2}


def _rational(value: float) -> IFDRational:
    f = Fraction(value).limit_denominator(1_000_000)
    return IFDRational(f.numerator, f.denominator)


def _exif_bytes(meta: RawMeta | None) -> bytes:
    if meta is None:
        return b""
    exif = Image.Exif()
    if meta.make:
        exif[0x010F] = meta.make
    if meta.model:
        exif[0x0110] = meta.model
    exif[0x0112] = int(meta.orientation)
    exif[0x0131] = "rawjpeg"
    if meta.datetime:
        exif[0x0132] = meta.datetime
    sub = exif.get_ifd(0x8769)
    if meta.exposure_time:
        sub[0x829A] = _rational(meta.exposure_time)
    if meta.f_number:
        sub[0x829D] = _rational(meta.f_number)
    if meta.iso:
        sub[0x8827] = int(round(meta.iso))
    if meta.datetime:
        sub[0x9003] = meta.datetime
    if meta.focal_length:
        sub[0x920A] = _rational(meta.focal_length)
    if meta.lens:
        sub[0xA434] = meta.lens
    sub[0xA001] = 1  # ColorSpace: sRGB (the pixels are sRGB-encoded)
    return exif.tobytes()


def encode_jpeg(
    image: np.ndarray,
    quality: int,
    subsampling: str = "4:4:4",
    qtables: np.ndarray | None = None,
    meta: RawMeta | None = None,
    segment: bytes | None = None,
) -> bytes:
    """Encode an HxWx3 uint8 image as a baseline JPEG.

    Args:
        image: uint8 RGB pixels.
        quality: IJG quality 1-100 (ignored for the tables when ``qtables`` is given).
        subsampling: "4:4:4" or "4:2:0".
        qtables: optional (2, 64) luma/chroma tables in natural order.
        meta: camera metadata written as EXIF.
        segment: optional APP11 body (our parameter segment) inserted after the headers.
    """
    pil = Image.fromarray(np.ascontiguousarray(image), "RGB")
    kwargs: dict[str, object] = {"subsampling": SUBSAMPLING[subsampling], "optimize": True}
    if qtables is not None:
        kwargs["qtables"] = [[int(v) for v in t] for t in np.asarray(qtables).reshape(2, 64)]
    else:
        kwargs["quality"] = int(quality)
    exif = _exif_bytes(meta)
    if exif:
        kwargs["exif"] = exif
    # Pillow encodes into a real file in one call that releases the GIL; into a BytesIO
    # it holds the GIL for the whole encode (0.2-0.5 s on 18 MP), freezing other threads.
    with tempfile.TemporaryFile() as fh:
        pil.save(fh, "JPEG", **kwargs)
        fh.seek(0)
        data = fh.read()
    return insert_segment(data, segment) if segment else data


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start of payload, payload length) of each header segment before SOS."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise NotAJpeg("The data is not a JPEG file (no start-of-image marker).")
    out = []
    pos = 2
    while True:
        if pos + 4 > len(data):
            raise NotAJpeg("The JPEG file is truncated inside its headers.")
        if data[pos] != 0xFF:
            raise NotAJpeg("The JPEG file has a damaged header structure.")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2 or pos + 2 + length > len(data):
            raise NotAJpeg("The JPEG file is truncated inside its headers.")
        out.append((marker, pos + 4, length - 2))
        if marker == 0xDA:  # start of scan: headers end here
            return out
        pos += 2 + length


def insert_segment(data: bytes, body: bytes) -> bytes:
    """Insert an APP11 segment with ``body`` after the leading APPn segments."""
    if len(body) + 2 > 0xFFFF:
        raise ValueError("A JPEG segment holds at most 65533 bytes.")
    pos = 2
    for marker, start, length in _segments(data):
        if not 0xE0 <= marker <= 0xEF:
            break
        pos = start + length
    seg = bytes([0xFF, APP_MARKER]) + struct.pack(">H", len(body) + 2) + body
    return data[:pos] + seg + data[pos:]


def find_segment(data: bytes) -> bytes:
    """The body of the rawjpeg APP11 segment; raises if absent or not a JPEG."""
    for marker, start, length in _segments(data):
        if marker == APP_MARKER and data[start : start + len(IDENTIFIER)] == IDENTIFIER:
            return data[start : start + length]
    raise NotAnAdapterJpeg("The JPEG carries no rawjpeg parameters (it is an ordinary JPEG).")


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode JPEG bytes to HxWx3 uint8 RGB (no EXIF rotation: pixels as stored)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "JPEG":
                raise NotAJpeg("The data is not a JPEG file.")
            im.load()
            return np.asarray(im.convert("RGB"))
    except NotAJpeg:
        raise
    except Image.DecompressionBombError:
        raise NotAJpeg("The JPEG declares an image larger than the safety cap.") from None
    except Exception as exc:
        raise NotAJpeg(f"The JPEG image data is damaged or truncated ({exc}).") from None


def jpeg_info(data: bytes) -> tuple[int, int]:
    """(width, height) the JPEG declares, without decoding pixels."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        raise NotAJpeg("The data is not a readable JPEG file.") from None
