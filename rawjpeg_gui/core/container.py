"""The adapter-JPEG parameter segment: a compact, versioned, checksummed binary record.

Layout of the APP11 segment body (all integers little-endian)::

    b"RAWJPEG\\0"                 8-byte identifier (no other APP11 user writes it)
    version  u8                   FORMAT_VERSION
    flags    u8                   reserved, 0
    length   u32                  byte length of ``records``
    crc32    u32                  CRC-32 of ``records``
    records  (tag u8, length u32, bytes) ...

Records (tag: content):

1. image: width u32, height u32, quality u8, subsampling u8 (0 = 4:4:4, 2 = 4:2:0),
   model name (UTF-8, rest of record)
2. gamma map: h u16, w u16, log_lo f32, log_hi f32, zlib(uint8 grid, delta coded)
3. LUT: channels u8, bins u16, zlib(uint16 knots, delta coded per channel)
4. DCT scale: 3x8x8 float16
5. metadata: zlib(UTF-8 JSON of :class:`RawMeta`)
8. pixel fingerprint (optional): the bytes of :func:`fingerprint.compute`
   (parsed and checked by the codec); readers that predate it skip the unknown tag
9. the raw's complete metadata (optional): ``meta.full_metadata`` as
   :mod:`fullmeta` stores it (zlib-compressed EXV), when it fits in this segment

When the raw's complete metadata does not fit in this segment (record 9), it travels in
separate APP11 segments after this one (:func:`metadata_segments`), each ``b"RAWJMETA"``,
index u8, count u8, CRC-32 u32 of the whole blob, then its part of the blob. One segment
is preferred: ImageMagick merges consecutive APP11 segments when it re-saves a JPEG.

A segment of any other version is refused (:class:`UnsupportedVersion`) rather than
read in part.

Parameters are quantised (gamma map to 8 bits in log space, LUT to 16 bits, DCT
scale to float16) *before* the encoder applies them, so the decoder inverts
exactly the operators that were applied: quantisation costs no invertibility.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import CorruptParameters, NotAnAdapterJpeg, ParameterSizeError, UnsupportedVersion
from .metadata import RawMeta
from .params import MAX_GAMMA_SIDE, MAX_LUT_BINS, AdapterParams, sanitize

IDENTIFIER = b"RAWJPEG\x00"
APP_MARKER = 0xEB  # APP11
FORMAT_VERSION = 1
#: A segment body is at most 65533 bytes; records may not declare more than this.
MAX_RECORDS_BYTES = 65533 - len(IDENTIFIER) - 10
#: Cap on any decompressed record (zip-bomb guard).
MAX_INFLATED_BYTES = 1 << 20
#: Cap on image sides a file may declare (matches Pillow's default pixel limit order).
MAX_IMAGE_SIDE = 65500

_TAG_IMAGE, _TAG_GAMMA, _TAG_LUT, _TAG_DCT, _TAG_META = 1, 2, 3, 4, 5
_TAG_FINGERPRINT = 8
_TAG_FULL_METADATA = 9
_SUBSAMPLING_CODES = {"4:4:4": 0, "4:2:0": 2}


@dataclass
class AdapterRecord:
    """Everything the parameter segment carries.

    Attributes:
        params: the (quantised) adapter operators.
        width, height: size of the linear image (equal to the JPEG's size).
        quality: JPEG quality the file was encoded at (1-100).
        subsampling: chroma subsampling used ("4:4:4" or "4:2:0").
        model_name: name of the adapter model that predicted ``params``.
        meta: camera metadata of the original raw.
        version: format version of the segment (always FORMAT_VERSION).
        fingerprint: the pixel fingerprint record (:mod:`fingerprint`), or ``None`` for
            files written before rawjpeg stored one.
    """

    params: AdapterParams
    width: int
    height: int
    quality: int
    subsampling: str
    model_name: str
    meta: RawMeta
    version: int = FORMAT_VERSION
    fingerprint: bytes | None = None


# ---------------------------------------------------------------- quantisation


def _quantise_gamma(gm: np.ndarray) -> tuple[float, float, np.ndarray]:
    logs = np.log(gm.astype(np.float64))
    lo, hi = float(logs.min()), float(logs.max())
    lo, hi = float(np.float32(lo)), float(np.float32(hi))
    if hi - lo < 1e-6:
        return lo, lo, np.zeros(gm.shape, np.uint8)
    q = np.round((logs - lo) / (hi - lo) * 255.0)
    return lo, hi, np.clip(q, 0, 255).astype(np.uint8)


def _dequantise_gamma(lo: float, hi: float, q: np.ndarray) -> np.ndarray:
    return np.exp(lo + q.astype(np.float64) / 255.0 * (hi - lo)).astype(np.float32)


def _quantise_lut(lut: np.ndarray) -> np.ndarray:
    q = np.clip(np.round(lut.astype(np.float64) * 65535.0), 0, 65535).astype(np.int64)
    # sanitize() keeps knots >= 1.5/65535 apart, so rounding keeps them distinct; this
    # only matters for hand-made parameters with closer knots.
    for k in range(1, q.shape[1]):
        q[:, k] = np.maximum(q[:, k], q[:, k - 1] + 1)
    if q.max() > 65535:
        raise CorruptParameters("The tone LUT has knots closer than 16-bit precision allows.")
    return q.astype(np.uint16)


def _dequantise_lut(lq: np.ndarray) -> np.ndarray:
    return lq.astype(np.float32) / np.float32(65535.0)


def quantise(params: AdapterParams) -> AdapterParams:
    """The parameters exactly as a reader of the file will see them."""
    lo, hi, gq = _quantise_gamma(params.gamma_map)
    lut = _dequantise_lut(_quantise_lut(params.lut))
    dct = (
        None if params.dct_scale is None else params.dct_scale.astype(np.float16).astype(np.float32)
    )
    return sanitize(lut, _dequantise_gamma(lo, hi, gq), dct)


# ---------------------------------------------------------------- writing


def _record(tag: int, body: bytes) -> bytes:
    return struct.pack("<BI", tag, len(body)) + body


def _delta2d(q: np.ndarray) -> np.ndarray:
    d = q.astype(np.int16).copy()
    d[:, 1:] -= q[:, :-1].astype(np.int16)
    d[1:, 0] -= q[:-1, 0].astype(np.int16)
    return (d % 256).astype(np.uint8)


def _undelta2d(d: np.ndarray) -> np.ndarray:
    q = d.astype(np.int64)
    q[:, 0] = np.cumsum(q[:, 0])
    return (np.cumsum(q, axis=1) % 256).astype(np.uint8)


def encode_segment(record: AdapterRecord, full_metadata: bool = True) -> bytes:
    """Serialise ``record`` to the APP11 segment body (identifier included).

    ``full_metadata``: include ``record.meta.full_metadata`` as record 9 (raises
    :class:`ParameterSizeError` when it does not fit; then write it with
    :func:`metadata_segments` instead).
    """
    p = record.params
    name = record.model_name.encode("utf-8")[:200]
    recs = [
        _record(
            _TAG_IMAGE,
            struct.pack(
                "<IIBB",
                record.width,
                record.height,
                record.quality,
                _SUBSAMPLING_CODES[record.subsampling],
            )
            + name,
        )
    ]
    lo, hi, gq = _quantise_gamma(p.gamma_map)
    gh, gw = gq.shape
    recs.append(
        _record(
            _TAG_GAMMA,
            struct.pack("<HHff", gh, gw, lo, hi) + zlib.compress(_delta2d(gq).tobytes(), 9),
        )
    )
    recs.append(_record(_TAG_LUT, _lut_body(p.lut)))
    if p.dct_scale is not None:
        recs.append(_record(_TAG_DCT, p.dct_scale.astype("<f2").tobytes()))
    meta_json = json.dumps(record.meta.to_dict(), separators=(",", ":")).encode("utf-8")
    recs.append(_record(_TAG_META, zlib.compress(meta_json, 9)))
    if record.fingerprint is not None:
        recs.append(_record(_TAG_FINGERPRINT, record.fingerprint))
    if full_metadata and record.meta.full_metadata:
        recs.append(_record(_TAG_FULL_METADATA, record.meta.full_metadata))
    records = b"".join(recs)
    if len(records) > MAX_RECORDS_BYTES:
        raise ParameterSizeError("The adapter parameters do not fit in one JPEG segment.")
    return sign_records(records)


def sign_records(records: bytes, version: int = FORMAT_VERSION) -> bytes:
    """The segment body for ``records``: identifier, header (version, length, CRC-32), records."""
    header = struct.pack("<BBII", version, 0, len(records), zlib.crc32(records))
    return IDENTIFIER + header + records


def _lut_body(lut: np.ndarray) -> bytes:
    """A LUT as stored: channels u8, bins u16, zlib(uint16 knots, delta coded per channel)."""
    lq = _quantise_lut(lut).astype(np.int64)
    ld = np.diff(lq, axis=1, prepend=0).astype(np.uint16)
    return struct.pack("<BH", 3, lq.shape[1]) + zlib.compress(ld.astype("<u2").tobytes(), 9)


def _parse_lut(body: bytes, what: str) -> np.ndarray:
    """Inverse of :func:`_lut_body` (validated: shape, range, strictly increasing)."""
    if len(body) < 3:
        raise CorruptParameters(f"The {what} record is truncated.")
    channels, bins = struct.unpack_from("<BH", body, 0)
    if channels != 3 or not 2 <= bins <= MAX_LUT_BINS:
        raise CorruptParameters(f"The {what} has the wrong shape.")
    ld = np.frombuffer(_inflate(body[3:], 3 * bins * 2, what), "<u2").reshape(3, bins)
    lq = np.cumsum(ld.astype(np.int64), axis=1)
    if lq.max() > 65535 or np.any(ld[:, 1:] == 0):
        raise CorruptParameters(f"The {what} is not strictly increasing within [0, 1].")
    return _dequantise_lut(lq)


def parameter_payload_size(record: AdapterRecord) -> int:
    """Bytes the operator parameters take in the file (segment minus camera metadata)."""
    meta_only = encode_segment(AdapterRecord(record.params, 1, 1, 1, "4:4:4", "", RawMeta()))
    return len(meta_only)


# ---------------------------------------------------------------- reading


def _inflate(data: bytes, expected: int, what: str) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_INFLATED_BYTES + 1)
    except zlib.error:
        raise CorruptParameters(f"The {what} data is damaged.") from None
    if len(out) > MAX_INFLATED_BYTES or d.unconsumed_tail:
        raise ParameterSizeError(f"The {what} data inflates beyond the safety cap.")
    if expected >= 0 and len(out) != expected:
        raise CorruptParameters(f"The {what} data has the wrong size.")
    return out


def _split_records(records: bytes) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    pos = 0
    while pos < len(records):
        if pos + 5 > len(records):
            raise CorruptParameters("The parameter segment ends inside a record header.")
        tag, length = struct.unpack_from("<BI", records, pos)
        pos += 5
        if length > len(records) - pos:
            raise CorruptParameters("A parameter record claims more bytes than the segment holds.")
        if tag in out:
            raise CorruptParameters("A parameter record appears twice.")
        out[tag] = records[pos : pos + length]
        pos += length
    return out


def decode_segment(body: bytes, source: str = "The file") -> AdapterRecord:
    """Parse and validate an APP11 segment body written by :func:`encode_segment`.

    ``source`` names the file in the error raised for another format version.
    """
    if not body.startswith(IDENTIFIER):
        raise NotAnAdapterJpeg("The segment is not a rawjpeg parameter segment.")
    head = body[len(IDENTIFIER) :]
    if len(head) < 10:
        raise CorruptParameters("The parameter segment is truncated.")
    version, _flags, length, crc = struct.unpack_from("<BBII", head, 0)
    if version != FORMAT_VERSION:
        raise UnsupportedVersion(
            f"{source} holds rawjpeg parameters of format version {version}, and this "
            f"rawjpeg reads only version {FORMAT_VERSION}."
        )
    if length > MAX_RECORDS_BYTES:
        raise ParameterSizeError(
            "The parameter segment declares more bytes than a segment can hold."
        )
    records = head[10:]
    if len(records) != length:
        raise CorruptParameters("The parameter segment is truncated or has trailing bytes.")
    if zlib.crc32(records) != crc:
        raise CorruptParameters(
            "The parameter checksum does not match: the file was damaged or edited."
        )
    recs = _split_records(records)
    for tag in (_TAG_IMAGE, _TAG_GAMMA, _TAG_LUT, _TAG_META):
        if tag not in recs:
            raise CorruptParameters("The parameter segment misses a required record.")
    return _parse(recs)


def _parse(recs: dict[int, bytes]) -> AdapterRecord:
    img = recs[_TAG_IMAGE]
    if len(img) < 10:
        raise CorruptParameters("The image record is truncated.")
    width, height, quality, sub = struct.unpack_from("<IIBB", img, 0)
    if not (1 <= width <= MAX_IMAGE_SIDE and 1 <= height <= MAX_IMAGE_SIDE):
        raise ParameterSizeError("The stored image size is beyond the safety cap.")
    if not 1 <= quality <= 100:
        raise CorruptParameters("The stored JPEG quality is not between 1 and 100.")
    subs = {v: k for k, v in _SUBSAMPLING_CODES.items()}
    if sub not in subs:
        raise CorruptParameters("The stored chroma subsampling code is unknown.")
    model_name = img[10:].decode("utf-8", "replace")

    g = recs[_TAG_GAMMA]
    if len(g) < 12:
        raise CorruptParameters("The gamma map record is truncated.")
    gh, gw, lo, hi = struct.unpack_from("<HHff", g, 0)
    if not (1 <= gh <= MAX_GAMMA_SIDE and 1 <= gw <= MAX_GAMMA_SIDE):
        raise ParameterSizeError("The gamma map size is beyond the safety cap.")
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi < lo:
        raise CorruptParameters("The gamma map range is not valid.")
    gq = np.frombuffer(_inflate(g[12:], gh * gw, "gamma map"), np.uint8).reshape(gh, gw)
    gamma = _dequantise_gamma(lo, hi, _undelta2d(gq))

    lut = _parse_lut(recs[_TAG_LUT], "LUT")

    dct = None
    if _TAG_DCT in recs:
        if len(recs[_TAG_DCT]) != 3 * 64 * 2:
            raise CorruptParameters("The DCT scale record has the wrong size.")
        dct = np.frombuffer(recs[_TAG_DCT], "<f2").astype(np.float32).reshape(3, 8, 8)

    params = AdapterParams(lut, gamma, dct)  # validates ranges, finiteness, monotonicity
    meta = RawMeta.from_dict(load_meta_json(_inflate(recs[_TAG_META], -1, "metadata")))
    meta.full_metadata = recs.get(_TAG_FULL_METADATA, b"")
    fingerprint = recs.get(_TAG_FINGERPRINT)
    return AdapterRecord(
        params, width, height, quality, subs[sub], model_name, meta, fingerprint=fingerprint
    )


# ---------------------------------------------------------------- full metadata segments

#: Identifier of the APP11 segments that carry the raw's complete metadata.
METADATA_IDENTIFIER = b"RAWJMETA"
_METADATA_HEADER = struct.Struct("<BBI")
_METADATA_CHUNK = 65533 - len(METADATA_IDENTIFIER) - _METADATA_HEADER.size
#: At most this many metadata segments (16 MB).
MAX_METADATA_SEGMENTS = 255


def metadata_segments(blob: bytes) -> list[bytes]:
    """APP11 segment bodies that carry ``blob`` (none for an empty blob)."""
    if not blob:
        return []
    parts = [blob[i : i + _METADATA_CHUNK] for i in range(0, len(blob), _METADATA_CHUNK)]
    if len(parts) > MAX_METADATA_SEGMENTS:
        raise ParameterSizeError("The raw's metadata is too large to carry.")
    crc = zlib.crc32(blob)
    return [
        METADATA_IDENTIFIER + _METADATA_HEADER.pack(i, len(parts), crc) + part
        for i, part in enumerate(parts)
    ]


def join_metadata_segments(bodies: list[bytes]) -> bytes:
    """The blob carried by the segment ``bodies`` (in file order); b"" when there are none.

    Raises:
        CorruptParameters: a segment is missing, repeated, truncated or damaged.
    """
    if not bodies:
        return b""
    parts = []
    crcs = set()
    for i, body in enumerate(bodies):
        head = body[len(METADATA_IDENTIFIER) :]
        if len(head) < _METADATA_HEADER.size:
            raise CorruptParameters("A metadata segment is truncated.")
        index, count, crc = _METADATA_HEADER.unpack_from(head, 0)
        if index != i or count != len(bodies):
            raise CorruptParameters("The metadata segments are incomplete or out of order.")
        crcs.add(crc)
        parts.append(head[_METADATA_HEADER.size :])
    blob = b"".join(parts)
    if len(crcs) != 1 or zlib.crc32(blob) != crcs.pop():
        raise CorruptParameters("The raw's stored metadata is damaged (checksum mismatch).")
    return blob


# ---------------------------------------------------------------- metadata JSON validation

#: Deepest nesting a stored metadata JSON may have (the metadata itself nests two deep).
MAX_JSON_DEPTH = 8
#: Longest text a stored metadata string may have.
MAX_META_TEXT = 4096
#: Plausible ranges of the numeric metadata fields (inclusive); values outside are corrupt.
_META_RANGES: dict[str, tuple[float, float]] = {
    "source_size": (0, 1 << 40),
    "width": (0, MAX_IMAGE_SIDE),
    "height": (0, MAX_IMAGE_SIDE),
    "iso": (1e-3, 1e7),
    "exposure_time": (1e-9, 1e6),
    "f_number": (1e-2, 1e4),
    "focal_length": (1e-2, 1e5),
    "orientation": (1, 8),
    "white_level": (1e-6, 1 << 32),
}


def _json_depth(text: str) -> int:
    """Deepest bracket nesting of JSON ``text`` (brackets inside strings ignored), without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _numbers(value: object, count: tuple[int, int], lo: float, hi: float) -> bool:
    return (
        isinstance(value, list)
        and count[0] <= len(value) <= count[1]
        and all(_number(v) and lo <= v <= hi for v in value)
    )


def _check_meta_fields(d: dict[str, Any]) -> None:
    """Types and ranges of the known metadata fields (unknown keys are left to newer readers)."""

    def bad(name: str) -> CorruptParameters:
        return CorruptParameters(f"The stored camera metadata field {name} is malformed.")

    for name, value in d.items():
        if isinstance(value, str) and len(value) > MAX_META_TEXT:
            raise bad(name)
    for name, (lo, hi) in _META_RANGES.items():
        value = d.get(name)
        if value is None:
            continue
        if not _number(value) or not lo <= value <= hi:
            raise bad(name)
        if name in ("source_size", "width", "height", "orientation") and int(value) != value:
            raise bad(name)
    if "black_levels" in d and not _numbers(d["black_levels"], (1, 4), 0.0, 1 << 32):
        raise bad("black_levels")
    if d.get("as_shot_wb") is not None and not _numbers(d["as_shot_wb"], (3, 3), 1e-4, 1e4):
        raise bad("as_shot_wb")
    xyz = d.get("xyz_to_camera")
    if xyz is not None and not (
        isinstance(xyz, list)
        and len(xyz) == 3
        and all(_numbers(row, (3, 3), -1e4, 1e4) for row in xyz)
    ):
        raise bad("xyz_to_camera")


def load_meta_json(data: bytes) -> dict[str, Any]:
    """Parse and validate the stored metadata JSON (nesting depth, types, ranges).

    Raises:
        CorruptParameters: not UTF-8 JSON, not an object, nested too deep, or a known
            field of the wrong type or out of its plausible range.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptParameters("The stored camera metadata is not valid JSON.") from None
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise CorruptParameters("The stored camera metadata is nested too deeply.")
    try:
        d = json.loads(text, parse_constant=_no_constant)
    except (json.JSONDecodeError, ValueError, RecursionError):
        raise CorruptParameters("The stored camera metadata is not valid JSON.") from None
    if not isinstance(d, dict):
        raise CorruptParameters("The stored camera metadata is not a record.")
    _check_meta_fields(d)
    return d


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")
