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
6. extra tone curves (format version 2): count u8, then each as the LUT record's body
7. LUT weights (format version 2): curves u8, h u16, w u16, zlib(uint8 K x h x w);
   the K bytes at a position sum to exactly 255, and each weight is its byte / 255
16. colour chain (optional): :meth:`ColourChain.to_bytes` - the camera normalisation
   applied before the operators (white balance, matrix, exposure, soft clip); absent in
   files made with the camera-RGB chain, whose operators act on camera RGB directly

Files with a spatially-varying LUT (records 6 and 7) are written as version 2, so a
reader that knows only version 1 refuses them instead of ignoring the extra curves;
every other file is still written as version 1.

Parameters are quantised (gamma map to 8 bits in log space, LUT to 16 bits, DCT
scale to float16) *before* the encoder applies them, so the decoder inverts
exactly the operators that were applied: quantisation costs no invertibility.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from .colour import ColourChain
from .errors import CorruptParameters, NotAnAdapterJpeg, ParameterSizeError, UnsupportedVersion
from .metadata import RawMeta
from .params import (
    MAX_GAMMA_SIDE,
    MAX_LUT_BASIS,
    MAX_LUT_BINS,
    MAX_MIX_SIDE,
    AdapterParams,
    sanitize,
)

IDENTIFIER = b"RAWJPEG\x00"
APP_MARKER = 0xEB  # APP11
FORMAT_VERSION = 1
#: Version of files whose LUT varies across the image (records 6 and 7).
MIX_FORMAT_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
#: A segment body is at most 65533 bytes; records may not declare more than this.
MAX_RECORDS_BYTES = 65533 - len(IDENTIFIER) - 10
#: Cap on any decompressed record (zip-bomb guard).
MAX_INFLATED_BYTES = 1 << 20
#: Cap on image sides a file may declare (matches Pillow's default pixel limit order).
MAX_IMAGE_SIDE = 65500

