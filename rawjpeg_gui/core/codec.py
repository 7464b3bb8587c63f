"""Encode a raw into an adapter-JPEG and reconstruct the raw from one: two calls.

``encode_image``: thumbnail -> model (and the encoder's search over its operating
points, :mod:`search`) -> quantised parameters -> forward operators -> 8-bit JPEG
(+ EXIF, metadata, the ICC profile that makes colour-managed viewers show the
photograph (:mod:`icc`), and the parameter segment with the pixel fingerprint).
``decode_bytes``: find and validate the segment -> decode the JPEG -> check the pixels
against the fingerprint (:mod:`fingerprint`: refused when re-encoded or edited, a
lossless rotation undone) -> inverse operators -> linear camera RGB + metadata.
``verify_written`` checks a written file reconstructs as well as the encoder measured.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import colour, container, fastops, fingerprint, fullmeta, icc, jpeg, search
from .errors import (
    ModelError,
    NotAJpeg,
    ParameterSizeError,
    PixelsChanged,
    RawJpegError,
    VerificationError,
)
from .fileio import check_input_file, read_input
from .model import AdapterModel
from .params import AdapterParams
from .quality import check_quality
from .rawio import RawImage, read_raw

#: The JPEG's pixels, 8 bits per channel.
_EIGHT_BIT = np.float32(255.0)
#: Refuse to read adapter-JPEG files larger than this (bytes).
MAX_FILE_BYTES = 512 << 20
#: ``--verify`` fails a file that reconstructs more than this many dB below the encoder's
#: own measurement.
VERIFY_TOLERANCE_DB = 1.0


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
        timings: seconds per stage ("jpeg", "params", "check", "inverse").
        pixel_check: what the fingerprint said: "intact", "rotated" (a lossless rotation
            was undone), "unchecked" (a file written without a fingerprint) or "forced"
            (changed pixels decoded anyway).
        warnings: sentences for the user (a rotation undone, a forced decode).
    """

    raw: RawImage
    record: container.AdapterRecord
    file_bytes: int
    adapted: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    pixel_check: str = "intact"
    warnings: list[str] = field(default_factory=list)

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


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 with rounding."""
    out = np.clip(image, 0.0, 1.0)
    out *= _EIGHT_BIT
    out += np.float32(0.5)
    return np.asarray(out.astype(np.uint8))


def encode_image(
    raw: RawImage,
    quality: int,
    model: AdapterModel | None = None,
    searched: bool = True,
) -> EncodeResult:
    """Encode a linear image as an adapter-JPEG at ``quality`` (1-100) with ``model``.

    ``searched``: let the encoder choose among the model's operating points
    (:func:`search.search`, for models that declare their rate weight); ``False`` uses
    the operators predicted for ``quality`` (:func:`search.predict`).
    """
    quality = check_quality(quality)
    model = model or default_model()
    if model.info.look != "raw":
        raise ModelError(
            f"{model.name} was trained for the {model.info.look!r} look, which this rawjpeg "
            "does not encode (research code: rawjpeg_gui.training.research.photolook)."
        )
    t0 = time.perf_counter()
    inputs = search.encoder_inputs(model, raw.data, raw.meta)
    t1 = time.perf_counter()
    found = search.search(raw.data, quality, model, inputs) if searched else None
    pred = found.prediction if found else search.predict(model, inputs, quality)
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
    on_pixels: Callable[[bytes, AdapterParams], None] | None = None,
) -> EncodeResult:
    """Encode with given parameters (quantised first, exactly as the file will store them).

    ``on_pixels(jpeg, params)``, when given, is called as soon as the JPEG's pixels are
    final (before the fingerprint and the metadata are added), with that JPEG and the
    quantised parameters: a caller may start reconstructing from them meanwhile.
    """
    quality = check_quality(quality)
    t0 = time.perf_counter()
    params = container.quantise(params)
    adapted = fastops.forward_uint8(raw.data, params)
    t1 = time.perf_counter()
    profile = viewer_profile(raw, params)
    plain = jpeg.encode_jpeg(adapted, quality, subsampling, qtables, raw.meta, icc_profile=profile)
    if on_pixels is not None:
        on_pixels(plain, params)
    plain = fullmeta.embed_in_jpeg(plain, raw.meta.full_metadata, raw.meta.orientation)
    record = container.AdapterRecord(
        params, raw.width, raw.height, quality, subsampling, model_name, raw.meta,
        fingerprint=fingerprint.compute(fingerprint.decode_ycbcr(plain)),
    )  # fmt: skip
    try:  # the raw's complete metadata inside the one segment, in separate ones if too large
        data = jpeg.insert_segment(plain, container.encode_segment(record))
    except ParameterSizeError:
        data = jpeg.insert_segment(plain, container.encode_segment(record, full_metadata=False))
        for body in container.metadata_segments(raw.meta.full_metadata):
            data = jpeg.insert_segment(data, body)
    segment_bytes = len(jpeg.find_segment(data))
    t2 = time.perf_counter()
    return EncodeResult(
        data,
        params,
        quality,
        adapted,
        raw,
        model_name,
        qtables,
        segment_bytes,
        {"forward": t1 - t0, "jpeg": t2 - t1},
    )


def viewer_profile(raw: RawImage, params: AdapterParams) -> bytes:
    """The ICC profile that makes colour-managed viewers show a camera-RGB adapter-JPEG
    as the app's rendering of ``raw`` (:mod:`icc`)."""
    meta = raw.meta
    make, model = (meta.make, meta.model) if meta else ("", "")
    camera = model if model.startswith(make) else f"{make} {model}".strip()
    name = f"rawjpeg camera RGB ({camera})" if camera else "rawjpeg camera RGB"
    return icc.camera_profile(params, colour.chain_for(raw.data, meta), name)


