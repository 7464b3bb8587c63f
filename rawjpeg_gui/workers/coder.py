"""Code one image at any quality, reusing what does not depend on the quality (no Qt).

A quality change asks for three answers (:class:`~rawjpeg_gui.workers.session.ImageSession`):
the reconstruction of a screen-sized proxy, the full-resolution reconstruction, then its
numbers. :class:`ImageCoder` makes them for one image and keeps what every quality
shares: the model's inputs (its thumbnail of the raw), the proxy, the preview-sized
image (the error map is measured at that size), and the encoder's search choice (:mod:`rawjpeg_gui.core.search`), which depends on the quality only
through its band (:func:`~rawjpeg_gui.core.search.anchor_quality`), so a choice is made
once per band and image. :meth:`ImageCoder.encode` gives the bytes of
:func:`codec.encode_image <rawjpeg_gui.core.codec.encode_image>`, byte for byte.

The proxy is coded with the operators the full image will be coded with at that quality
when the band's choice is known, else with the model's prediction for the quality (the
search then runs for the full image only); it is a JPEG of the proxy with the same tables,
without the container (no metadata, profile or fingerprint).

:class:`LocalCoder` runs the steps on the calling thread;
:class:`~rawjpeg_gui.workers.encoder_process.EncoderProcess` runs the same steps in a
child process. ``check()`` callbacks, called between steps, raise
:class:`~rawjpeg_gui.core.errors.CancelledError` when the request was superseded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from rawjpeg_gui.core import codec, container, display, fastops, jpeg, search
from rawjpeg_gui.core.errors import CancelledError
from rawjpeg_gui.core.model import AdapterModel, ImageInputs, Prediction
from rawjpeg_gui.core.params import AdapterParams
from rawjpeg_gui.core.rawio import RawImage

from . import jobs
from .preview import PROXY_SIDE, PreviewImage


def _never() -> None:
    """A ``check()`` for requests that are never superseded."""


Check = Callable[[], None]
OnPixels = Callable[[bytes, AdapterParams], None]


class ImageCoder:
    """Codes one linear image at any quality; safe to share between threads.

    Attributes:
        raw: the image.
        model: the adapter model (the bundled one by default).
        searches: how many times the encoder's search ran (once per band of qualities).
    """

    def __init__(self, raw: RawImage, model: AdapterModel | None = None) -> None:
        self.raw = raw
        self.model = model or codec.default_model()
        self.searches = 0
        self._lock = threading.Lock()
        self._inputs: ImageInputs | None = None
        self._proxy: RawImage | None = None
        self._choices: dict[int, search.SearchResult | None] = {}
        self._small: np.ndarray | None = None
        self._last: tuple[bytes, np.ndarray] | None = None  # a coding and its small image

    def inputs(self) -> ImageInputs:
        """The model's inputs for the image (made once)."""
        with self._lock:
            if self._inputs is None:
                self._inputs = search.encoder_inputs(self.model, self.raw.data, self.raw.meta)
            return self._inputs

    def proxy(self) -> RawImage:
        """The image area-averaged to at most :data:`PROXY_SIDE` pixels a side (made once)."""
        with self._lock:
            if self._proxy is None:
                small = display.downsample(self.raw.data, PROXY_SIDE)
                self._proxy = RawImage(np.ascontiguousarray(small, np.float32), self.raw.meta)
            return self._proxy

    def small(self) -> np.ndarray:
        """The image downsampled to ``display.PREVIEW_SIDE`` (made once; the error map's size)."""
        with self._lock:
            if self._small is None:
                self._small = display.downsample(self.raw.data, display.PREVIEW_SIDE)
            return self._small

    def known_choice(self, quality: int) -> search.SearchResult | None:
        """The search's choice for ``quality``'s band if it was made already, else ``None``."""
        with self._lock:
            return self._choices.get(search.anchor_quality(quality))

    def prediction(self, quality: int) -> tuple[Prediction, int]:
        """The operators and tables ``encode_image`` codes ``quality`` with, and the
        quality whose operators they are (the search runs once per band)."""
        inputs = self.inputs()
        anchor = search.anchor_quality(quality)
        with self._lock:
            known = anchor in self._choices
            found = self._choices.get(anchor)
        if not known:
            found = search.search(self.raw.data, quality, self.model, inputs)
            with self._lock:
                self._choices[anchor] = found
                self.searches += 1
        own = search.predict(self.model, inputs, quality)
        if found is None:
            return own, quality
        # The choice depends on the band only; the JPEG tables are always the quality's own.
        return Prediction(found.prediction.params, own.qtables), found.operator_quality

    def encode(
        self, quality: int, check: Check = _never, on_pixels: OnPixels | None = None
    ) -> codec.EncodeResult:
        """The adapter-JPEG of the image at ``quality`` (``codec.encode_image``'s bytes);
        ``on_pixels`` as for :func:`codec.encode_with_params`."""
        t0 = time.perf_counter()
        pred, operator_quality = self.prediction(quality)
        check()
        t1 = time.perf_counter()
        info = self.model.info
        result = codec.encode_with_params(
            self.raw, quality, pred.params, pred.qtables, info.subsampling, self.model.name,
            on_pixels,
        )  # fmt: skip
        result.operator_quality = operator_quality
        result.timings = {"model": t1 - t0, **result.timings}
        return result

    def preview(
        self, quality: int, exposure_ev: float, base_gain: float, check: Check = _never
    ) -> PreviewImage:
        """The reconstruction of the proxy coded at ``quality`` (see the module's docstring)."""
        t0 = time.perf_counter()
        proxy = self.proxy()
        found = self.known_choice(quality)
        own = search.predict(self.model, self.inputs(), quality)
        params = container.quantise(found.prediction.params if found else own.params)
        check()
        adapted = fastops.forward_uint8(proxy.data, params)
        data = jpeg.encode_jpeg(adapted, quality, self.model.info.subsampling, own.qtables)
        check()
        back = fastops.inverse_uint8(jpeg.decode_jpeg(data), params)
        pixels = display.render(back, proxy.meta, exposure_ev, None, base_gain)
        bpp = 8.0 * len(data) / float(proxy.width * proxy.height)
        shown = jobs.screen_pixels(pixels)
        seconds = time.perf_counter() - t0
        return PreviewImage(quality, shown, bpp, seconds, jobs.screen_levels(shown))

    def code(
        self,
        quality: int,
        exposure_ev: float,
        base_gain: float,
        check: Check = _never,
        out: np.ndarray | None = None,
    ) -> jobs.CodedImage:
        """The unmeasured :class:`~rawjpeg_gui.workers.jobs.CodedImage` at ``quality``: the
        adapter-JPEG, its reconstruction (the decoder's, from the bytes) and its preview.

        ``out``: a float32 array of the image's shape (the encoder child's shared block)
        that the inverse operators write the reconstruction into, so it is never copied
        there; the coding's ``reconstruction.data`` is then ``out``. It is not written
        after this returns or raises.
        """
        t0 = time.perf_counter()
        # The reconstruction is decoded (and rendered) from the JPEG's pixels while the
        # encoder adds the fingerprint and the metadata, which leave the pixels alone: the
        # decoder's reconstruction of the finished file, without its fingerprint check
        # (the file's fingerprint was made from these very pixels).
        meta = self.raw.meta
        pool = ThreadPoolExecutor(1, "reconstruct")
        started: list[Future[_Reconstructed]] = []

        def reconstruct(plain: bytes, params: AdapterParams) -> _Reconstructed:
            pixels = jpeg.decode_jpeg(plain)
            check()  # a superseded request's thread stops too
            linear = fastops.inverse_uint8(pixels, params, out=out, check=check)
            check()
            small = display.downsample(linear, display.PREVIEW_SIDE)
            shown = jobs.screen_pixels(display.render(small, meta, exposure_ev, None, base_gain))
            return _Reconstructed(linear, small, shown, jobs.screen_levels(shown))

        def on_pixels(plain: bytes, params: AdapterParams) -> None:
            check()  # raised through the encoder: a superseded encode stops here
            started.append(pool.submit(reconstruct, plain, params))

        try:
            data = self.encode(quality, check, on_pixels).jpeg
            check()
            done = started[0].result()
        finally:
            # A superseded reconstruction stops at its next band; one writing into ``out``
            # is waited for, so that a newer request never shares the block with it.
            pool.shutdown(wait=out is not None)
        record = codec.read_record(data)
        check()
        with self._lock:
            self._last = (data, done.small)
        coded = jobs.CodedImage(
            record.quality, data, record.params, record.model_name,
            RawImage(done.linear, record.meta), done.shown, display_levels=done.levels,
        )  # fmt: skip
        coded.seconds = time.perf_counter() - t0
        return coded

    def measure(self, coded: jobs.CodedImage, check: Check = _never) -> jobs.CodedImage:
        """``coded`` (of this image) with PSNR, SSIM and the error maps
        (:func:`~rawjpeg_gui.workers.jobs.measure`, reusing the downsampled images)."""
        check()
        with self._lock:
            last = self._last
        if last is not None and last[0] == coded.jpeg:
            return jobs.measure(coded, self.raw, small=(self.small(), last[1]), check=check)
        return jobs.measure(coded, self.raw, check=check)


