"""Encode a raw into an adapter-JPEG and reconstruct the raw from one: two calls.

``encode_image``: camera normalisation (:mod:`colour`: white balance, colour matrix,
base exposure, soft clip; the ``"photo"`` look) -> thumbnail -> model (and the
encoder's search over its operating points, :mod:`search`) -> quantised parameters ->
forward operators -> 8-bit JPEG (+ EXIF + parameter segment). ``decode_bytes``: find
and validate the segment -> decode the JPEG -> inverse operators -> inverse
normalisation (files without a colour record skip it) -> linear camera RGB + metadata.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import colour, container, fastops, jpeg, search
from .errors import NotAJpeg, RawDecodeError
from .model import AdapterModel
from .params import AdapterParams
from .rawio import RawImage, read_raw

#: The JPEG's pixels, 8 bits per channel.
_EIGHT_BIT = np.float32(255.0)
#: ``look`` values: "photo" normalises the camera colour first (the JPEG shows the
#: photograph), "raw" codes camera RGB as it is (the JPEG looks dark and green). By
#: default the encoder uses the look the model was trained for (``ModelInfo.look``).
LOOKS = ("photo", "raw")
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
        colour: the camera normalisation applied before the operators (``None``: the
            operators coded camera RGB).
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
    colour: colour.ColourChain | None = None

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


def normalise(raw: RawImage, look: str = "raw") -> tuple[colour.ColourChain | None, np.ndarray]:
    """The chain for ``look`` and the image the operators see (camera RGB for "raw")."""
    if look not in LOOKS:
        raise ValueError(f"The look must be one of {', '.join(LOOKS)}, not {look!r}.")
    if look == "raw":
        return None, raw.data
    chain = colour.chain_for(raw.data, raw.meta)
    return chain, chain.forward(raw.data)


def encode_image(
    raw: RawImage,
    quality: int,
    model: AdapterModel | None = None,
    searched: bool = True,
    look: str | None = None,
) -> EncodeResult:
    """Encode a linear image as an adapter-JPEG at ``quality`` (1-100) with ``model``.

    ``searched``: let the encoder choose among the model's operating points
    (:func:`search.search`, for models that declare their rate weight); ``False`` uses
    the operators predicted for ``quality``. ``look``: see :data:`LOOKS` (``None``: the
    model's own); the model sees the image after the normalisation.
    """
    quality = check_quality(quality)
    model = model or default_model()
    t0 = time.perf_counter()
    chain, source = normalise(raw, look or model.info.look)
    inputs = model.image_inputs(source, raw.meta)
    t1 = time.perf_counter()
    found = search.search(source, quality, model, inputs) if searched else None
    pred = found.prediction if found else model.predict_inputs(inputs, quality)
    t2 = time.perf_counter()
    result = encode_with_params(
        raw, quality, pred.params, pred.qtables, model.info.subsampling, model.name, chain, source
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
    chain: colour.ColourChain | None = None,
    source: np.ndarray | None = None,
) -> EncodeResult:
    """Encode with given parameters (quantised first, exactly as the file will store them).

    ``chain``: the camera normalisation applied before the operators (``None``: they
    act on camera RGB); ``source``: ``chain.forward(raw.data)`` when the caller has it.
    """
    quality = check_quality(quality)
    t0 = time.perf_counter()
    params = container.quantise(params)
    if source is None:
        source = raw.data if chain is None else chain.forward(raw.data)
    adapted = fastops.forward_uint8(source, params)
    t1 = time.perf_counter()
    record = container.AdapterRecord(
        params, raw.width, raw.height, quality, subsampling, model_name, raw.meta, colour=chain
    )
    segment = container.encode_segment(record)
    data = jpeg.encode_jpeg(adapted, quality, subsampling, qtables, raw.meta, segment)
    t2 = time.perf_counter()
    return EncodeResult(
        data, params, quality, adapted, raw, model_name, qtables, len(segment),
        {"forward": t1 - t0, "jpeg": t2 - t1}, colour=chain,
    )


def encode_file(
    path: str | os.PathLike[str],
    quality: int,
    model: AdapterModel | None = None,
    searched: bool = True,
    look: str | None = None,
) -> EncodeResult:
    """Read a raw file and encode it (see :func:`encode_image`); nothing is written."""
    return encode_image(read_raw(path), quality, model, searched, look)


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
    if record.colour is not None:
        linear = record.colour.inverse(linear)
    t3 = time.perf_counter()
    times = {"params": t1 - t0, "jpeg": t2 - t1, "inverse": t3 - t2}
    return Reconstruction(RawImage(linear, record.meta), record, len(data), pixels, times)


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a file for decoding, with the size cap and one clear error."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise NotAJpeg(f"{p.name} is larger than any adapter-JPEG rawjpeg writes.")
        return p.read_bytes()
    except OSError as exc:
        raise RawDecodeError(f"{p.name} could not be read ({exc.strerror or exc}).") from None


def decode_file(path: str | os.PathLike[str]) -> Reconstruction:
    """Reconstruct the linear raw from an adapter-JPEG file."""
    return decode_bytes(read_file_bytes(path))


def is_adapter_jpeg(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a JPEG carrying a rawjpeg parameter segment (cheap check)."""
    try:
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