def encode_file(
    path: str | os.PathLike[str],
    quality: int,
    model: AdapterModel | None = None,
    searched: bool = True,
) -> EncodeResult:
    """Read a raw file and encode it as an adapter-JPEG; nothing is written.

    Args:
        path: a camera raw (any format LibRaw reads) or a 16-bit linear TIFF/PNG.
        quality: JPEG quality, a whole number from 1 to 100.
        model: the adapter model; default: the bundled one.
        searched: let the encoder choose among the model's operating points
            (see :func:`encode_image`).

    Returns:
        The file's bytes (``result.jpeg``) and how they were made.

    Raises:
        RawDecodeError: the raw cannot be read.
        ModelError: the model is missing or unusable.
        ValueError: ``quality`` is not a whole number from 1 to 100.
    """
    return encode_image(read_raw(path), quality, model, searched)


def read_record(data: bytes, source: str = "The file") -> container.AdapterRecord:
    """Validate and parse the parameter segment of adapter-JPEG bytes (no pixel decoding),
    with the raw's complete metadata from the metadata segments (``meta.full_metadata``).

    ``source`` names the file in the error raised for an unknown format version.
    """
    record = container.decode_segment(jpeg.find_segment(data), source)
    if not record.meta.full_metadata:
        bodies = jpeg.find_segments(data, container.METADATA_IDENTIFIER)
        record.meta.full_metadata = container.join_metadata_segments(bodies)
    return record


def decode_bytes(
    data: bytes, source: str = "The file", force: bool = False, check: bool = True
) -> Reconstruction:
    """Reconstruct the linear raw from adapter-JPEG bytes.

    Args:
        data: the adapter-JPEG file's bytes.
        source: names the file in errors (as in :func:`read_record`).
        force: reconstruct even from pixels that were changed after the file was
            written (a warning says so) instead of raising :class:`PixelsChanged`.
        check: compare the pixels with the fingerprint. ``False`` is for bytes this
            process has just encoded (their pixels are the fingerprinted ones, so the
            reconstruction is the same); ``pixel_check`` then says "unchecked".
    """
    t0 = time.perf_counter()
    record = read_record(data, source)
    t1 = time.perf_counter()
    size = (record.height, record.width)
    frame = jpeg.check_decodable(data)  # before any pixel is decoded: bounded memory
    if (frame.height, frame.width) not in (size, size[::-1]):
        raise NotAJpeg("The JPEG's size does not match the size its parameters were made for.")
    pixels = jpeg.decode_jpeg(data)
    t2 = time.perf_counter()
    if pixels.shape[:2] not in (size, size[::-1]):
        raise NotAJpeg("The JPEG's size does not match the size its parameters were made for.")
    if check:
        pixels, state, warnings = check_pixels(data, record, pixels, force)
    else:
        state, warnings = "unchecked", []
    t3 = time.perf_counter()
    if pixels.shape[:2] != size:
        raise NotAJpeg("The JPEG's size does not match the size its parameters were made for.")
    linear = fastops.inverse_uint8(pixels, record.params)
    t4 = time.perf_counter()
    times = {"params": t1 - t0, "jpeg": t2 - t1, "check": t3 - t2, "inverse": t4 - t3}
    return Reconstruction(
        RawImage(linear, record.meta), record, len(data), pixels, times, state, warnings
    )


