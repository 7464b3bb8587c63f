"""The parameter segment: compact, exact after quantisation, and suspicious of every byte."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from rawjpeg_gui.core import codec, container, jpeg, operators
from rawjpeg_gui.core.errors import (
    CorruptParameters,
    NotAJpeg,
    NotAnAdapterJpeg,
    ParameterSizeError,
    RawJpegError,
    UnsupportedVersion,
)
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.metrics import psnr
from rawjpeg_gui.core.params import AdapterParams, sanitize


def smooth_params(side: int = 100, bins: int = 129, dct: bool = True) -> AdapterParams:
    """Parameters shaped like a model's: a smooth gamma map and gentle curves."""
    y, x = np.mgrid[0:side, 0:side] / max(side - 1, 1)
    gamma = 0.45 + 0.25 * np.sin(3 * x + 1) * np.cos(2 * y) + 0.1 * x * y
    knots = np.linspace(0, 1, bins)
    lut = np.stack([knots ** (1 / 2.2), knots ** (1 / 2.0), knots ** (1 / 2.4)])
    u, v = np.mgrid[0:8, 0:8]
    scale = np.stack([1.0 + 0.05 * (u + v)] * 3) if dct else None
    return sanitize(lut, gamma, scale)


def record(params: AdapterParams, meta: RawMeta | None = None) -> container.AdapterRecord:
    return container.AdapterRecord(params, 640, 480, 75, "4:4:4", "test-model", meta or RawMeta())


def test_payload_of_100x100_map_lut_and_dct_is_at_most_6kb() -> None:
    size = container.parameter_payload_size(record(smooth_params()))
    assert size <= 6 * 1024, size


def test_segment_round_trip_is_exact_on_quantised_params() -> None:
    meta = RawMeta(
        source_name="x.arw",
        make="SONY",
        model="ILCE-7RM3",
        iso=3200.0,
        xyz_to_camera=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    )
    q = container.quantise(smooth_params())
    back = container.decode_segment(container.encode_segment(record(q, meta)))
    assert np.array_equal(back.params.lut, q.lut)
    assert np.allclose(back.params.gamma_map, q.gamma_map, rtol=1e-6)
    assert np.array_equal(back.params.dct_scale, q.dct_scale)
    assert back.meta == meta and back.quality == 75 and back.model_name == "test-model"


def test_quantisation_costs_less_than_002_db(small_raw) -> None:  # type: ignore[no-untyped-def]
    """Float32 parameters vs the stored (quantised) ones, through real JPEG at q=90."""
    params = smooth_params(dct=True)
    results = []
    for p in (params, container.quantise(params)):
        adapted = codec.to_uint8(operators.forward(small_raw.data, p))
        decoded = jpeg.decode_jpeg(jpeg.encode_jpeg(adapted, 90)).astype(np.float32) / 255
        results.append(psnr(small_raw.data, operators.inverse(decoded, p)))
    assert abs(results[0] - results[1]) < 0.02, results


def _file(small_raw, analytic_model) -> bytes:  # type: ignore[no-untyped-def]
    return codec.encode_image(small_raw, 50, analytic_model).jpeg


def _segment_bounds(data: bytes) -> tuple[int, int]:
    body = jpeg.find_segment(data)
    start = data.index(body)
    return start, start + len(body)


def _rewrite_records(data: bytes, mutate) -> bytes:  # type: ignore[no-untyped-def]
    """Change the records and fix up the CRC, as a deliberate tamperer would."""
    start, end = _segment_bounds(data)
    body = bytearray(data[start:end])
    head = len(container.IDENTIFIER)
    records = mutate(bytes(body[head + 10 :]))
    new = bytes(body[: head + 2]) + struct.pack("<II", len(records), zlib.crc32(records)) + records
    seg_len = struct.pack(">H", len(new) + 2)
    return data[: start - 2] + seg_len + new + data[end:]


def test_not_a_jpeg() -> None:
    with pytest.raises(NotAJpeg):
        codec.decode_bytes(b"II*\x00 this is a TIFF, not a JPEG")


def test_plain_jpeg_without_parameters(small_raw) -> None:  # type: ignore[no-untyped-def]
    plain = jpeg.encode_jpeg(codec.to_uint8(small_raw.data), 80)
    with pytest.raises(NotAnAdapterJpeg, match="no rawjpeg parameters"):
        codec.decode_bytes(plain)


def test_crc_mismatch(small_raw, analytic_model) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(_file(small_raw, analytic_model))
    start, end = _segment_bounds(bytes(data))
    data[end - 3] ^= 0x40
    with pytest.raises(CorruptParameters, match="checksum"):
        codec.decode_bytes(bytes(data))


