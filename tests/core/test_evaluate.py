"""The rate-distortion evaluation: what the adapter's rate counts."""

from __future__ import annotations

import struct

import pytest
from realdata import SHARED_RAW, require

from rawjpeg_gui.core import codec, container, evaluate, jpeg
from rawjpeg_gui.core.rawio import read_raw


def _with_segment(data: bytes, marker: int, body: bytes) -> bytes:
    """``data`` with one more segment right after SOI."""
    return data[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body + data[2:]


def test_metadata_bytes_count_exif_iptc_and_the_raws_metadata_only():
    raw = read_raw(require(SHARED_RAW / "dcc_canon_g2_0304.crw"))
    data = codec.encode_image(raw, 30).jpeg
    blob = codec.read_record(data).meta.full_metadata
    base = evaluate.metadata_bytes(data)
    assert blob and base > len(blob)  # the blob, and the JPEG's own EXIF
    heap = [
        data[start : start + length]
        for m, start, length in jpeg._segments(data)
        if m == 0xE0 and data[start + 6 : start + 14] == b"HEAPJPGM"
    ]
    assert heap and base > len(blob) + len(heap[0])  # the CRW's CIFF heap (APP0) counted too
    jfif = b"JFIF\x00" + b"j" * 20
    assert evaluate.metadata_bytes(_with_segment(data, 0xE0, jfif)) == base  # JFIF: image
    assert evaluate.metadata_bytes(_with_segment(data, 0xED, b"x" * 100)) == base + 104  # IPTC
    assert evaluate.metadata_bytes(_with_segment(data, 0xE2, b"y" * 100)) == base  # ICC: counted
    more = container.METADATA_IDENTIFIER + b"z" * 50
    assert evaluate.metadata_bytes(_with_segment(data, container.APP_MARKER, more)) == base + 62
    point, _ = evaluate.code_point(raw, "adapter", 30, with_ssim=False)
    whole, _ = evaluate.code_point(raw, "adapter", 30, with_ssim=False, whole_file=True)
    assert point.bpp * raw.width * raw.height / 8 == pytest.approx(len(data) - base)
    assert whole.bpp > point.bpp and whole.psnr == point.psnr
