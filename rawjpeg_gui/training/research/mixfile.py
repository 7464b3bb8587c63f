"""Parameter-segment format version 2 (the spatially-varying LUT) and a codec for it.

A version 2 segment is a version 1 segment (``core/container.py``) with two more
records and the version byte 2, so a reader that knows only version 1 refuses it
instead of ignoring the extra curves:

6. extra tone curves: count u8, then each as the LUT record's body
7. LUT weights: curves u8, h u16, w u16, zlib(uint8 K x h x w); the K bytes at a
   position sum to exactly 255, and each weight is its byte / 255

:func:`encode_image` and :func:`decode_bytes` code such files with the numpy
specification (:mod:`.lutmix`); for every other model they hand over to the core codec.
"""

from __future__ import annotations

import dataclasses
import struct
import time
import zlib

import numpy as np

from rawjpeg_gui.core import codec, container, jpeg
from rawjpeg_gui.core.container import (
    IDENTIFIER,
    MAX_INFLATED_BYTES,
    MAX_RECORDS_BYTES,
    AdapterRecord,
    _dequantise_lut,
    _inflate,
    _lut_body,
    _parse_lut,
    _quantise_lut,
    _record,
)
from rawjpeg_gui.core.errors import CorruptParameters, ParameterSizeError, UnsupportedVersion
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.model import AdapterModel
from rawjpeg_gui.core.rawio import RawImage

from .lutmix import MAX_LUT_BASIS, MAX_MIX_SIDE, MixParams, forward, inverse, sanitize_mix

#: Version of segments whose LUT varies across the image.
MIX_FORMAT_VERSION = 2
_TAG_BASIS, _TAG_MIX = 6, 7


def quantise_mix(mix: np.ndarray) -> np.ndarray:
    """Weights to bytes that sum to exactly 255 at every position (largest remainders
    round up), so reading them back (:func:`dequantise_mix`) and writing again is exact."""
    f = np.clip(mix.astype(np.float64), 0.0, None)
    f = f / np.maximum(f.sum(axis=0, keepdims=True), 1e-12) * 255.0
    q = np.floor(f)
    deficit = 255 - q.sum(axis=0, keepdims=True)
    rank = np.argsort(np.argsort(-(f - q), axis=0, kind="stable"), axis=0, kind="stable")
    q += rank < deficit
    return q.astype(np.uint8)


def dequantise_mix(q: np.ndarray) -> np.ndarray:
    """Bytes summing to 255 back to weights."""
    return q.astype(np.float32) / np.float32(255.0)


def quantise(params: MixParams) -> MixParams:
    """The parameters exactly as a reader of the file will see them."""
    base = container.quantise(params)
    basis = np.stack([_dequantise_lut(_quantise_lut(b)) for b in params.lut_basis])
    mix = dequantise_mix(quantise_mix(params.lut_mix))
    out = sanitize_mix(base.lut, base.gamma_map, base.dct_scale, basis, mix)
    # The weights exactly as the reader computes them (sanitize would renormalise them).
    return dataclasses.replace(out, lut_mix=mix)


def encode_segment(record: AdapterRecord) -> bytes:
    """A version 2 segment body for a record whose params are :class:`MixParams`."""
    p = record.params
    assert isinstance(p, MixParams)
    v1 = container.encode_segment(record)
    records = v1[len(IDENTIFIER) + 10 :]
    count = struct.pack("<B", len(p.lut_basis))
    records += _record(_TAG_BASIS, count + b"".join(_lut_body(b) for b in p.lut_basis))
    k, mh, mw = p.lut_mix.shape
    mq = zlib.compress(quantise_mix(p.lut_mix).tobytes(), 9)
    records += _record(_TAG_MIX, struct.pack("<BHH", k, mh, mw) + mq)
    if len(records) > MAX_RECORDS_BYTES:
        raise ParameterSizeError("The adapter parameters do not fit in one JPEG segment.")
    return container.sign_records(records, MIX_FORMAT_VERSION)


def _parse_basis(body: bytes, bins: int) -> np.ndarray:
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
    return basis


