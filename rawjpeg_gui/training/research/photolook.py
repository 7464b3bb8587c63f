"""The "photo" look (research, not shipped): operators that code camera-normalised images.

The camera normalisation of :mod:`rawjpeg_gui.core.colour` (white balance with its
highlight knee, colour matrix, base exposure) is applied *before* the learned operators,
so the JPEG's pixels are a display-referred sRGB rendering. Where the core's chain
clips to [0, 1], this one is exactly invertible:

4. **soft clip** - the matrix output lies in a known interval (the matrix maps the unit
   cube to a parallelepiped); a smooth toe takes its negative part (colours outside the
   sRGB gamut) into [0, TOE] and a smooth shoulder takes the part above SHOULDER into
   [SHOULDER, 1], identity in between; the same curves for all three channels, so greys
   stay grey. Every step is a bijection of its interval, so :meth:`PhotoChain.inverse`
   returns the camera RGB to float precision.

Files: format version 3, a version 1 segment (``core/container.py``) with one more
record and the version byte 3, so a reader that knows only version 1 refuses it
instead of returning display RGB as camera RGB:

16. colour chain: version u8, wb 3 f32, matrix 9 f32, gain f32 (:meth:`PhotoChain.to_bytes`)

:func:`encode_image` and :func:`decode_bytes` code such files for models tagged
``rawjpeg.look = photo``; ``training/colour_torch.py`` is the inverse in torch.
"""

from __future__ import annotations

import dataclasses
import struct
import time
import zlib

import numpy as np

from rawjpeg_gui.core import codec, colour, container, fastops, fingerprint, fullmeta, jpeg, search
from rawjpeg_gui.core.colour import ColourChain, _Segment
from rawjpeg_gui.core.container import IDENTIFIER, _record
from rawjpeg_gui.core.errors import CorruptParameters, ParameterSizeError
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.model import AdapterModel
from rawjpeg_gui.core.rawio import RawImage

#: Below this the soft clip's toe compresses (negative values included).
TOE = 0.01
#: Above this the soft clip's shoulder compresses (values above white included).
SHOULDER = 0.8
#: Version of segments whose operators coded the photo look.
PHOTO_FORMAT_VERSION = 3
_TAG_COLOUR = 16
_VERSION = 1
_STRUCT = struct.Struct("<B3f9ff")


