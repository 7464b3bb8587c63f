"""Lossless JPEG XL wrapping of adapter-JPEGs: a smaller archive, the same JPEG back.

JPEG XL can recompress a JPEG losslessly (imagecodecs' ``jpegxl_encode_jpeg``, libjxl):
it keeps the JPEG's DCT coefficients and codes them better, and its JPEG
reconstruction box (``jbrd``) holds everything else the file had - markers, the
rawjpeg APP11 segments, EXIF, XMP - so decoding gives the original JPEG byte for byte.

:func:`pack` refuses anything that is not an adapter-JPEG and checks the round trip
before it returns: the ``.jxl`` it hands out always gives back the exact input bytes.
Should a libjxl build ever drop the APP11 segments from its reconstruction data, the
round trip fails that check and :func:`pack` re-encodes with the segments carried in
a box of their own (``rJPG``, re-inserted by :func:`unpack`), and checks again.

``decode`` reads a ``.jxl`` directly: :func:`is_jxl` recognises it and :func:`unpack`
turns it back into the adapter-JPEG (:func:`codec.read_file_bytes`).
"""

from __future__ import annotations

import struct

from . import container, jpeg
from .errors import NotAJpeg, NotAnAdapterJpeg, OutputError

#: File suffix of a packed adapter-JPEG.
SUFFIX = ".jxl"
#: JPEG XL signatures: the bare codestream and the ISO BMFF container.
_CODESTREAM = b"\xff\x0a"
_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
#: Box that carries the APP11 segments when libjxl's reconstruction box lacks them.
_SEGMENT_BOX = b"rJPG"
#: Largest JPEG a .jxl may unpack to (same cap as adapter-JPEG files).
MAX_JPEG_BYTES = 512 << 20


def is_jxl(data: bytes) -> bool:
    """True when ``data`` starts like a JPEG XL file (codestream or container)."""
    return data.startswith(_CODESTREAM) or data.startswith(_CONTAINER)


def _app11_segments(data: bytes) -> list[bytes]:
    """Every complete APP11 marker segment (marker and length included), in order."""
    out = []
    for marker, start, length in jpeg._segments(data):
        if marker == container.APP_MARKER:
            out.append(data[start - 4 : start + length])
    return out


def _without_app11(data: bytes) -> bytes:
    for seg in _app11_segments(data):
        data = data.replace(seg, b"", 1)
    return data


def pack(data: bytes) -> bytes:
    """Adapter-JPEG bytes -> JPEG XL bytes that :func:`unpack` turns back into ``data``.

    Raises:
        NotAJpeg / NotAnAdapterJpeg / CorruptParameters: ``data`` is not a valid adapter-JPEG.
        OutputError: the JPEG cannot be recompressed (e.g. progressive with arithmetic
            coding) or would not come back byte for byte.
    """
    import imagecodecs

    container.decode_segment(jpeg.find_segment(data))  # only adapter-JPEGs, undamaged
    try:
        packed = bytes(imagecodecs.jpegxl_encode_jpeg(data, usecontainer=True))
    except Exception as exc:
        raise OutputError(f"JPEG XL cannot recompress this JPEG losslessly ({exc}).") from None
    if _try_unpack(packed) == data:
        return packed
    # The reconstruction lost the APP11 segments: carry them in a box of our own.
    segments = b"".join(_app11_segments(data))
    box = struct.pack(">I", 8 + len(segments)) + _SEGMENT_BOX + segments
    packed = bytes(imagecodecs.jpegxl_encode_jpeg(_without_app11(data), usecontainer=True)) + box
    if _try_unpack(packed) != data:
        raise OutputError("JPEG XL does not give this JPEG back byte for byte; it was not packed.")
    return packed


def _try_unpack(packed: bytes) -> bytes | None:
    try:
        return unpack(packed)
    except (NotAJpeg, NotAnAdapterJpeg):
        return None


def _carried_segments(packed: bytes) -> bytes:
    """The APP11 segments of an ``rJPG`` box at the container's top level, or b""."""
    pos = 0
    while pos + 8 <= len(packed):
        size, kind = struct.unpack_from(">I4s", packed, pos)
        if size < 8 or pos + size > len(packed):
            return b""
        if kind == _SEGMENT_BOX:
            return packed[pos + 8 : pos + size]
        pos += size
    return b""


def unpack(packed: bytes) -> bytes:
    """JPEG XL bytes written by :func:`pack` -> the original adapter-JPEG bytes.

    Raises:
        NotAJpeg: not a JPEG XL file, damaged, or one made from pixels rather than
            from a JPEG (it holds no JPEG to give back).
    """
    import imagecodecs

    if not is_jxl(packed):
        raise NotAJpeg("The data is not a JPEG XL file.")
    try:
        data = bytes(imagecodecs.jpegxl_decode_jpeg(packed, numthreads=1))
    except Exception:
        raise NotAJpeg(
            "The JPEG XL file holds no losslessly recompressed JPEG (or is damaged)."
        ) from None
    if len(data) > MAX_JPEG_BYTES or not data.startswith(b"\xff\xd8"):
        raise NotAJpeg("The JPEG XL file does not give back a JPEG rawjpeg can read.")
    carried = _carried_segments(packed) if packed.startswith(_CONTAINER) else b""
    if carried:
        if len(carried) + 4 > len(data):
            raise NotAJpeg("The JPEG XL file's carried segments are damaged.")
        if not _app11_segments(data):
            pos = _after_leading_app(data)
            data = data[:pos] + carried + data[pos:]
    return data


def _after_leading_app(data: bytes) -> int:
    """Offset just after the APPn segments that follow SOI (where rawjpeg puts APP11)."""
    pos = 2
    for marker, start, length in jpeg._segments(data):
        if not 0xE0 <= marker <= 0xEF:
            break
        pos = start + length
    return pos