def check_pixels(
    data: bytes, record: container.AdapterRecord, pixels: np.ndarray, force: bool = False
) -> tuple[np.ndarray, str, list[str]]:
    """Check decoded ``pixels`` against the record's fingerprint (see :mod:`fingerprint`).

    Returns:
        The pixels in the written orientation, the state ("intact", "rotated",
        "unchecked" or "forced") and warnings for the user.

    Raises:
        PixelsChanged: re-encoded, edited, or rotated in a way that cannot be undone
            exactly, and ``force`` is false.
    """
    if record.fingerprint is None:
        return pixels, "unchecked", []
    stored = fingerprint.parse(record.fingerprint)
    mcu = 16 if record.subsampling == "4:2:0" else 8
    found = fingerprint.match(
        stored, fingerprint.decode_ycbcr(data), record.height, record.width, mcu
    )
    if found.state == "intact":
        return pixels, "intact", []
    if found.state == "rotated":
        note = (
            f"The image was turned {found.rotation} degrees clockwise after it was written; "
            "the turn was undone before reconstructing."
        )
        pixels = fingerprint.turn_back(pixels, found.turns, mcu, record.height, record.width)
        return pixels, "rotated", [note]
    if found.state == "rotated-named":
        problem = (
            f"The image was turned {found.rotation} degrees clockwise after it was written, "
            "which its pixels cannot undo exactly; "
            f"'jpegtran -copy all -rotate {360 - found.rotation}' restores the file"
        )
        if not force:
            raise PixelsChanged(f"{problem}.")
        pixels = fingerprint.turn_back(pixels, found.turns, mcu, record.height, record.width)
        return pixels, "forced", [f"{problem}; decoded anyway, turned back approximately."]
    problem = (
        "The pixels were changed after rawjpeg wrote this file (re-encoded or edited), "
        "so the raw brought back from them is wrong"
    )
    if not force:
        raise PixelsChanged(f"{problem}; decode with --force to get it anyway.")
    return pixels, "forced", [f"{problem}: decoded anyway because it was forced."]


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a file for decoding, with the size cap and one clear error.

    A JPEG XL file made by ``rawjpeg pack`` (:mod:`pack`) gives back the adapter-JPEG
    it holds, byte for byte.
    """
    p = Path(path)
    data = read_input(
        p, MAX_FILE_BYTES, f"{p.name} is larger than any adapter-JPEG rawjpeg writes."
    )
    from . import pack

    return pack.unpack(data) if pack.is_jxl(data) else data


def decode_file(path: str | os.PathLike[str], force: bool = False) -> Reconstruction:
    """Reconstruct the linear raw from an adapter-JPEG file.

    Args:
        path: a JPEG written by :func:`encode_file` (or the ``rawjpeg`` command), or
            its lossless JPEG XL wrapping (``rawjpeg pack``).
        force: reconstruct even from changed pixels (see :func:`decode_bytes`).

    Returns:
        The linear image and camera metadata (``result.raw``) and the stored record.

    Raises:
        RawDecodeError: the file cannot be read.
        NotAJpeg: the file is not a JPEG.
        NotAnAdapterJpeg: a plain JPEG without rawjpeg parameters.
        CorruptParameters: the parameters are damaged or were edited.
        UnsupportedVersion: the parameters are of another format version.
        PixelsChanged: the pixels were changed after the file was written.
    """
    return decode_bytes(read_file_bytes(path), Path(path).name, force)


def reconstruction_psnr(reference: np.ndarray, linear: np.ndarray) -> float:
    """PSNR (dB, peak 1) of a reconstruction, in row bands (no full-size float64 copies)."""
    if reference.shape != linear.shape:
        return float("-inf")
    total = 0.0
    step = max(1, (1 << 20) // max(1, reference.shape[1] * reference.shape[2]))
    for y in range(0, reference.shape[0], step):
        d = reference[y : y + step].astype(np.float32) - linear[y : y + step]
        total += float(np.dot(d.ravel(), d.ravel()))
    mse = total / reference.size
    return float("inf") if mse == 0 else float(-10.0 * np.log10(mse))


@dataclass(frozen=True)
class Verification:
    """What :func:`verify_written` measured (dB).

    Attributes:
        expected_db: PSNR of the encoder's own reconstruction of the bytes it made.
        measured_db: PSNR of the written file decoded as a user would (fingerprint check
            included).
    """

    expected_db: float
    measured_db: float


def verify_written(
    encoded: EncodeResult, written: bytes, tolerance_db: float = VERIFY_TOLERANCE_DB
) -> Verification:
    """Decode ``written`` (the file as it now is on disk) and compare with the encoder.

    The encoder's measurement is the PSNR against the source of what its own bytes
    reconstruct; the written file, decoded through :func:`decode_bytes` as a user
    would (fingerprint check included), must come within ``tolerance_db`` of it.

    Raises:
        VerificationError: the file does not decode, or reconstructs more than
            ``tolerance_db`` below the encoder's measurement.
    """
    source = encoded.raw.data
    try:
        measured = reconstruction_psnr(source, decode_bytes(written).raw.data)
    except RawJpegError as exc:
        raise VerificationError(f"The written file does not decode: {exc}") from None
    if written == encoded.jpeg:  # the same bytes reconstruct the same image
        expected = measured
    else:
        expected = reconstruction_psnr(source, decode_bytes(encoded.jpeg).raw.data)
    if not measured >= expected - tolerance_db:
        raise VerificationError(
            f"The written file reconstructs at {measured:.1f} dB, more than {tolerance_db:g} dB "
            f"below the {expected:.1f} dB the encoder measured."
        )
    return Verification(expected, measured)


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
