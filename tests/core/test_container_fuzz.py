"""Fuzzing the parameter-segment parsers, past the checksum.

Every mutated segment is re-signed (length and CRC-32 recomputed), as a deliberate
tamperer would, so the checksum never stops a case: each one reaches the record
parsers and the parameter validation. A case must either be refused with a
:class:`RawJpegError` (never the checksum error) or read as parameters the operators
can invert.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawjpeg_gui.core import codec, container, jpeg
from rawjpeg_gui.core.container import IDENTIFIER, AdapterRecord
from rawjpeg_gui.core.errors import RawJpegError
from rawjpeg_gui.core.params import AdapterParams, validate

HEAD = len(IDENTIFIER) + 10
TAGS = (1, 2, 3, 4, 5)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def adapter_file(small_raw, analytic_model) -> bytes:  # type: ignore[no-untyped-def]
    """A real adapter-JPEG of the small real raw."""
    return codec.encode_image(small_raw, 50, analytic_model).jpeg


def _records(data: bytes) -> dict[int, bytes]:
    return container._split_records(jpeg.find_segment(data)[HEAD:])


def _join(recs: dict[int, bytes]) -> bytes:
    return b"".join(struct.pack("<BI", t, len(b)) + b for t, b in recs.items())


def _parse(records: bytes) -> AdapterRecord | None:
    """Parse re-signed ``records``; ``None`` when refused (never for the checksum)."""
    try:
        record = container.decode_segment(container.sign_records(records))
    except RawJpegError as exc:
        assert "checksum" not in str(exc), "a re-signed segment must pass the checksum"
        return None
    validate(record.params)  # what was read is invertible
    assert isinstance(record.params, AdapterParams)
    return record


@FUZZ
@given(st.data())
def test_bit_flips_in_the_records_reach_the_parsers(adapter_file: bytes, data) -> None:  # type: ignore[no-untyped-def]
    records = bytearray(jpeg.find_segment(adapter_file)[HEAD:])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(records) - 1))
        records[pos] ^= 1 << data.draw(st.integers(0, 7))
    _parse(bytes(records))


@FUZZ
@given(tag=st.sampled_from(TAGS), body=st.binary(max_size=300))
def test_random_record_bodies_reach_each_parser(adapter_file: bytes, tag: int, body: bytes) -> None:
    recs = _records(adapter_file)
    recs[tag] = body
    _parse(_join(recs))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=64)), max_size=8))
def test_random_record_lists_are_read_or_refused(pairs: list[tuple[int, bytes]]) -> None:
    _parse(b"".join(struct.pack("<BI", t, len(b)) + b for t, b in pairs))


def _inflated(body: bytes, offset: int) -> bytes:
    return zlib.decompress(body[offset:])


@FUZZ
@given(tag=st.sampled_from((2, 3, 5)), data=st.data())
def test_mutations_inside_the_compressed_payloads_reach_the_validation(
    adapter_file: bytes,
    tag: int,
    data,  # type: ignore[no-untyped-def]
) -> None:
    """Change the decompressed gamma grid, LUT knots or metadata JSON, recompress, re-sign."""
    recs = _records(adapter_file)
    offset = {2: 12, 3: 3, 5: 0}[tag]
    raw = bytearray(_inflated(recs[tag], offset))
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    recs[tag] = recs[tag][:offset] + zlib.compress(bytes(raw))
    _parse(_join(recs))


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_tampered_but_valid_parameters_decode_to_a_finite_image(adapter_file: bytes, data) -> None:  # type: ignore[no-untyped-def]
    """Whole files: a tampered segment that still parses decodes to finite pixels."""
    recs = _records(adapter_file)
    knots = np.sort(data.draw(st.lists(st.integers(1, 65535), min_size=6, max_size=6, unique=True)))
    lut = np.diff(np.tile(knots, (3, 1)), axis=1, prepend=0).astype("<u2")
    recs[3] = struct.pack("<BH", 3, 6) + zlib.compress(lut.tobytes())
    gh, gw = data.draw(st.integers(1, 20)), data.draw(st.integers(1, 20))
    lo = data.draw(st.floats(np.log(0.1), np.log(10.0)))
    hi = data.draw(st.floats(lo, np.log(10.0)))
    grid = data.draw(st.binary(min_size=gh * gw, max_size=gh * gw))
    recs[2] = struct.pack("<HHff", gh, gw, lo, hi) + zlib.compress(grid)
    body = container.sign_records(_join(recs))
    old = jpeg.find_segment(adapter_file)
    start = adapter_file.index(old)
    tampered = adapter_file[: start - 2] + struct.pack(">H", len(body) + 2) + body
    tampered += adapter_file[start + len(old) :]
    try:
        rec = codec.decode_bytes(tampered)
    except RawJpegError as exc:
        assert "checksum" not in str(exc)
        return
    assert rec.raw.data.shape[:2] == (rec.record.height, rec.record.width)
    assert np.isfinite(rec.raw.data).all()


def test_the_metadata_record_survives_hostile_json(adapter_file: bytes) -> None:
    """Valid JSON of the wrong shape is read or refused, never a crash."""
    recs = _records(adapter_file)
    for doc in ([], {"iso": "high"}, {"black_levels": {"a": 1}}, {"xyz_to_camera": [[1]]}, None):
        recs[5] = zlib.compress(json.dumps(doc).encode())
        _parse(_join(recs))


@FUZZ
@given(data=st.data())
def test_damage_to_the_header_or_checksum_is_refused(adapter_file: bytes, data) -> None:  # type: ignore[no-untyped-def]
    """Bit flips in the identifier, version, length or CRC (not re-signed) are refused."""
    body = bytearray(jpeg.find_segment(adapter_file))
    pos = data.draw(st.integers(0, HEAD - 1).filter(lambda p: p != len(IDENTIFIER) + 1))
    body[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(RawJpegError):
        container.decode_segment(bytes(body))