@dataclasses.dataclass(frozen=True)
class PhotoChain(ColourChain):
    """The core's colour chain with the invertible soft clip instead of a clip."""

    def __post_init__(self) -> None:
        wb = np.asarray(self.wb, np.float64)
        m = np.asarray(self.matrix, np.float64)
        if wb.shape != (3,) or m.shape != (9,):
            raise CorruptParameters("The colour chain has the wrong shape.")
        if not (np.all(np.isfinite(wb)) and np.all(wb > 0) and np.all(wb < 1e3)):
            raise CorruptParameters("The colour chain's white balance is not valid.")
        if not (np.all(np.isfinite(m)) and np.all(np.abs(m) < 1e3)):
            raise CorruptParameters("The colour chain's matrix is not valid.")
        if abs(np.linalg.det(m.reshape(3, 3))) < 1e-6:
            raise CorruptParameters("The colour chain's matrix cannot be inverted.")
        if not (np.isfinite(self.gain) and 1e-3 <= self.gain <= 1e3):
            raise CorruptParameters("The colour chain's exposure gain is not valid.")

    def _clip_curves(self) -> list[tuple[_Segment | None, _Segment | None]]:
        """Per channel of the matrix output: (toe, shoulder), each None when not needed.

        One toe and one shoulder for all three channels, spanning the widest channel's
        interval, so equal channels stay equal: greys and white stay neutral.
        """
        m = self.to_srgb()
        lo = float(np.minimum(m, 0.0).sum(axis=1).min())
        hi = float(np.maximum(m, 0.0).sum(axis=1).max())
        # Mirrored shoulder: from (lo, 0) to (TOE, TOE), slope 1 at TOE.
        toe = _Segment(0.0, TOE - lo, 0.0, TOE, 1.0) if lo < 0.0 else None
        shoulder = _Segment(SHOULDER, hi, SHOULDER, 1.0, 1.0) if hi > 1.0 else None
        return [(toe, shoulder)] * 3

    def forward(self, camera: np.ndarray) -> np.ndarray:
        """Linear camera RGB (H x W x 3 in [0, 1]) -> display-referred linear sRGB in [0, 1]."""
        x = np.asarray(camera, np.float32)
        lin = self.balance(x) @ self.to_srgb().astype(np.float32).T
        out = np.empty(x.shape, np.float32)
        for c, (toe, shoulder) in enumerate(self._clip_curves()):
            v = lin[..., c]
            o = v.copy()
            if toe is not None:
                low = v < np.float32(TOE)
                # toe(v) = TOE - S(TOE - v) with S the mirrored segment.
                o[low] = TOE - toe.forward(TOE - v[low].astype(np.float64))
            if shoulder is not None:
                high = v > np.float32(SHOULDER)
                o[high] = shoulder.forward(v[high])
            out[..., c] = np.clip(o, 0.0, 1.0)
        return out

    def inverse(self, display: np.ndarray) -> np.ndarray:
        """Display-referred linear sRGB in [0, 1] -> linear camera RGB (inputs clamped to [0, 1]).

        Values a coded image moves outside the chain's range are brought back to it
        (the balanced cube), so a decoded JPEG always yields camera RGB in [0, 1].
        """
        y = np.clip(np.asarray(display, np.float32), 0.0, 1.0)
        lin = np.empty(y.shape, np.float32)
        for c, (toe, shoulder) in enumerate(self._clip_curves()):
            o = y[..., c].copy()
            if toe is not None:
                low = y[..., c] < np.float32(TOE)
                o[low] = TOE - toe.inverse(TOE - y[..., c][low].astype(np.float64))
            if shoulder is not None:
                high = y[..., c] > np.float32(SHOULDER)
                o[high] = shoulder.inverse(y[..., c][high])
            lin[..., c] = o
        bal = lin @ np.linalg.inv(self.to_srgb()).T.astype(np.float32)
        # A coded image can stray outside the balanced cube: back to the range the knee maps.
        top = np.array(
            [1.0 if seg else g for g, (_, seg) in zip(self.wb, self._wb_curves(), strict=True)],
            np.float32,
        )
        np.clip(bal, 0.0, top, out=bal)
        out = np.empty(y.shape, np.float32)
        for c, (x0, seg) in enumerate(self._wb_curves()):
            g = np.float32(self.wb[c])
            if seg is None:
                out[..., c] = bal[..., c] / g
            else:
                out[..., c] = colour._piecewise(
                    bal[..., c], float(g * x0), lambda v, g=g: v / g, seg.inverse
                )
        return np.clip(out, 0.0, 1.0)

    def to_bytes(self) -> bytes:
        """The chain as stored (version u8, wb 3 f32, matrix 9 f32, gain f32)."""
        return _STRUCT.pack(_VERSION, *self.wb, *self.matrix, self.gain)

    @classmethod
    def from_bytes(cls, body: bytes) -> PhotoChain:
        """Inverse of :meth:`to_bytes` (validated)."""
        if len(body) != _STRUCT.size:
            raise CorruptParameters("The colour chain record has the wrong size.")
        values = _STRUCT.unpack(body)
        if values[0] != _VERSION:
            raise CorruptParameters("The colour chain record is of an unknown kind.")
        return cls(tuple(values[1:4]), tuple(values[4:13]), values[13])


def chain_for(camera: np.ndarray, meta: RawMeta | None) -> PhotoChain:
    """The photo-look chain of one image (:func:`colour.chain_for`, invertible)."""
    c = colour.chain_for(camera, meta)
    return PhotoChain(c.wb, c.matrix, c.gain)


@dataclasses.dataclass
class PhotoEncode(codec.EncodeResult):
    """An :class:`codec.EncodeResult` with the chain the operators' input went through."""

    chain: PhotoChain | None = None


