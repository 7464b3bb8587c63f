"""Camera-private metadata (Canon CIFF, Sony SR2, Kodak's IFD) read from real raws into
Adobe's DNGPrivateData form, and never a traceback on damaged files."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from realdata import FETCHED_RAW, SHARED_RAW, require

from rawjpeg_gui.core import rawprivate


def _crw_records(block: bytes) -> dict[int, bytes]:
    (count,) = struct.unpack_from(">H", block, 2)
    out, pos = {}, 4
    for _ in range(count):
        tag, size = struct.unpack_from(">HI", block, pos)
        out.setdefault(tag & 0x3FFF, block[pos + 6 : pos + 6 + size])
        pos += 6 + size
    assert pos == len(block)
    return out


def test_a_crw_s_ciff_records_are_kept_without_its_image_data() -> None:
    data = require(SHARED_RAW / "imagemeta_canon.crw").read_bytes()
    record = rawprivate.adobe_private_data(data)
    assert record.startswith(rawprivate.ADOBE) and len(record) < 10_000  # raw data left out
    block = rawprivate.private_blocks(record)[b"CRW "]
    assert block[:2] == b"II"
    records = _crw_records(block)
    assert records[0x0816].split(b"\0")[0] == b"CRW_1446.CRW"  # OriginalFileName
    assert records[0x0810].split(b"\0")[0] == b"Peter Wemmert/Kameratrollet"  # OwnerName
    assert not {0x2005, 0x2007, 0x2008} & set(records)  # raw data, JPEG, thumbnail


def test_an_arw_s_sr2_data_is_kept_at_its_original_offset() -> None:
    data = require(FETCHED_RAW / "_DSC2164.ARW").read_bytes()
    block = rawprivate.private_blocks(rawprivate.adobe_private_data(data))[b"SR2 "]
    (origin,) = struct.unpack_from(">I", block, 2)
    assert block[:2] == b"II" and block[6:] == data[origin : origin + len(block) - 6]
    # the SR2Private IFD's SR2SubIFD (offset, length) lies inside the copy
    entries = {
        struct.unpack_from("<H", block, 6 + 2 + 12 * i)[0]: block[6 + 2 + 12 * i + 8 :][:4]
        for i in range(struct.unpack_from("<H", block, 6)[0])
    }
    (sub,) = struct.unpack("<I", entries[0x7200])
    (length,) = struct.unpack("<I", entries[0x7201])
    assert origin <= sub and sub + length < origin + len(block) - 6


def test_a_kdc_s_kodak_ifd_is_kept_with_its_values_inline() -> None:
    data = require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc").read_bytes()
    block = rawprivate.private_blocks(rawprivate.adobe_private_data(data))[b"Koda"]
    assert block[:2] == b"MM" and struct.unpack_from(">H", block, 2)[0] >= 2
    # KodakVersion: tag 0, four BYTEs, inline
    assert block[4:12] == struct.pack(">HHI", 0, 1, 4) and block[12:16] == b"\x01\x01\x00\x00"


def test_raws_without_private_structures_give_nothing() -> None:
    for path in (SHARED_RAW / "tinydng_colorchart.dng", FETCHED_RAW / "IMG_5952.CR2"):
        assert rawprivate.adobe_private_data(require(path).read_bytes()) == b""
    assert rawprivate.adobe_private_data(b"") == b""
    assert rawprivate.private_blocks(b"not adobe") == {}


@pytest.mark.parametrize(
    "path",
    [SHARED_RAW / "imagemeta_canon.crw", SHARED_RAW / "dcc_kodak_dc120_p003908.kdc",
     FETCHED_RAW / "_DSC2164.ARW"],
    ids=lambda p: p.suffix,
)  # fmt: skip
def test_damaged_raws_never_raise(path) -> None:  # type: ignore[no-untyped-def]
    data = require(path).read_bytes()
    whole = rawprivate.adobe_private_data(data)
    rng = np.random.default_rng(0)
    cuts = [int(x) for x in rng.integers(0, len(data), 40)] + list(range(0, 600, 7))
    for cut in cuts:
        assert isinstance(rawprivate.adobe_private_data(data[:cut]), bytes)
    # where the structures are: a TIFF's header and IFD0, a CRW's heap directories (at its end)
    crw = path.suffix == ".crw"
    for _ in range(60):
        damaged = bytearray(data if crw else data[:300_000])
        for at in rng.integers(len(data) - 5000 if crw else 0, len(damaged) if crw else 600, 4):
            damaged[int(at)] = int(rng.integers(0, 256))
        out = rawprivate.adobe_private_data(bytes(damaged))
        assert len(out) <= len(whole) + rawprivate.MAX_BLOCK_BYTES


def test_a_crw_block_becomes_a_jpeg_ciff_heap_with_the_same_records() -> None:
    data = require(SHARED_RAW / "imagemeta_canon.crw").read_bytes()
    block = rawprivate.private_blocks(rawprivate.adobe_private_data(data))[b"CRW "]
    heap = rawprivate.ciff_jpeg_heap(block)
    assert heap[:2] == b"II" and heap[6:14] == b"HEAPJPGM" and len(heap) < 65533
    records = rawprivate._ciff_records(heap, 26, len(heap), "<", 0)
    assert sorted(records) == sorted(_block_records(block))
    # the file description (the second 0x0805) still comes after the user comment
    comments = [value for tag, value in records if tag & 0x3FFF == 0x0805]
    assert comments[1].startswith(b"EOS D30 CMOS RAW IMAGE")
    assert rawprivate.ciff_jpeg_heap(b"junk") == b""
    assert rawprivate.ciff_jpeg_heap(block[:-3]) == b""


def _block_records(block: bytes) -> list[tuple[int, bytes]]:
    (count,) = struct.unpack_from(">H", block, 2)
    out, pos = [], 4
    for _ in range(count):
        tag, size = struct.unpack_from(">HI", block, pos)
        out.append((tag, block[pos + 6 : pos + 6 + size]))
        pos += 6 + size
    return out