def test_unknown_version(small_raw, analytic_model) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(_file(small_raw, analytic_model))
    start, _ = _segment_bounds(bytes(data))
    data[start + len(container.IDENTIFIER)] = 99
    with pytest.raises(UnsupportedVersion, match="version 99"):
        codec.decode_bytes(bytes(data))


def _replace_record(tag: int, body: bytes):  # type: ignore[no-untyped-def]
    def mutate(records: bytes) -> bytes:
        recs = container._split_records(records)
        recs[tag] = body
        return b"".join(struct.pack("<BI", t, len(b)) + b for t, b in recs.items())

    return mutate


@pytest.mark.parametrize(
    "tag, body, error",
    [
        # gamma map declared 600x600: beyond the cap
        (
            2,
            struct.pack("<HHff", 600, 600, 0.0, 1.0) + zlib.compress(b"\0" * 16),
            ParameterSizeError,
        ),
        # gamma map: data for 2x2 but declared 3x3
        (2, struct.pack("<HHff", 3, 3, 0.0, 1.0) + zlib.compress(b"\0" * 4), CorruptParameters),
        # gamma map range non-finite
        (
            2,
            struct.pack("<HHff", 1, 1, float("nan"), 1.0) + zlib.compress(b"\0"),
            CorruptParameters,
        ),
        # gamma values out of range: exp(10) > GAMMA_MAX
        (2, struct.pack("<HHff", 1, 1, 10.0, 10.0) + zlib.compress(b"\0"), CorruptParameters),
        # zip bomb: 3x129 LUT declared, megabytes inflated
        (3, struct.pack("<BH", 3, 129) + zlib.compress(b"\0" * (4 << 20)), ParameterSizeError),
        # LUT wrong channel count
        (3, struct.pack("<BH", 4, 2) + zlib.compress(b"\1\0" * 8), CorruptParameters),
        # LUT not increasing (zero steps)
        (3, struct.pack("<BH", 3, 2) + zlib.compress(b"\0\0" * 6), CorruptParameters),
        # DCT scale non-finite
        (4, np.full(192, np.inf, "<f2").tobytes(), CorruptParameters),
        # DCT scale wrong size
        (4, b"\0" * 10, CorruptParameters),
        # metadata not JSON
        (5, zlib.compress(b"{not json"), CorruptParameters),
        # image size beyond the cap
        (1, struct.pack("<IIBB", 10**6, 10**6, 50, 0), ParameterSizeError),
        # quality out of range
        (1, struct.pack("<IIBB", 1301, 976, 0, 0), CorruptParameters),
    ],
)
def test_tampered_records(small_raw, analytic_model, tag, body, error) -> None:  # type: ignore[no-untyped-def]
    data = _rewrite_records(_file(small_raw, analytic_model), _replace_record(tag, body))
    with pytest.raises(error):
        codec.decode_bytes(data)


def test_size_mismatch_between_jpeg_and_parameters(small_raw, analytic_model) -> None:  # type: ignore[no-untyped-def]
    data = _rewrite_records(
        _file(small_raw, analytic_model), _replace_record(1, struct.pack("<IIBB", 100, 100, 50, 0))
    )
    with pytest.raises(NotAJpeg, match="size"):
        codec.decode_bytes(data)


def test_truncated_files(small_raw, analytic_model) -> None:  # type: ignore[no-untyped-def]
    data = _file(small_raw, analytic_model)
    start, end = _segment_bounds(data)
    for cut in (1, 3, start - 1, start + 5, end - 1, end + 100, len(data) - 1000):
        with pytest.raises(RawJpegError):
            codec.decode_bytes(data[:cut])


def test_white_balance_source_round_trips_and_old_records_read_as_unknown() -> None:
    from rawjpeg_gui.core.metadata import RawMeta

    meta = RawMeta(as_shot_wb=[0.83, 1.0, 2.24], wb_source="auto")
    back = RawMeta.from_dict(meta.to_dict())
    assert back.wb_source == "auto" and back.wb_text == "0.83, 1.00, 2.24 (auto: none recorded)"
    old = meta.to_dict()
    del old["wb_source"]  # written before the field existed
    assert (
        RawMeta.from_dict(old).wb_source == ""
        and RawMeta.from_dict(old).wb_text == "0.83, 1.00, 2.24"
    )
    assert RawMeta.from_dict({**meta.to_dict(), "wb_source": "future"}).wb_source == ""