@dataclass
class _Reconstructed:
    """What :meth:`ImageCoder.code` makes from the JPEG's pixels."""

    linear: np.ndarray
    small: np.ndarray
    shown: np.ndarray
    levels: list[np.ndarray]


class LocalCoder:
    """The coding steps of a session on the calling (worker) thread.

    Keeps the :class:`ImageCoder` of the last image it was asked about. ``generation``
    arguments and :meth:`supersede` have the meaning they have for
    :class:`~rawjpeg_gui.workers.encoder_process.EncoderProcess`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._coder: ImageCoder | None = None
        self._generation = 0

    def coder_for(self, raw: RawImage) -> ImageCoder:
        """The :class:`ImageCoder` of ``raw`` (a new one when ``raw`` is another image)."""
        with self._lock:
            if self._coder is None or self._coder.raw is not raw:
                self._coder = ImageCoder(raw)
            return self._coder

    def supersede(self) -> int:
        """Mark every request made so far as stale; returns the new generation."""
        with self._lock:
            self._generation += 1
            return self._generation

    def _check(self, generation: int | None) -> Check:
        def check() -> None:
            if generation is not None and generation != self._generation:
                raise CancelledError("A newer request replaced this one.")

        return check

    def preview(
        self, raw: RawImage, quality: int, ev: float, gain: float, generation: int | None = None
    ) -> PreviewImage:
        """:meth:`ImageCoder.preview` of ``raw``."""
        return self.coder_for(raw).preview(quality, ev, gain, self._check(generation))

    def code(
        self, raw: RawImage, quality: int, ev: float, gain: float, generation: int | None = None
    ) -> jobs.CodedImage:
        """:meth:`ImageCoder.code` of ``raw``."""
        return self.coder_for(raw).code(quality, ev, gain, self._check(generation))

    def measure(
        self, coded: jobs.CodedImage, raw: RawImage, generation: int | None = None
    ) -> jobs.CodedImage:
        """``coded`` measured against ``raw`` (:meth:`ImageCoder.measure`)."""
        return self.coder_for(raw).measure(coded, self._check(generation))

    def close(self) -> None:
        """Forget the image."""
        with self._lock:
            self._coder = None


def measured_fields(coded: jobs.CodedImage) -> dict[str, Any]:
    """What :func:`~rawjpeg_gui.workers.jobs.measure` adds to a CodedImage."""
    names = ("psnr", "ssim", "error", "error_display", "error_vmax", "error_levels")
    return {name: getattr(coded, name) for name in names}