def encode_segment(record: container.AdapterRecord, chain: PhotoChain) -> bytes:
    """A version 3 segment body: the version 1 records and the colour chain."""
    v1 = container.encode_segment(record, full_metadata=False)
    records = v1[len(IDENTIFIER) + 10 :] + _record(_TAG_COLOUR, chain.to_bytes())
    if len(records) > container.MAX_RECORDS_BYTES:
        raise ParameterSizeError("The adapter parameters do not fit in one JPEG segment.")
    return container.sign_records(records, PHOTO_FORMAT_VERSION)


def decode_segment(body: bytes) -> tuple[container.AdapterRecord, PhotoChain | None]:
    """Parse a version 3 segment body (a version 1 body goes to the core's reader)."""
    head = body[len(IDENTIFIER) :]
    if not body.startswith(IDENTIFIER) or len(head) < 10 or head[0] != PHOTO_FORMAT_VERSION:
        return container.decode_segment(body), None
    _version, _flags, length, crc = struct.unpack_from("<BBII", head, 0)
    records = head[10:]
    if len(records) != length or zlib.crc32(records) != crc:
        raise CorruptParameters("The parameter checksum does not match.")
    recs = container._split_records(records)
    if _TAG_COLOUR not in recs:
        raise CorruptParameters("The photo-look segment misses its colour chain.")
    chain = PhotoChain.from_bytes(recs.pop(_TAG_COLOUR))
    rest = b"".join(_record(t, b) for t, b in recs.items())
    return container.decode_segment(container.sign_records(rest)), chain


def encode_image(
    raw: RawImage,
    quality: int,
    model: AdapterModel,
    searched: bool = True,
    photo: bool | None = None,
) -> PhotoEncode:
    """Encode ``raw`` as a version 3 file when ``photo`` (default: when ``model`` is tagged
    with the photo look), else the core's way."""
    if not (model.info.look == "photo" if photo is None else photo):
        return PhotoEncode(**vars(codec.encode_image(raw, quality, model, searched)))
    t0 = time.perf_counter()
    chain = chain_for(raw.data, raw.meta)
    source = chain.forward(raw.data)
    inputs = model.image_inputs(source, raw.meta)
    found = search.search(source, quality, model, inputs) if searched else None
    pred = found.prediction if found else model.predict_inputs(inputs, quality)
    params = container.quantise(pred.params)
    adapted = fastops.forward_uint8(source, params)
    sub = model.info.subsampling
    plain = jpeg.encode_jpeg(adapted, quality, sub, pred.qtables, raw.meta)  # sRGB pixels
    plain = fullmeta.embed_in_jpeg(plain, raw.meta.full_metadata, raw.meta.orientation)
    record = container.AdapterRecord(
        params, raw.width, raw.height, quality, sub, model.name, raw.meta,
        fingerprint=fingerprint.compute(fingerprint.decode_ycbcr(plain)),
    )  # fmt: skip
    data = jpeg.insert_segment(plain, encode_segment(record, chain))
    for body in container.metadata_segments(raw.meta.full_metadata):
        data = jpeg.insert_segment(data, body)
    result = PhotoEncode(
        data, params, quality, adapted, raw, model.name, pred.qtables,
        len(jpeg.find_segment(data)), {"encode": time.perf_counter() - t0}, chain=chain,
    )  # fmt: skip
    if found:
        result.operator_quality = found.operator_quality
    return result


def decode_bytes(data: bytes) -> codec.Reconstruction:
    """Reconstruct the linear camera RGB from a version 3 file (or any adapter-JPEG)."""
    record, chain = decode_segment(jpeg.find_segment(data))
    if chain is None:
        return codec.decode_bytes(data)
    record.meta.full_metadata = container.join_metadata_segments(
        jpeg.find_segments(data, container.METADATA_IDENTIFIER)
    )
    pixels = jpeg.decode_jpeg(data)
    pixels, state, warnings = codec.check_pixels(data, record, pixels)
    linear = chain.inverse(fastops.inverse_uint8(pixels, record.params))
    return codec.Reconstruction(
        RawImage(linear, record.meta), record, len(data), pixels, {}, state, warnings
    )
