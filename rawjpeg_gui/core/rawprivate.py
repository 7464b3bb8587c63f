"""Camera-private metadata exiv2 does not expose, kept in the form Adobe's DNG Converter uses.

Three raw formats keep part of their metadata in structures no EXIF reader maps:

- Canon CRW: the CIFF heap (file format, sensor and white-sample borders, colour info,
  time zone, original file name...), of which exiv2 maps only the records that have an
  EXIF or Canon maker-note equivalent.
- Sony ARW/SR2: the SR2Private IFD that IFD0's DNGPrivateData points to, and the
  encrypted SR2SubIFD it points to (per-illuminant white-balance levels, colour matrix,
  lens-correction parameters).
- Kodak KDC: the private IFD that IFD0's KodakIFD tag (0x8290) points to.

Adobe's DNG Converter stores each of them in a DNG's DNGPrivateData (tag 50740) as an
``b"Adobe\\0"`` record with one block: ``b"CRW "`` (the CIFF records, flattened),
``b"SR2 "`` (the SR2 data with its original file offset) or ``b"Koda"`` (the IFD's
entries with their values inline); exiftool reads these blocks as the camera's own
tags (``Image::ExifTool::DNG``). :func:`adobe_private_data` builds that record from a
raw file, :func:`private_blocks` splits one into its blocks, and :func:`ciff_jpeg_heap`
turns a ``b"CRW "`` block into the CIFF heap Canon cameras wrote into their JPEGs'
APP0 segment, where exiftool reads it too.

Every reader here is bounded (entry counts, nesting, sizes) and never raises on a
damaged file: what cannot be read is left out.
"""

from __future__ import annotations

import mmap
import struct

#: A raw file's bytes: read, or mapped (:func:`adobe_private_data` reads a few KB of it).
Data = bytes | mmap.mmap

ADOBE = b"Adobe\x00"
#: Largest private block kept (an ARW's SR2 data is about 100 KB).
MAX_BLOCK_BYTES = 512 * 1024
#: The heap type of a CIFF heap in a JPEG, after its byte order and header length.
_CIFF_JPEG_TYPE = b"HEAPJPGM"
#: CIFF records that hold image data (raw data, the full-size JPEG, the thumbnail).
_CIFF_IMAGE_RECORDS = frozenset((0x2005, 0x2007, 0x2008))
_CIFF_MAX_DEPTH = 8
_MAX_ENTRIES = 1024
#: Bytes per value of each TIFF type (BYTE, ASCII, SHORT, LONG, RATIONAL, ... IFD).
_TIFF_TYPE_SIZES = dict(zip(range(1, 14), (1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4), strict=True))


def adobe_private_data(data: Data) -> bytes:
    """The Adobe DNGPrivateData record of a raw file's private metadata, or b"".

    ``data`` is the raw file's content; formats without such structures give b"".
    """
    try:
        if data[6:14] == b"HEAPCCDR":
            tag, block = b"CRW ", _crw_block(data)
        elif data[:2] in (b"II", b"MM"):
            tag, block = _tiff_block(data)
        else:
            return b""
    except (struct.error, IndexError, ValueError):
        return b""
    if not block or len(block) > MAX_BLOCK_BYTES:
        return b""
    pad = b"\x00" if len(block) & 1 else b""
    return ADOBE + tag + struct.pack(">I", len(block)) + block + pad


def private_blocks(record: bytes) -> dict[bytes, bytes]:
    """The blocks of an Adobe DNGPrivateData record ({b"CRW ": ...}); {} if it is not one."""
    out: dict[bytes, bytes] = {}
    if not record.startswith(ADOBE):
        return out
    pos = len(ADOBE)
    while pos + 8 <= len(record):
        tag = record[pos : pos + 4]
        (size,) = struct.unpack_from(">I", record, pos + 4)
        pos += 8
        if pos + size > len(record):
            break
        out[tag] = record[pos : pos + size]
        pos += size + (size & 1)
    return out


# --- Canon CIFF --------------------------------------------------------------------------