_TAG_IMAGE, _TAG_GAMMA, _TAG_LUT, _TAG_DCT, _TAG_META = 1, 2, 3, 4, 5
_TAG_BASIS, _TAG_MIX = 6, 7
_TAG_COLOUR = 16
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
        version: format version the record was read from (written: FORMAT_VERSION).
        colour: the camera normalisation applied before the operators, or ``None``
            (the operators act on camera RGB).
    """

    params: AdapterParams
    width: int
    height: int
    quality: int
    subsampling: str
    model_name: str
    meta: RawMeta
    version: int = FORMAT_VERSION
    colour: ColourChain | None = None


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


def _quantise_mix(mix: np.ndarray) -> np.ndarray:
    """Weights to bytes that sum to exactly 255 at every position (largest remainders
    round up), so reading them back (:func:`_dequantise_mix`) and writing again is exact."""
    f = np.clip(mix.astype(np.float64), 0.0, None)
    f = f / np.maximum(f.sum(axis=0, keepdims=True), 1e-12) * 255.0
    q = np.floor(f)
    deficit = 255 - q.sum(axis=0, keepdims=True)
    rank = np.argsort(np.argsort(-(f - q), axis=0, kind="stable"), axis=0, kind="stable")
    q += rank < deficit
    return q.astype(np.uint8)


def _dequantise_mix(q: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) / np.float32(255.0)


def _dequantise_lut(lq: np.ndarray) -> np.ndarray:
    return lq.astype(np.float32) / np.float32(65535.0)


def quantise(params: AdapterParams) -> AdapterParams:
    """The parameters exactly as a reader of the file will see them."""
    lo, hi, gq = _quantise_gamma(params.gamma_map)
    lut = _dequantise_lut(_quantise_lut(params.lut))
    dct = None if params.dct_scale is None else params.dct_scale.astype(np.float16).astype(np.float32)
    basis = mix = None
    if params.lut_basis is not None and params.lut_mix is not None:
        basis = np.stack([_dequantise_lut(_quantise_lut(b)) for b in params.lut_basis])
        mix = _dequantise_mix(_quantise_mix(params.lut_mix))
    out = sanitize(lut, _dequantise_gamma(lo, hi, gq), dct, basis, mix)
    # The weights exactly as the reader computes them (sanitize would renormalise them).
    return out if mix is None else dataclasses.replace(out, lut_mix=mix)


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


def encode_segment(record: AdapterRecord) -> bytes:
    """Serialise ``record`` to the APP11 segment body (identifier included)."""
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
        _record(_TAG_GAMMA, struct.pack("<HHff", gh, gw, lo, hi) + zlib.compress(_delta2d(gq).tobytes(), 9))
    )
    recs.append(_record(_TAG_LUT, _lut_body(p.lut)))
    if p.dct_scale is not None:
        recs.append(_record(_TAG_DCT, p.dct_scale.astype("<f2").tobytes()))
    version = FORMAT_VERSION
    if p.lut_basis is not None and p.lut_mix is not None:
        version = MIX_FORMAT_VERSION
        recs.append(
            _record(_TAG_BASIS, struct.pack("<B", len(p.lut_basis)) + b"".join(_lut_body(b) for b in p.lut_basis))
        )
        k, mh, mw = p.lut_mix.shape
        mq = _quantise_mix(p.lut_mix)
        recs.append(_record(_TAG_MIX, struct.pack("<BHH", k, mh, mw) + zlib.compress(mq.tobytes(), 9)))
    if record.colour is not None:
        recs.append(_record(_TAG_COLOUR, record.colour.to_bytes()))
    meta_json = json.dumps(record.meta.to_dict(), separators=(",", ":")).encode("utf-8")
    recs.append(_record(_TAG_META, zlib.compress(meta_json, 9)))
    records = b"".join(recs)
    if len(records) > MAX_RECORDS_BYTES:
        raise ParameterSizeError("The adapter parameters do not fit in one JPEG segment.")
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
    meta_only = encode_segment(
        AdapterRecord(record.params, 1, 1, 1, "4:4:4", "", RawMeta())
    )
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


def decode_segment(body: bytes) -> AdapterRecord:
    """Parse and validate an APP11 segment body written by :func:`encode_segment`."""
    if not body.startswith(IDENTIFIER):
        raise NotAnAdapterJpeg("The segment is not a rawjpeg parameter segment.")
    head = body[len(IDENTIFIER) :]
    if len(head) < 10:
        raise CorruptParameters("The parameter segment is truncated.")
    version, _flags, length, crc = struct.unpack_from("<BBII", head, 0)
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedVersion(
            f"The parameters are format version {version}; this rawjpeg reads version "
            f"{max(SUPPORTED_VERSIONS)} and older."
        )
    if length > MAX_RECORDS_BYTES:
        raise ParameterSizeError("The parameter segment declares more bytes than a segment can hold.")
    records = head[10:]
    if len(records) != length:
        raise CorruptParameters("The parameter segment is truncated or has trailing bytes.")
    if zlib.crc32(records) != crc:
        raise CorruptParameters("The parameter checksum does not match: the file was damaged or edited.")
    recs = _split_records(records)
    for tag in (_TAG_IMAGE, _TAG_GAMMA, _TAG_LUT, _TAG_META):
        if tag not in recs:
            raise CorruptParameters("The parameter segment misses a required record.")
    return _parse(recs, version)


def _parse_mix(recs: dict[int, bytes], version: int, bins: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The spatially-varying LUT's extra curves and weights (version 2 files only)."""
    present = (_TAG_BASIS in recs, _TAG_MIX in recs)
    if version < MIX_FORMAT_VERSION:
        if any(present):
            raise CorruptParameters("A version 1 parameter segment holds version 2 records.")
        return None, None
    if not all(present):
        raise CorruptParameters("The spatially-varying LUT misses its curves or its weights.")
    body = recs[_TAG_BASIS]
    if len(body) < 1:
        raise CorruptParameters("The extra tone curves record is truncated.")
    count = body[0]
    curves, pos = [], 1
    for _ in range(count):
        if len(body) - pos < 3:
            raise CorruptParameters("The extra tone curves record is truncated.")
        # Each curve's zlib stream ends itself: find its end, then parse the curve.
        d = zlib.decompressobj()
        try:
            d.decompress(body[pos + 3 :], MAX_INFLATED_BYTES + 1)
        except zlib.error:
            raise CorruptParameters("The extra tone curve data is damaged.") from None
        if not d.eof:
            raise CorruptParameters("The extra tone curve data is truncated.")
        end = len(body) - len(d.unused_data)
        curves.append(_parse_lut(body[pos:end], "extra tone curve"))
        pos = end
    if pos != len(body) or not 1 <= count <= MAX_LUT_BASIS - 1:
        raise CorruptParameters("The extra tone curves record has the wrong size.")
    basis = np.stack(curves)
    if basis.shape[2] != bins:
        raise CorruptParameters("The extra tone curves and the LUT have different sizes.")
    m = recs[_TAG_MIX]
    if len(m) < 5:
        raise CorruptParameters("The LUT weights record is truncated.")
    k, mh, mw = struct.unpack_from("<BHH", m, 0)
    if k != count + 1 or not (1 <= mh <= MAX_MIX_SIDE and 1 <= mw <= MAX_MIX_SIDE):
        raise CorruptParameters("The LUT weights have the wrong shape.")
    mq = np.frombuffer(_inflate(m[5:], k * mh * mw, "LUT weights"), np.uint8).reshape(k, mh, mw)
    if np.any(mq.astype(np.int64).sum(axis=0) != 255):
        raise CorruptParameters("The LUT weights do not sum to 1 everywhere.")
    return basis, _dequantise_mix(mq)


def _parse(recs: dict[int, bytes], version: int) -> AdapterRecord:
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
    basis, mix = _parse_mix(recs, version, lut.shape[1])

    dct = None
    if _TAG_DCT in recs:
        if len(recs[_TAG_DCT]) != 3 * 64 * 2:
            raise CorruptParameters("The DCT scale record has the wrong size.")
        dct = np.frombuffer(recs[_TAG_DCT], "<f2").astype(np.float32).reshape(3, 8, 8)

    params = AdapterParams(lut, gamma, dct, basis, mix)  # validates ranges, finiteness, monotonicity
    try:
        meta_dict = json.loads(_inflate(recs[_TAG_META], -1, "metadata").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CorruptParameters("The stored camera metadata is not valid JSON.") from None
    meta = RawMeta.from_dict(meta_dict)
    colour = ColourChain.from_bytes(recs[_TAG_COLOUR]) if _TAG_COLOUR in recs else None
    return AdapterRecord(params, width, height, quality, subs[sub], model_name, meta, version, colour)
