"""Lossless JPEG XL packing of adapter-JPEGs made from real raws: byte for byte back."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest

from rawjpeg_gui.core import codec, jpeg, pack
from rawjpeg_gui.core.errors import NotAJpeg, NotAnAdapterJpeg


@pytest.fixture(scope="module")
def adapter_jpeg(small_raw) -> bytes:  # type: ignore[no-untyped-def]
    return codec.encode_image(small_raw, 85, searched=False).jpeg


def test_pack_is_smaller_and_unpacks_byte_for_byte(adapter_jpeg: bytes) -> None:
    packed = pack.pack(adapter_jpeg)
    assert pack.is_jxl(packed) and len(packed) < len(adapter_jpeg)
    back = pack.unpack(packed)
    assert back == adapter_jpeg
    assert jpeg.find_segment(back) == jpeg.find_segment(adapter_jpeg)


def test_a_packed_file_decodes_like_the_jpeg(adapter_jpeg: bytes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.jxl"
    path.write_bytes(pack.pack(adapter_jpeg))
    from_jxl = codec.decode_file(path)
    assert from_jxl.pixel_check == "intact"
    np.testing.assert_array_equal(from_jxl.raw.data, codec.decode_bytes(adapter_jpeg).raw.data)


def test_segments_are_carried_when_the_reconstruction_drops_them(
    adapter_jpeg: bytes, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    real = imagecodecs.jpegxl_encode_jpeg

    def lossy(data: bytes, **kw):  # type: ignore[no-untyped-def]
        return real(pack._without_app11(data), **kw)  # a libjxl that loses APP11

    monkeypatch.setattr(imagecodecs, "jpegxl_encode_jpeg", lossy)
    packed = pack.pack(adapter_jpeg)
    assert pack._SEGMENT_BOX in packed
    assert pack.unpack(packed) == adapter_jpeg


def test_only_adapter_jpegs_are_packed(adapter_jpeg: bytes) -> None:
    plain = jpeg.encode_jpeg(jpeg.decode_jpeg(adapter_jpeg), 80)
    with pytest.raises(NotAnAdapterJpeg):
        pack.pack(plain)
    with pytest.raises(NotAJpeg):
        pack.pack(b"not a jpeg at all")


def test_unpack_refuses_what_pack_did_not_make(adapter_jpeg: bytes) -> None:
    with pytest.raises(NotAJpeg):
        pack.unpack(adapter_jpeg)
    from_pixels = imagecodecs.jpegxl_encode(jpeg.decode_jpeg(adapter_jpeg)[:64, :64])
    assert pack.is_jxl(from_pixels)
    with pytest.raises(NotAJpeg, match="no losslessly recompressed JPEG"):
        pack.unpack(from_pixels)
    packed = pack.pack(adapter_jpeg)
    with pytest.raises(NotAJpeg):
        pack.unpack(packed[: len(packed) // 2])