def _ciff_records(
    heap: Data, start: int, end: int, endian: str, depth: int
) -> list[tuple[int, bytes]]:
    """(tag, value) of every record of the CIFF block ``heap[start:end]``, depth first,
    sub-blocks flattened and image-data records left out."""
    if depth > _CIFF_MAX_DEPTH or end - start < 6:
        return []
    (dir_offset,) = struct.unpack_from(endian + "I", heap, end - 4)
    pos = start + dir_offset
    (count,) = struct.unpack_from(endian + "H", heap, pos)
    out: list[tuple[int, bytes]] = []
    for i in range(min(count, _MAX_ENTRIES)):
        entry = pos + 2 + 10 * i
        if entry + 10 > end:
            break
        tag, size, offset = struct.unpack_from(endian + "HII", heap, entry)
        kind = (tag >> 8) & 0x38
        if tag & 0x8000 or (tag & 0x3FFF) in _CIFF_IMAGE_RECORDS:
            continue
        if tag & 0x4000:  # the value sits in the entry itself
            out.append((tag, heap[entry + 2 : entry + 10]))
        elif start + offset + size > end:
            continue
        elif kind in (0x28, 0x30):
            sub = start + offset
            out.extend(_ciff_records(heap, sub, sub + size, endian, depth + 1))
        else:
            out.append((tag, heap[start + offset : start + offset + size]))
    return out


def _crw_block(data: Data) -> bytes:
    """Adobe's ``b"CRW "`` block: byte order, count (big-endian), then each record as
    tag u16, size u32 (big-endian) and its bytes as the camera wrote them."""
    order = data[:2]
    endian = "<" if order == b"II" else ">"
    (header,) = struct.unpack_from(endian + "I", data, 2)
    records = _ciff_records(data, header, len(data), endian, 0)
    if not records:
        return b""
    body = b"".join(struct.pack(">HI", tag, len(value)) + value for tag, value in records)
    return order + struct.pack(">H", len(records)) + body


def is_ciff_jpeg_heap(body: bytes) -> bool:
    """Whether an APP0 segment's ``body`` is a CIFF heap (:func:`ciff_jpeg_heap`)."""
    return body[6:14] == _CIFF_JPEG_TYPE


def ciff_jpeg_heap(block: bytes) -> bytes:
    """The CIFF heap Canon cameras put in a JPEG's APP0 segment (``HEAPJPGM``), holding
    the records of a ``b"CRW "`` block; b"" if ``block`` is not one.

    The records go in one ImageProps directory (0x300A) as the camera's CRW has it, but
    flattened, except the second 0x0805 record (the file description), which goes in an
    ImageDescription directory (0x2804) so that readers name it as in the raw.
    """
    order = block[:2]
    if order not in (b"II", b"MM") or len(block) < 4:
        return b""
    endian = "<" if order == b"II" else ">"
    (count,) = struct.unpack_from(">H", block, 2)
    records, pos = [], 4
    for _ in range(count):
        if pos + 6 > len(block):
            return b""
        tag, size = struct.unpack_from(">HI", block, pos)
        if pos + 6 + size > len(block):
            return b""
        records.append((tag, block[pos + 6 : pos + 6 + size]))
        pos += 6 + size
    seen_0805 = [i for i, (tag, _) in enumerate(records) if tag & 0x3FFF == 0x0805]
    described = seen_0805[1:2]
    inner = _ciff_directory([records[i] for i in described], endian)
    props = [r for i, r in enumerate(records) if i not in described]
    if described:
        props.append((0x2804, inner))
    root = _ciff_directory([(0x300A, _ciff_directory(props, endian))], endian)
    version = struct.pack(endian + "I", 0x00010002)
    return order + struct.pack(endian + "I", 26) + _CIFF_JPEG_TYPE + version + bytes(8) + root


def _ciff_directory(records: list[tuple[int, bytes]], endian: str) -> bytes:
    """A CIFF block: the values, then the directory, then the directory's offset."""
    values, entries = b"", b""
    for tag, value in records:
        if tag & 0x4000:
            entries += struct.pack(endian + "H", tag) + value[:8].ljust(8, b"\x00")
            continue
        entries += struct.pack(endian + "HII", tag, len(value), len(values))
        values += value + (b"\x00" if len(value) & 1 else b"")
    directory = struct.pack(endian + "H", len(records)) + entries
    return values + directory + struct.pack(endian + "I", len(values))


# --- TIFF-based raws: Sony SR2, Kodak's IFD ----------------------------------------------


