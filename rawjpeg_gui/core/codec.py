"""Encode a raw into an adapter-JPEG and reconstruct the raw from one: two calls.

``encode_image``: thumbnail -> model (and the encoder's search over its operating
points, :mod:`search`) -> quantised parameters -> forward operators -> 8-bit JPEG
(+ EXIF + parameter segment). ``decode_bytes``: find and validate the
segment -> decode the JPEG -> inverse operators -> linear image + metadata.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import container, fastops, jpeg, search
from .errors import NotAJpeg
from .fileio import check_input_file, read_input
from .model import AdapterModel
from .params import AdapterParams
from .rawio import RawImage, read_raw

#: The JPEG's pixels, 8 bits per channel.
_EIGHT_BIT = np.float32(255.0)
#: Refuse to read adapter-JPEG files larger than this (bytes).
MAX_FILE_BYTES = 512 << 20


@dataclass
class EncodeResult:
    """An adapter-JPEG and how it was made.

    Attributes:
        jpeg: the complete file's bytes.
        params: the (quantised) parameters stored in it.
        quality: JPEG quality 1-100.
        adapted: uint8 H x W x 3 pixels that were JPEG-coded (what plain viewers show).
        raw: the linear input image.
        model_name: the adapter model used.
        qtables: custom quantisation tables used, or ``None`` for IJG tables.
        payload_bytes: size of the parameter segment (camera metadata included).
        timings: seconds per stage ("thumbnail", "model" (with the search), "forward",
            "jpeg").
        operator_quality: the quality whose predicted operators were used (the search
            may borrow another quality's; the JPEG tables are always ``quality``'s).
    """

    jpeg: bytes
    params: AdapterParams
    quality: int
    adapted: np.ndarray
    raw: RawImage
    model_name: str
    qtables: np.ndarray | None
    payload_bytes: int
    timings: dict[str, float] = field(default_factory=dict)
    operator_quality: int = 0

    def __post_init__(self) -> None:
        self.operator_quality = self.operator_quality or self.quality

    @property
    def bpp(self) -> float:
        """Bits per pixel of the whole file."""
        return 8.0 * len(self.jpeg) / float(self.raw.width * self.raw.height)


@dataclass
class Reconstruction:
    """The linear raw brought back from an adapter-JPEG.

    Attributes:
        raw: reconstructed linear image and the original's metadata.
        record: everything the parameter segment carried.
        file_bytes: size of the adapter-JPEG.
        adapted: the decoded 8-bit JPEG pixels.
        timings: seconds per stage ("jpeg", "params", "inverse").
    """

    raw: RawImage
    record: container.AdapterRecord
    file_bytes: int
    adapted: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def params(self) -> AdapterParams:
        """The operators that were inverted."""
        return self.record.params

    @property
    def quality(self) -> int:
        """JPEG quality the file was written at."""
        return self.record.quality

    @property
    def bpp(self) -> float:
        """Bits per pixel of the adapter-JPEG."""
        return 8.0 * self.file_bytes / float(self.raw.width * self.raw.height)


def check_quality(quality: int) -> int:
    """Return ``quality`` if it is an integer 1-100, else raise ValueError."""
    if isinstance(quality, bool) or int(quality) != quality or not 1 <= int(quality) <= 100:
        raise ValueError(f"The JPEG quality must be a whole number from 1 to 100, not {quality}.")
    return int(quality)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 with rounding."""
    out = np.clip(image, 0.0, 1.0)
    out *= _EIGHT_BIT
    out += np.float32(0.5)
    return out.astype(np.uint8)


