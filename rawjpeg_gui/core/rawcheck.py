"""Checks on a raw file before and after LibRaw decodes it: bounded work, honest refusals.

- :func:`check_header_sizes`: the sizes LibRaw read from the header against a pixel
  cap and against what the file's size could hold.
- :func:`check_not_blank`: unpacked data that is one value throughout is refused.
- :func:`judge_libraw_output`: what LibRaw printed while decoding (captured by
  :mod:`capture`); damaged data is refused.
- :func:`libraw_error`: one sentence for a LibRaw exception.
- :func:`tiff_data_end`: where a TIFF-based raw's image data ends.
- :func:`tiff_images` and :func:`check_declared_data`: a raw image whose header does not
  say where its samples are, or declares too few of them, is refused before unpacking.

Most raw formats (DNG, CR2, ARW, NEF, PEF, ORF, RW2, ...) are TIFF files: every image
they hold (the raw, previews, thumbnails) is stored as strips or tiles at offsets the
IFDs list. A file cut short loses the end of some of them, yet several LibRaw
decoders (Sony's, for one) then decode whatever the buffer holds without a word.
:func:`tiff_data_end` walks the IFD tree (IFD chain, SubIFDs, EXIF IFD) with bounded
reads and returns the furthest byte any strip or tile claims.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import RawDecodeError

_log = logging.getLogger(__name__)

#: Largest image (pixels, sensor or output) rawjpeg decodes: above the largest camera
#: sensors (150 MP), and it keeps one decode's memory bounded.
MAX_PIXELS = 160_000_000
#: A real raw never stores fewer bits per sensor pixel than this, even losslessly
#: compressed black frames; a header claiming more pixels than the file could hold is
#: refused before unpacking.
MIN_BITS_PER_RAW_PIXEL = 0.125
#: What libjpeg (inside LibRaw) prints, at the start of a line, when the data ends
#: early or is damaged (lower case).
_LIBJPEG_DAMAGE = ("premature end of", "corrupt jpeg data", "bogus ", "not enough")
#: What LibRaw prints after "FILE: " when the data ends early or is damaged (lower case).
_LIBRAW_DAMAGE = ("unexpected end of file", "corrupt", "data error", "bogus", "not enough")


def libraw_error(p: Path, exc: BaseException) -> RawDecodeError:
    """One sentence for an exception rawpy raised (no LibRaw internals)."""
    kind = type(exc).__name__
    if isinstance(exc, MemoryError) or "TooBig" in kind or "Memory" in kind:
        return RawDecodeError(f"{p.name} declares an image too large to decode.")
    if "Unsupported" in kind:
        return RawDecodeError(
            f"{p.name} is not a camera raw file rawjpeg can read: an unknown or unsupported format, or a damaged file."
        )
    if "IO" in kind or "Data" in kind or "EOF" in kind:
        return RawDecodeError(f"{p.name} is truncated or damaged: its raw data could not be read.")
    return RawDecodeError(f"{p.name} could not be decoded as a camera raw file.")


def check_header_sizes(raw, p: Path, file_size: int) -> None:  # type: ignore[no-untyped-def]
    """Refuse a header whose sizes are beyond the cap or beyond what the file can hold."""
    s = raw.sizes
    sensor = int(s.raw_width) * int(s.raw_height)
    aspect = float(s.pixel_aspect) if np.isfinite(s.pixel_aspect) and s.pixel_aspect > 0 else 1.0
    out = int(s.width) * int(s.height) * max(aspect, 1.0 / aspect)
    if sensor <= 0 or int(s.width) <= 0 or int(s.height) <= 0:
        raise RawDecodeError(f"{p.name} declares an empty image.")
    if max(sensor, out) > MAX_PIXELS:
        raise RawDecodeError(
            f"{p.name} declares a {s.raw_width}x{s.raw_height} image, beyond the "
            f"{MAX_PIXELS // 1_000_000} megapixels rawjpeg decodes."
        )
    if file_size * 8 < sensor * MIN_BITS_PER_RAW_PIXEL:
        raise RawDecodeError(
            f"{p.name} declares a {s.raw_width}x{s.raw_height} image, more than the file "
            "can hold: it is truncated or damaged."
        )


def check_not_blank(raw, p: Path) -> None:  # type: ignore[no-untyped-def]
    """Refuse unpacked raw data whose every sample is the same value: a sensor always
    records some noise, so such data comes from a damaged header or a truncated file
    that LibRaw read without complaint."""
    try:
        data = np.asarray(raw.raw_image_visible)
    except Exception:  # formats whose samples LibRaw keeps elsewhere: nothing to judge
        return
    if data.size and int(data.min()) == int(data.max()):
        raise RawDecodeError(
            f"{p.name} holds no image data (every sample is {int(data.min())}): "
            "it is truncated or damaged."
        )


def _is_damage_line(p: Path, line: str) -> bool:
    """A line in LibRaw's ("FILE: Unexpected end of file") or libjpeg's own form that
    reports damaged data; other text (another thread's log records) never counts."""
    low = line.strip().lower()
    if low.startswith(_LIBJPEG_DAMAGE):
        return True
    for prefix in (str(p), p.name):
        if prefix and low.startswith(prefix.lower() + ":"):
            return any(word in low[len(prefix) + 1 :] for word in _LIBRAW_DAMAGE)
    return False


def judge_libraw_output(p: Path, text: str) -> None:
    """Refuse a file LibRaw reported as truncated or damaged; keep the rest for the log."""
    text = text.strip()
    if not text:
        return
    _log.info("LibRaw on %s: %s", p.name, " | ".join(text.splitlines()))
    if any(_is_damage_line(p, line) for line in text.splitlines()):
        raise RawDecodeError(
            f"{p.name} is truncated or damaged: its raw data ends early or is corrupt."
        )


#: TIFF magic numbers of raw formats built on TIFF (42; Olympus "RO"/"SR"; Panasonic 0x55).
_MAGICS = (42, 0x4F52, 0x5352, 0x55)
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
#: Offset/length tag pairs: strips, tiles, the JPEG thumbnail.
_PAIRS = ((273, 279), (324, 325), (513, 514))
_SUB_IFD_TAGS = (330, 34665)  # SubIFDs, EXIF IFD
_MAX_IFDS = 64
_MAX_ENTRIES = 1024
_MAX_VALUES = 1 << 16


def _values(fh, endian: str, typ: int, count: int, inline: bytes) -> list[int]:  # type: ignore[no-untyped-def]
    """The integer values of one IFD entry (SHORT, LONG or IFD types; others give [])."""
    if typ not in (3, 4, 13) or not 0 < count <= _MAX_VALUES:
        return []
    fmt = "H" if typ == 3 else "I"
    size = struct.calcsize(fmt) * count
    if size <= 4:
        raw = inline[:size]
    else:
        (offset,) = struct.unpack(endian + "I", inline)
        fh.seek(offset)
        raw = fh.read(size)
        if len(raw) != size:
            return []
    return list(struct.unpack(f"{endian}{count}{fmt}", raw))


@dataclass(frozen=True)
class TiffImage:
    """What one IFD of a TIFF-based raw declares about the image it stores.

    Attributes:
        width, height: ImageWidth and ImageLength (0 if absent).
        bits: BitsPerSample of the first sample (0 if absent).
        samples: SamplesPerPixel (1 if absent).
        compression: Compression (1: uncompressed; 0 if absent).
        photometric: PhotometricInterpretation (32803: CFA, 34892: LinearRaw; -1 if absent).
        chunks: how many strip or tile offsets it lists.
        data_bytes: the sum of its strip or tile byte counts.
    """

    width: int
    height: int
    bits: int
    samples: int
    compression: int
    photometric: int
    chunks: int
    data_bytes: int


#: Photometric interpretations of raw sensor data: CFA, LinearRaw.
_RAW_PHOTOMETRIC = (32803, 34892)


@dataclass
class _Layout:
    end: int = 0
    images: list[TiffImage] = field(default_factory=list)


def tiff_data_end(path: str | os.PathLike[str]) -> int | None:
    """The furthest byte the file's strips and tiles claim, or ``None`` for a non-TIFF file.

    Never raises for damaged structure: what cannot be read is skipped.
    """
    layout = _tiff_layout(path)
    return None if layout is None else layout.end


def tiff_images(path: str | os.PathLike[str]) -> list[TiffImage]:
    """What each IFD of a TIFF-based raw declares ([] for a non-TIFF file); never raises."""
    layout = _tiff_layout(path)
    return [] if layout is None else layout.images


def check_declared_data(raw, p: Path, images: list[TiffImage]) -> None:  # type: ignore[no-untyped-def]
    """Refuse a TIFF-based raw whose raw image (the CFA or LinearRaw IFD of the size LibRaw
    reads) lists no strips or tiles, or, uncompressed, fewer bytes than its samples need.

    LibRaw then reads its samples from wherever its defaults point, fills part of its
    buffer or none of it and says nothing. Where the heap is not zero-filled during the
    decode (:mod:`heapguard`), the rest of the buffer holds an earlier image's freed
    memory in a long-lived process (a batch worker, the app) and
    :func:`check_not_blank` cannot see the damage; this check refuses the file from its
    header on every platform, before any pixel is unpacked.
    """
    s = raw.sizes
    for im in images:
        if im.photometric not in _RAW_PHOTOMETRIC or (im.width, im.height) != (
            int(s.raw_width),
            int(s.raw_height),
        ):
            continue
        if not im.chunks:
            raise RawDecodeError(
                f"{p.name} does not say where its raw image data are: it is damaged."
            )
        needed = im.width * im.height * im.bits * im.samples
        if im.compression == 1 and im.data_bytes * 8 < needed:
            raise RawDecodeError(
                f"{p.name} declares less raw image data than its image size needs: "
                "it is truncated or damaged."
            )


def _tiff_layout(path: str | os.PathLike[str]) -> _Layout | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8 or head[:2] not in (b"II", b"MM"):
                return None
            endian = "<" if head[:2] == b"II" else ">"
            magic, first = struct.unpack(endian + "HI", head[2:8])
            if magic not in _MAGICS:
                return None
            return _walk(fh, endian, first)
    except (OSError, struct.error):
        return None


#: IFD tags read for :class:`TiffImage` besides the offset/length pairs.
_IMAGE_TAGS = (256, 257, 258, 259, 262, 277)


def _walk(fh, endian: str, first: int) -> _Layout:  # type: ignore[no-untyped-def]
    layout = _Layout()
    todo, seen = [first], set[int]()
    while todo and len(seen) < _MAX_IFDS:
        offset = todo.pop()
        if offset < 8 or offset in seen:
            continue
        seen.add(offset)
        fh.seek(offset)
        raw = fh.read(2)
        if len(raw) < 2:
            continue
        (n,) = struct.unpack(endian + "H", raw)
        n = min(n, _MAX_ENTRIES)
        block = fh.read(12 * n + 4)
        tags: dict[int, list[int]] = {}
        for i in range(min(n, len(block) // 12)):
            tag, typ, count = struct.unpack_from(endian + "HHI", block, 12 * i)
            inline = block[12 * i + 8 : 12 * i + 12]
            if tag in _SUB_IFD_TAGS or tag in _IMAGE_TAGS or any(tag in pair for pair in _PAIRS):
                pos = fh.tell()
                tags[tag] = _values(fh, endian, typ, count, inline)
                fh.seek(pos)
        for t in _SUB_IFD_TAGS:
            todo.extend(tags.get(t, []))
        for off_tag, len_tag in _PAIRS:
            offsets, lengths = tags.get(off_tag, []), tags.get(len_tag, [])
            for o, ln in zip(offsets, lengths, strict=False):
                if o > 0 and ln > 0:
                    layout.end = max(layout.end, o + ln)
        layout.images.append(_image(tags))
        if len(block) == 12 * n + 4:
            todo.append(struct.unpack_from(endian + "I", block, 12 * n)[0])
    return layout


def _image(tags: dict[int, list[int]]) -> TiffImage:
    def first(tag: int, default: int) -> int:
        values = tags.get(tag)
        return values[0] if values else default

    chunks = tags.get(273) or tags.get(324) or []
    counts = tags.get(279) or tags.get(325) or []
    return TiffImage(
        width=first(256, 0),
        height=first(257, 0),
        bits=first(258, 0),
        samples=first(277, 1),
        compression=first(259, 0),
        photometric=first(262, -1),
        chunks=len(chunks),
        data_bytes=sum(counts),
    )