def _ifd(data: Data, endian: str, offset: int) -> list[tuple[int, int, int, bytes]]:
    """(tag, type, count, 4-byte value field) of each entry of the IFD at ``offset``."""
    (n,) = struct.unpack_from(endian + "H", data, offset)
    out = []
    for i in range(min(n, _MAX_ENTRIES)):
        pos = offset + 2 + 12 * i
        if pos + 12 > len(data):
            break
        tag, typ, count = struct.unpack_from(endian + "HHI", data, pos)
        out.append((tag, typ, count, data[pos + 8 : pos + 12]))
    return out


def _value(data: Data, endian: str, typ: int, count: int, field: bytes) -> bytes:
    """The bytes of one entry's value (inline or at its offset); b"" if out of the file."""
    size = _TIFF_TYPE_SIZES.get(typ, 0) * count
    if size <= 4:
        return field[:size]
    (offset,) = struct.unpack(endian + "I", field)
    if size > MAX_BLOCK_BYTES or offset + size > len(data):
        return b""
    return data[offset : offset + size]


def _tiff_block(data: Data) -> tuple[bytes, bytes]:
    endian = "<" if data[:2] == b"II" else ">"
    (first,) = struct.unpack_from(endian + "I", data, 4)
    ifd0 = {tag: (typ, count, field) for tag, typ, count, field in _ifd(data, endian, first)}
    make = _value(data, endian, *ifd0[0x010F]) if 0x010F in ifd0 else b""
    if 0xC634 in ifd0 and make.upper().startswith(b"SONY"):
        typ, count, field = ifd0[0xC634]
        if _TIFF_TYPE_SIZES.get(typ, 0) * count == 4:  # a pointer to the SR2Private IFD
            (offset,) = struct.unpack(endian + "I", field)
            return b"SR2 ", _sr2_block(data, endian, offset)
    if 0x8290 in ifd0 and b"KODAK" in make.upper():
        (offset,) = struct.unpack(endian + "I", ifd0[0x8290][2])
        return b"Koda", _kodak_block(data, endian, offset)
    return b"", b""


def _sr2_block(data: Data, endian: str, offset: int) -> bytes:
    """Adobe's ``b"SR2 "`` block: byte order, the SR2 data's original offset (u32,
    big-endian), then the file's bytes from the SR2Private IFD to the end of everything
    it points to (the encrypted SR2SubIFD, further IFDs), so offsets resolve as in the raw."""
    entries = _ifd(data, endian, offset)
    start, end = offset, offset + 2 + 12 * len(entries) + 4
    tags = {tag: (typ, count, field) for tag, typ, count, field in entries}
    for tag, typ, count, field in entries:
        size = _TIFF_TYPE_SIZES.get(typ, 0) * count
        if size > 4:
            (at,) = struct.unpack(endian + "I", field)
            start, end = min(start, at), max(end, at + size)
        if tag in (0x7240, 0x7241) and typ in (4, 13) and count == 1:
            (at,) = struct.unpack(endian + "I", field)
            if 0 < at < len(data) - 2:
                (n,) = struct.unpack_from(endian + "H", data, at)
                end = max(end, at + 2 + 12 * min(n, _MAX_ENTRIES) + 4)
    if 0x7200 in tags and 0x7201 in tags:
        (at,) = struct.unpack(endian + "I", tags[0x7200][2])
        (length,) = struct.unpack(endian + "I", tags[0x7201][2])
        # exiftool wants a byte after the SR2SubIFD inside the record
        start, end = min(start, at), max(end, at + length + 1)
    end = min(end, len(data))
    if end - start > MAX_BLOCK_BYTES:
        return b""
    return data[:2] + struct.pack(">I", start) + data[start:end]


def _kodak_block(data: Data, endian: str, offset: int) -> bytes:
    """Adobe's ``b"Koda"`` block: byte order, count, then each entry as tag, type,
    count (big-endian) followed by its value in the file's byte order."""
    body, n = b"", 0
    for tag, typ, count, field in _ifd(data, endian, offset):
        value = _value(data, endian, typ, count, field)
        if typ not in _TIFF_TYPE_SIZES or len(value) != _TIFF_TYPE_SIZES[typ] * count:
            continue
        body += struct.pack(">HHI", tag, typ, count) + value
        n += 1
    return data[:2] + struct.pack(">H", n) + body if n else b""