def encode_image(
    raw: RawImage, quality: int, model: AdapterModel | None = None, searched: bool = True
) -> EncodeResult:
    """Encode a linear image as an adapter-JPEG at ``quality`` (1-100) with ``model``.

    ``searched``: let the encoder choose among the model's operating points
    (:func:`search.search`, for models that declare their rate weight); ``False`` uses
    the operators predicted for ``quality``.
    """
    quality = check_quality(quality)
    model = model or default_model()
    t0 = time.perf_counter()
    inputs = model.image_inputs(raw.data, raw.meta)
    t1 = time.perf_counter()
    found = search.search(raw.data, quality, model, inputs) if searched else None
    pred = found.prediction if found else model.predict_inputs(inputs, quality)
    t2 = time.perf_counter()
    result = encode_with_params(
        raw, quality, pred.params, pred.qtables, model.info.subsampling, model.name
    )
    if found:  # otherwise EncodeResult already says the slider's own quality
        result.operator_quality = found.operator_quality
    result.timings = {"thumbnail": t1 - t0, "model": t2 - t1, **result.timings}
    return result


def encode_with_params(
    raw: RawImage,
    quality: int,
    params: AdapterParams,
    qtables: np.ndarray | None = None,
    subsampling: str = "4:4:4",
    model_name: str = "",
) -> EncodeResult:
    """Encode with given parameters (quantised first, exactly as the file will store them)."""
    quality = check_quality(quality)
    t0 = time.perf_counter()
    params = container.quantise(params)
    adapted = fastops.forward_uint8(raw.data, params)
    t1 = time.perf_counter()
    record = container.AdapterRecord(
        params, raw.width, raw.height, quality, subsampling, model_name, raw.meta
    )
    segment = container.encode_segment(record)
    data = jpeg.encode_jpeg(adapted, quality, subsampling, qtables, raw.meta, segment)
    t2 = time.perf_counter()
    return EncodeResult(
        data, params, quality, adapted, raw, model_name, qtables, len(segment),
        {"forward": t1 - t0, "jpeg": t2 - t1},
    )


def encode_file(
    path: str | os.PathLike[str], quality: int, model: AdapterModel | None = None, searched: bool = True
) -> EncodeResult:
    """Read a raw file and encode it (see :func:`encode_image`); nothing is written."""
    return encode_image(read_raw(path), quality, model, searched)


def read_record(data: bytes) -> container.AdapterRecord:
    """Validate and parse the parameter segment of adapter-JPEG bytes (no pixel decoding)."""
    return container.decode_segment(jpeg.find_segment(data))


def decode_bytes(data: bytes) -> Reconstruction:
    """Reconstruct the linear raw from adapter-JPEG bytes."""
    t0 = time.perf_counter()
    record = read_record(data)
    t1 = time.perf_counter()
    pixels = jpeg.decode_jpeg(data)
    t2 = time.perf_counter()
    if pixels.shape[:2] != (record.height, record.width):
        raise NotAJpeg("The JPEG's size does not match the size its parameters were made for.")
    linear = fastops.inverse_uint8(pixels, record.params)
    t3 = time.perf_counter()
    times = {"params": t1 - t0, "jpeg": t2 - t1, "inverse": t3 - t2}
    return Reconstruction(RawImage(linear, record.meta), record, len(data), pixels, times)


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a file for decoding, with the size cap and one clear error."""
    p = Path(path)
    return read_input(p, MAX_FILE_BYTES, f"{p.name} is larger than any adapter-JPEG rawjpeg writes.")


def decode_file(path: str | os.PathLike[str]) -> Reconstruction:
    """Reconstruct the linear raw from an adapter-JPEG file."""
    return decode_bytes(read_file_bytes(path))


def is_adapter_jpeg(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a JPEG carrying a rawjpeg parameter segment (cheap check)."""
    try:
        check_input_file(path)  # never open a FIFO or a device
        with open(path, "rb") as fh:
            head = fh.read(1 << 17)
        jpeg.find_segment(head)
        return True
    except Exception:
        return False


_DEFAULT_MODEL: AdapterModel | None = None


def default_model() -> AdapterModel:
    """The bundled adapter model, loaded once per process."""
    global _DEFAULT_MODEL
    if _DEFAULT_MODEL is None:
        _DEFAULT_MODEL = AdapterModel()
    return _DEFAULT_MODEL
