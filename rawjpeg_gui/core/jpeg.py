"""Baseline JPEG coding of 8-bit images (Pillow/libjpeg) and JPEG segment surgery.

Pillow writes the JPEG (quality, chroma subsampling, optional custom quantisation
tables, EXIF); this module then inserts the rawjpeg APP11 segment right after the
APP0/APP1 headers, and finds it again when reading. Anything that is not a JPEG,
or a JPEG without our segment, is refused with a precise error.

Before any pixel is decoded, :func:`check_decodable` reads the frame header: a
JPEG that is not three-colour (grayscale, CMYK), that declares more pixels than the
cap, more 8x8 blocks than its entropy-coded data could code (every block costs at
least one bit per scan), or that has no end-of-image marker is refused, so a crafted
header cannot make the decoder allocate gigabytes of invented pixels.
"""

from __future__ import annotations

import io
import math
import struct
import tempfile
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from .container import APP_MARKER, IDENTIFIER
from .errors import CorruptParameters, NotAJpeg, NotAnAdapterJpeg
from .metadata import RawMeta
from .rawcheck import MAX_PIXELS

#: Pillow's names for chroma subsampling.
SUBSAMPLING = {"4:4:4": 0, "4:2:0": 2}


def _rational(value: float) -> IFDRational:
    f = Fraction(value).limit_denominator(1_000_000)
    return IFDRational(f.numerator, f.denominator)


#: EXIF ColorSpace values: sRGB, and "uncalibrated" (an embedded ICC profile says).
COLOUR_SPACE_SRGB, COLOUR_SPACE_ICC = 1, 0xFFFF


def _exif_bytes(meta: RawMeta | None, colour_space: int = COLOUR_SPACE_SRGB) -> bytes:
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
    sub[0xA001] = colour_space
    return exif.tobytes()


def encode_jpeg(
    image: np.ndarray,
    quality: int,
    subsampling: str = "4:4:4",
    qtables: np.ndarray | None = None,
    meta: RawMeta | None = None,
    segment: bytes | None = None,
    icc_profile: bytes | None = None,
) -> bytes:
    """Encode an HxWx3 uint8 image as a baseline JPEG.

    Args:
        image: uint8 RGB pixels.
        quality: IJG quality 1-100 (ignored for the tables when ``qtables`` is given).
        subsampling: "4:4:4" or "4:2:0".
        qtables: optional (2, 64) luma/chroma tables in natural order.
        meta: camera metadata written as EXIF.
        segment: optional APP11 body (our parameter segment) inserted after the headers.
        icc_profile: optional ICC profile of the pixels (APP2; EXIF ColorSpace then
            says "uncalibrated"); without one the pixels are declared sRGB.
    """
    pil = Image.fromarray(np.ascontiguousarray(image), "RGB")
    kwargs: dict[str, object] = {"subsampling": SUBSAMPLING[subsampling], "optimize": True}
    if qtables is not None:
        kwargs["qtables"] = [[int(v) for v in t] for t in np.asarray(qtables).reshape(2, 64)]
    else:
        kwargs["quality"] = int(quality)
    if icc_profile:
        kwargs["icc_profile"] = icc_profile
    exif = _exif_bytes(meta, COLOUR_SPACE_ICC if icc_profile else COLOUR_SPACE_SRGB)
    if exif:
        kwargs["exif"] = exif
    # Pillow encodes into a real file in one call that releases the GIL; into a BytesIO
    # it holds the GIL for the whole encode, freezing other threads on large images.
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
    """The body of the rawjpeg APP11 segment; raises if absent, doubled or not a JPEG."""
    found = [
        data[start : start + length]
        for marker, start, length in _segments(data)
        if marker == APP_MARKER and data[start : start + len(IDENTIFIER)] == IDENTIFIER
    ]
    if len(found) > 1:
        raise CorruptParameters(
            "The JPEG carries two rawjpeg parameter segments; which one belongs to the image cannot be told."
        )
    if not found:
        raise NotAnAdapterJpeg("The JPEG carries no rawjpeg parameters (it is an ordinary JPEG).")
    return found[0]


#: Start-of-frame markers (SOF0-SOF15 without DHT, JPG and DAC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class FrameInfo:
    """What a JPEG's frame header declares.

    Attributes:
        width, height: image size in pixels.
        components: colour components (1 grayscale, 3 colour, 4 CMYK).
        blocks: 8x8 blocks over all components, the least the scans must code.
        progressive: coded in several scans (SOF2 and kin).
    """

    width: int
    height: int
    components: int
    blocks: int
    progressive: bool


def frame_info(data: bytes) -> FrameInfo:
    """Parse the frame header (no pixel decoding)."""
    for marker, start, length in _segments(data):
        if marker not in _SOF_MARKERS:
            continue
        if length < 6:
            break
        _bits, height, width, count = struct.unpack_from(">BHHB", data, start)
        if count < 1 or length < 6 + 3 * count:
            break
        factors = [
            (data[start + 7 + 3 * i] >> 4, data[start + 7 + 3 * i] & 15) for i in range(count)
        ]
        hmax = max(max(h for h, _ in factors), 1)
        vmax = max(max(v for _, v in factors), 1)
        blocks = sum(
            math.ceil(math.ceil(width * h / hmax) / 8) * math.ceil(math.ceil(height * v / vmax) / 8)
            for h, v in factors
        )
        progressive = marker in (0xC2, 0xC6, 0xCA, 0xCE)
        return FrameInfo(width, height, count, blocks, progressive)
    raise NotAJpeg("The JPEG file has no valid frame header.")


def check_decodable(data: bytes) -> FrameInfo:
    """Refuse, before decoding, a JPEG that cannot be a complete adapter-JPEG image.

    Raises:
        NotAJpeg: not a JPEG, not three-colour, beyond the pixel cap, declaring more
            blocks than its coded data can hold, or without an end-of-image marker.
    """
    info = frame_info(data)
    if info.components != 3:
        kind = {1: "grayscale", 4: "CMYK"}.get(info.components, f"{info.components}-component")
        raise NotAJpeg(
            f"The JPEG is a {kind} image; an adapter-JPEG is always a three-colour image."
        )
    if info.width < 1 or info.height < 1:
        raise NotAJpeg("The JPEG declares an empty image.")
    if info.width * info.height > MAX_PIXELS:
        raise NotAJpeg(
            f"The JPEG declares {info.width}x{info.height} pixels, beyond the "
            f"{MAX_PIXELS // 1_000_000} megapixels rawjpeg decodes."
        )
    scan_start = _segments(data)[-1][1]
    end = data.rfind(b"\xff\xd9")
    if end < scan_start:
        raise NotAJpeg("The JPEG file is truncated: it has no end-of-image marker.")
    # Baseline: at least one bit for the DC and one for the AC codes of every block;
    # progressive: at least the DC scan's bit per block.
    min_bits = info.blocks * (1 if info.progressive else 2)
    if (end - scan_start) * 8 < min_bits:
        raise NotAJpeg(
            f"The JPEG declares {info.width}x{info.height} pixels, more than its image data "
            "could hold: it is truncated or damaged."
        )
    return info


def find_segments(data: bytes, identifier: bytes) -> list[bytes]:
    """Bodies of every APP11 segment that starts with ``identifier``, in file order."""
    return [
        data[start : start + length]
        for marker, start, length in _segments(data)
        if marker == APP_MARKER and data[start : start + len(identifier)] == identifier
    ]


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode JPEG bytes to HxWx3 uint8 RGB (no EXIF rotation: pixels as stored).

    The frame is checked first (:func:`check_decodable`).
    """
    check_decodable(data)
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
