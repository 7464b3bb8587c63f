"""The work the GUI hands to threads, as plain functions over core (no Qt here).

Each function takes values and returns a dataclass holding numpy arrays, so it can
run on any thread and be unit-tested without a display. Generators yield a short
progress sentence between steps; the worker checks its abort flag there.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rawjpeg_gui.core import codec, display, evaluate, icc, metrics, rawio
from rawjpeg_gui.core.batch.sources import ANY_SUFFIX, walk_sources
from rawjpeg_gui.core.errors import UnsupportedFileError
from rawjpeg_gui.core.metadata import RawMeta
from rawjpeg_gui.core.params import AdapterParams
from rawjpeg_gui.core.rawio import RawImage

#: Suffixes of files that may be adapter-JPEGs.
JPEG_EXTENSIONS = frozenset({".jpg", ".jpeg"})
#: Qualities of the rate-distortion curve.
RD_QUALITIES = (10, 30, 50, 70, 90, 100)
#: Largest side of the error map sent to the plot.
ERROR_PLOT_SIDE = 512
#: The views' smallest halving of a preview is made from one whose shorter side is
#: above this (:func:`screen_levels`; the same rule as the view's own pyramid).
MIN_LEVEL_SIDE = 64


@dataclass
class CodedImage:
    """An adapter-JPEG of the current image and what it brings back.

    Attributes:
        quality: JPEG quality 1-100.
        jpeg: the adapter-JPEG file's bytes (what "Export" writes).
        params: the operators stored in it.
        model_name: adapter model that made it.
        reconstruction: the linear raw decoded from ``jpeg``.
        display: upright preview of the reconstruction (:func:`screen_pixels` layout).
        psnr, ssim: against the original raw (``None`` without one).
        error: float32 mean absolute error map (upright, at most 512 px), or ``None``.
        error_display: heat-coloured preview-sized error map (uint8), or ``None``.
        error_vmax: the error map's 99.5th percentile (colour scale limit).
        seconds: time the job took.
        display_levels, error_levels: :func:`screen_levels` of ``display`` and of
            ``error_display``.
    """

    quality: int
    jpeg: bytes
    params: AdapterParams
    model_name: str
    reconstruction: RawImage
    display: np.ndarray
    psnr: float | None = None
    ssim: float | None = None
    error: np.ndarray | None = None
    error_display: np.ndarray | None = None
    error_vmax: float = 1e-4
    seconds: float = 0.0
    display_levels: list[np.ndarray] = field(default_factory=list)
    error_levels: list[np.ndarray] = field(default_factory=list)

    @property
    def file_bytes(self) -> int:
        """Size of the adapter-JPEG."""
        return len(self.jpeg)

    @property
    def bpp(self) -> float:
        """Bits per pixel of the adapter-JPEG."""
        raw = self.reconstruction
        return metrics.bits_per_pixel(len(self.jpeg), raw.width, raw.height)


@dataclass
class LoadedImage:
    """A file opened for viewing.

    Attributes:
        path: the file the user opened.
        kind: "raw" or "adapter".
        meta: camera metadata.
        original: the camera raw (for an adapter-JPEG: the raw beside it), or ``None``.
        original_path: where ``original`` came from.
        display: upright preview of the original (or of the stored JPEG's pixels), in
            :func:`screen_pixels` layout.
        base_gain: automatic display gain computed from the original.
        size: full upright (width, height) in pixels.
        stored: for an adapter-JPEG, the reconstruction of the file itself.
        seconds: time the job took.
        notes: remarks for the status bar.
        model: name of the adapter model that codes it.
        display_levels: :func:`screen_levels` of ``display``.
    """

    path: Path
    kind: str
    meta: RawMeta
    original: RawImage | None
    original_path: Path | None
    display: np.ndarray
    base_gain: float
    size: tuple[int, int]
    stored: CodedImage | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    model: str = ""
    display_levels: list[np.ndarray] = field(default_factory=list)


@dataclass
class RenderedViews:
    """Display pixels of both sides after an exposure change or for 1:1 viewing.

    Attributes:
        original: upright pixels of the original (or ``None`` to keep what is shown).
        reconstruction: upright pixels of the reconstruction, or ``None``.
        full: True when rendered at full resolution.
        original_levels, reconstruction_levels: their :func:`screen_levels`.
    """

    original: np.ndarray | None
    reconstruction: np.ndarray | None
    full: bool
    original_levels: list[np.ndarray] = field(default_factory=list)
    reconstruction_levels: list[np.ndarray] = field(default_factory=list)


def screen_pixels(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> H x W x 4 in the memory order of a 32-bit 0xffRRGGBB pixel.

    That is Qt's native ``Format_RGB32``, which it scales and paints several times
    faster than packed RGB; the reordering is done here, off the GUI thread.
    """
    h, w = rgb.shape[:2]
    out = np.empty((h, w, 4), np.uint8)
    order = (2, 1, 0, 3) if sys.byteorder == "little" else (3, 0, 1, 2)
    for src, dst in zip((0, 1, 2), order[:3], strict=True):
        out[..., dst] = rgb[..., src]
    out[..., order[3]] = 255
    return out


def screen_levels(pixels: np.ndarray, min_side: int = MIN_LEVEL_SIDE) -> list[np.ndarray]:
    """Successive halvings (2 x 2 means) of :func:`screen_pixels` output, while the last
    one's shorter side is above ``min_side``.

    A view fitted to the window draws a preview at a fraction of its size, from the
    nearest halving; making them here keeps that scaling off the GUI thread.
    """
    levels: list[np.ndarray] = []
    level = pixels
    while min(level.shape[:2]) > min_side:
        h, w = level.shape[0] // 2, level.shape[1] // 2
        blocks = level[: 2 * h, : 2 * w].reshape(h, 2, w, 2, *level.shape[2:])
        total = blocks.sum(axis=(1, 3), dtype=np.uint16)
        level = ((total + 2) >> 2).astype(np.uint8)
        levels.append(level)
    return levels


def _screen(rgb: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`screen_pixels` of ``rgb`` and their :func:`screen_levels`."""
    pixels = screen_pixels(rgb)
    return pixels, screen_levels(pixels)


def is_supported(path: Path) -> bool:
    """True for camera raws and for JPEGs that carry adapter parameters."""
    suffix = path.suffix.lower()
    if suffix in rawio.RAW_EXTENSIONS:
        return True
    return suffix in JPEG_EXTENSIONS and codec.is_adapter_jpeg(path)


def collect_paths(
    paths: Sequence[str | Path], recursive: bool = True
) -> tuple[list[Path], list[Path]]:
    """Expand files and folders (recursively) into (supported files, unsupported files).

    Folders are walked by the batch's walker (hidden entries, symlink loops and
    non-regular files handled the same way); plain JPEGs (without adapter parameters)
    count as unsupported.
    """
    found: list[Path] = []
    rejected: list[Path] = []
    for source in walk_sources(paths, recursive, [ANY_SUFFIX]):
        p = source.path
        (found if p.is_file() and is_supported(p) else rejected).append(p)
    return found, rejected


def sibling_raw(path: Path) -> Path | None:
    """The camera raw with the same stem next to ``path``, if any."""
    try:
        for candidate in sorted(path.parent.iterdir()):
            if candidate.stem == path.stem and rawio.is_raw_path(candidate) and candidate.is_file():
                return candidate
    except OSError:
        return None
    return None


def _coded_from(
    data: bytes,
    recon: codec.Reconstruction,
    original: RawImage | None,
    ev: float,
    gain: float,
    started: float,
) -> CodedImage:
    """The CodedImage of ``recon`` with its preview, measured against ``original``."""
    coded = unmeasured(data, recon, ev, gain, started)
    return measure(coded, original, started)


def unmeasured(
    data: bytes, recon: codec.Reconstruction, ev: float, gain: float, started: float
) -> CodedImage:
    """The CodedImage of ``recon`` (decoded from ``data``) with its preview, not measured."""
    meta = recon.raw.meta
    small = display.downsample(recon.raw.data, display.PREVIEW_SIDE)
    pixels, levels = _screen(display.render(small, meta, ev, None, gain))
    coded = CodedImage(
        recon.quality,
        data,
        recon.params,
        recon.record.model_name,
        recon.raw,
        pixels,
        display_levels=levels,
    )
    coded.seconds = time.perf_counter() - started
    return coded


def measure(
    coded: CodedImage,
    original: RawImage | None,
    started: float | None = None,
    small: tuple[np.ndarray, np.ndarray] | None = None,
    check: Callable[[], None] = lambda: None,
) -> CodedImage:
    """A copy of ``coded`` with PSNR, SSIM and the error maps against ``original``.

    Without an original (or with one of another size) the copy is unmeasured.
    ``small``: the original and the reconstruction already downsampled to
    ``display.PREVIEW_SIDE`` (the error map's size). ``check()`` is called between the
    measurements (it raises to stop a superseded request).
    """
    t0 = time.perf_counter()
    out = replace(coded)
    recon = coded.reconstruction
    if original is not None and original.data.shape == recon.data.shape:
        meta = recon.meta
        out.psnr = metrics.psnr(original.data, recon.data)
        check()
        out.ssim = metrics.ssim(original.data, recon.data)
        check()
        if small is None:
            error, heat = display.render_error(original.data, recon.data, meta)
        else:
            error, heat = display.render_error(*small, meta, max_side=None)
        out.error_display, out.error_levels = _screen(heat)
        # The plot is small: a <= 512 px map and its colour limit keep the GUI thread light.
        small = display.downsample(error, ERROR_PLOT_SIDE)
        out.error = np.ascontiguousarray(display.orient(small, meta.orientation))
        out.error_vmax = float(np.percentile(small, 99.5)) or 1e-4
    out.seconds = time.perf_counter() - (started if started is not None else t0 - coded.seconds)
    return out


def load_image(path: str | Path, exposure_ev: float = 0.0) -> LoadedImage:
    """Read a camera raw, or reconstruct an adapter-JPEG (and read the raw beside it)."""
    t0 = time.perf_counter()
    p = Path(path)
    if p.suffix.lower() in JPEG_EXTENSIONS:
        data = codec.read_file_bytes(p)
        recon = codec.decode_bytes(data)
        raw_path = sibling_raw(p)
        original = rawio.read_raw(raw_path) if raw_path is not None else None
        source = original if original is not None else recon.raw
        gain = display.auto_gain(source.data, source.meta)
        stored = _coded_from(data, recon, original, exposure_ev, gain, t0)
        meta = recon.raw.meta
        if original is not None:
            shown, levels = _screen(
                display.render(original.data, meta, exposure_ev, base_gain=gain)
            )
        else:
            # What a colour-managed viewer shows: the pixels through the file's profile.
            viewed = icc.to_srgb(recon.adapted, icc.embedded_profile(data))
            shown, levels = _screen(display.orient(viewed, meta.orientation))
        w, h = display.oriented_size(recon.raw.width, recon.raw.height, meta.orientation)
        loaded = LoadedImage(p, "adapter", meta, original, raw_path, shown, gain, (w, h), stored)
        loaded.display_levels = levels
    elif rawio.is_raw_path(p) or p.suffix.lower() in rawio.LINEAR_EXTENSIONS:
        raw = rawio.read_raw(p)
        # One pass over the full image: the preview-sized copy serves the gain and the view.
        small = display.downsample(raw.data, display.PREVIEW_SIDE)
        gain = display.auto_gain(small, raw.meta)
        shown, levels = _screen(display.render(small, raw.meta, exposure_ev, None, gain))
        w, h = display.oriented_size(raw.width, raw.height, raw.meta.orientation)
        loaded = LoadedImage(p, "raw", raw.meta, raw, p, shown, gain, (w, h))
        loaded.display_levels = levels
    else:
        raise UnsupportedFileError(f"{p.name} is neither a camera raw nor a JPEG.")
    loaded.model = codec.default_model().name  # also readies the model for the first encode
    loaded.seconds = time.perf_counter() - t0
    return loaded


def code_image(
    original: RawImage,
    quality: int,
    exposure_ev: float = 0.0,
    base_gain: float = 1.0,
    coder: Coder | None = None,
    generation: int | None = None,
) -> Generator[str | CodedImage, None, CodedImage]:
    """Encode ``original`` at ``quality``, decode it again and measure (a generator).

    Yields progress sentences and, before measuring, the unmeasured :class:`CodedImage`
    (so the view can show the reconstruction while PSNR and SSIM are computed); returns
    the measured one.

    ``coder`` does the steps (by default a :class:`~rawjpeg_gui.workers.coder.LocalCoder`,
    on this thread; the GUI passes an
    :class:`~rawjpeg_gui.workers.encoder_process.EncoderProcess`, which runs them in a
    child process); ``generation`` is the request's, see its ``supersede``.
    """
    if coder is None:
        from .coder import LocalCoder  # which imports this module

        coder = LocalCoder()
    t0 = time.perf_counter()
    yield f"Encoding at quality {quality}…"
    coded = coder.code(original, quality, exposure_ev, base_gain, generation)
    yield coded  # shown at once; the numbers follow
    yield "Measuring…"
    measured = coder.measure(coded, original, generation)
    measured.seconds = time.perf_counter() - t0
    return measured


class Coder(Protocol):
    """What :func:`code_image` and :func:`~rawjpeg_gui.workers.preview.code_preview` ask
    of a coder (:class:`~rawjpeg_gui.workers.coder.LocalCoder`,
    :class:`~rawjpeg_gui.workers.encoder_process.EncoderProcess`)."""

    def supersede(self) -> int:
        """Mark the requests made so far as stale; the new generation."""
        ...

    def preview(
        self, raw: RawImage, quality: int, ev: float, gain: float, generation: int | None = None
    ) -> Any:
        """The proxy's reconstruction at ``quality`` (a PreviewImage)."""
        ...

    def code(
        self, raw: RawImage, quality: int, ev: float, gain: float, generation: int | None = None
    ) -> CodedImage:
        """The unmeasured coding at ``quality``."""
        ...

    def measure(
        self, coded: CodedImage, raw: RawImage, generation: int | None = None
    ) -> CodedImage:
        """``coded`` with PSNR, SSIM and the error maps."""
        ...


def render_views(
    original: RawImage | None,
    reconstruction: RawImage | None,
    exposure_ev: float,
    base_gain: float,
    full: bool = False,
) -> RenderedViews:
    """Re-render both sides (after an exposure change, or at full size for 1:1)."""
    side = None if full else display.PREVIEW_SIDE
    out = [
        _screen(display.render(img.data, img.meta, exposure_ev, side, base_gain))
        if img is not None
        else (None, [])
        for img in (original, reconstruction)
    ]
    return RenderedViews(out[0][0], out[1][0], full, out[0][1], out[1][1])


def rd_points(
    original: RawImage,
    qualities: Sequence[int] = RD_QUALITIES,
    methods: Sequence[str] = evaluate.METHODS,
    cancelled: Callable[[], bool] = lambda: False,
    code_point: Callable[[RawImage, str, int], evaluate.RDPoint] | None = None,
) -> Iterator[evaluate.RDPoint]:
    """Rate-distortion points of the full-resolution ``original`` (a generator).

    They are measured on the same pixels as the inspector's numbers, and the adapter's
    rate counts the whole file as the inspector does (metadata included, unlike
    ``rawjpeg eval``), so the current quality's (bpp, PSNR) falls on the adapter's curve. ``code_point(raw, method, q)``
    replaces the in-thread coding (the GUI sends large images to a child process);
    ``cancelled()`` is asked before each point and may block while the app is busy.
    """
    for method in methods:
        for q in qualities:
            if cancelled():
                return
            if code_point is not None:
                yield code_point(original, method, q)
            else:
                yield evaluate.code_point(original, method, q, with_ssim=False, whole_file=True)[0]