def _parse_mix(m: bytes, count: int) -> np.ndarray:
    if len(m) < 5:
        raise CorruptParameters("The LUT weights record is truncated.")
    k, mh, mw = struct.unpack_from("<BHH", m, 0)
    if k != count + 1 or not (1 <= mh <= MAX_MIX_SIDE and 1 <= mw <= MAX_MIX_SIDE):
        raise CorruptParameters("The LUT weights have the wrong shape.")
    mq = np.frombuffer(_inflate(m[5:], k * mh * mw, "LUT weights"), np.uint8).reshape(k, mh, mw)
    if np.any(mq.astype(np.int64).sum(axis=0) != 255):
        raise CorruptParameters("The LUT weights do not sum to 1 everywhere.")
    return dequantise_mix(mq)


def decode_segment(body: bytes) -> AdapterRecord:
    """Parse a version 2 segment body (a version 1 body goes to the core's reader)."""
    head = body[len(IDENTIFIER) :]
    if not body.startswith(IDENTIFIER) or len(head) < 10 or head[0] != MIX_FORMAT_VERSION:
        return container.decode_segment(body)
    _version, _flags, length, crc = struct.unpack_from("<BBII", head, 0)
    records = head[10:]
    if len(records) != length or zlib.crc32(records) != crc:
        raise CorruptParameters(
            "The parameter checksum does not match: the file was damaged or edited."
        )
    recs = container._split_records(records)
    if _TAG_BASIS not in recs or _TAG_MIX not in recs:
        raise CorruptParameters("The spatially-varying LUT misses its curves or its weights.")
    basis_body, mix_body = recs.pop(_TAG_BASIS), recs.pop(_TAG_MIX)
    # The rest is a version 1 segment: the core validates it.
    rest = b"".join(_record(t, b) for t, b in recs.items())
    base = container.decode_segment(container.sign_records(rest))
    basis = _parse_basis(basis_body, base.params.lut_bins)
    mix = _parse_mix(mix_body, len(basis))
    p = base.params
    params = MixParams(p.lut, p.gamma_map, p.dct_scale, basis, mix)
    return dataclasses.replace(base, params=params, version=MIX_FORMAT_VERSION)


def encode_image(raw: RawImage, quality: int, model: AdapterModel) -> codec.EncodeResult:
    """Encode ``raw`` with ``model``: version 2 for a spatially-varying LUT, else the core's way."""
    if "lutmix" not in model.info.operators:
        return codec.encode_image(raw, quality, model)
    pred = model.predict(raw.data, quality, raw.meta)
    assert isinstance(pred.params, MixParams)
    t0 = time.perf_counter()
    params = quantise(pred.params)
    adapted = codec.to_uint8(forward(raw.data, params))
    sub = model.info.subsampling
    record = AdapterRecord(params, raw.width, raw.height, quality, sub, model.name, raw.meta)
    segment = encode_segment(record)
    data = jpeg.encode_jpeg(adapted, quality, sub, pred.qtables, raw.meta, segment)
    return codec.EncodeResult(
        data, params, quality, adapted, raw, model.name, pred.qtables, len(segment),
        {"forward+jpeg": time.perf_counter() - t0},
    )  # fmt: skip


def decode_bytes(data: bytes) -> codec.Reconstruction:
    """Reconstruct the linear raw from a version 2 file (or any adapter-JPEG)."""
    try:
        return codec.decode_bytes(data)
    except UnsupportedVersion:
        pass
    record = decode_segment(jpeg.find_segment(data))
    pixels = jpeg.decode_jpeg(data)
    linear = inverse(pixels.astype(np.float32) / np.float32(255.0), record.params)  # type: ignore[arg-type]
    return codec.Reconstruction(RawImage(linear, record.meta), record, len(data), pixels)


def parameter_payload_size(record: AdapterRecord) -> int:
    """Bytes the operator parameters take (:func:`container.parameter_payload_size`,
    version 2 records counted)."""
    if not isinstance(record.params, MixParams):
        return container.parameter_payload_size(record)
    bare = AdapterRecord(record.params, 1, 1, 1, "4:4:4", "", RawMeta())
    return len(encode_segment(bare))
